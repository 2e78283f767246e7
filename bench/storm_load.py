"""The storm's load (bench/storm.py, bench/profile.py storm): its database, its connected members, its senders.

- The database is built before the server starts: the schema as the server creates it, then raw sqlite3
  inserts of the users (one password hash for all) and a live session for each, so no scrypt login runs
  while anything is measured. The group itself is made through the API, as a user makes one.
- The connected members run in a process of their own (asyncio, one WebSocket each), acknowledging as
  the page does: `batch: true` at hello (or not), the cursor ACKed once a frame. Each keeps the group
  messages it holds in arrival order, a seq seen before (a retransmission) dropped as the page drops it.
- The senders are members too: half send WebSocket `send` frames on their own member's connection (in
  that process), half POST over HTTP from threads of the bench's process, each on a fixed schedule (the
  whole group's rate, evenly spread), each message carrying its send time.
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import secrets
import sqlite3
import threading
import time
from array import array
from pathlib import Path

from websockets.exceptions import ConnectionClosed

from .clients import PASSWORD, Http, stamp, ws_open

FIRST_UID = 1000
DAY_MS = 86_400_000


def build(path: Path, members: int) -> list[tuple[int, str]]:
    """Create a database of `members` users, each with a live session; return their (uid, token)."""
    from imdemo.services.auth import token_hash
    from imdemo.services.passwords import hash_password
    from imdemo.store.database import open_database

    open_database(f"sqlite:///{path}").close_all()  # the schema, exactly as the server creates it
    now, password = int(time.time() * 1000), hash_password(PASSWORD)  # one 16 MiB scrypt for everyone
    people = [(FIRST_UID + i, secrets.token_urlsafe(32)) for i in range(members)]
    db = sqlite3.connect(path)
    with db:
        db.executemany("INSERT INTO im_user (uid, username, nickname, password_hash, avatar, seq, created_at)"
                       " VALUES (?, ?, ?, ?, '', 0, ?)",
                       [(uid, f"storm_{uid}", f"member {uid}", password, now) for uid, _ in people])
        db.executemany("INSERT INTO im_session (token_hash, uid, created_at, expires_at) VALUES (?, ?, ?, ?)",
                       [(token_hash(token), uid, now, now + DAY_MS) for uid, token in people])
    db.close()
    return people


def schedule(index: int, senders: int, rate: float, start_at: float, seconds: float) -> list[float]:
    """The send times of sender index: rate/senders a second each, the senders evenly interleaved."""
    gap = senders / rate
    first = start_at + index / rate
    return [first + k * gap for k in range(int((start_at + seconds - first) / gap) + 1)
            if first + k * gap < start_at + seconds]


class Member:
    """One connected member, as the page is: holds the group's messages in arrival order, dropping a seq it
    holds already; ACKs the cursor once a frame; after a close, reconnects from its cursor and sends again
    what was not answered (the same client_msg_id, so nothing is stored twice)."""

    def __init__(self, ws_port: int, uid: int, token: str, gid: int, batch: bool):
        self.ws_port, self.uid, self.token, self.gid, self.batch = ws_port, uid, token, gid, batch
        self.cursor, self.ws, self.closing = 0, None, False
        self.held = array("q")  # mids of the group's text messages, in the order held
        self.latency = array("f")  # ms from just before each send to this member holding it
        self.unanswered: dict[str, dict] = {}  # send frames without their answer yet, in order
        self.answered: set[str] = set()
        self.repeats = self.gaps = self.frames = self.errors = self.reconnects = 0

    async def connect(self) -> None:
        self.ws = await ws_open(self.ws_port, self.token, self.cursor, batch=self.batch)
        for frame in list(self.unanswered.values()):
            await self.ws.send(json.dumps(frame))

    async def run(self) -> None:
        """Receive until closing; reconnect from the cursor when the server closes the connection."""
        while True:
            try:
                await self._receive()
            except ConnectionClosed:
                pass
            if self.closing:
                return
            self.reconnects += 1
            await asyncio.sleep(0.1)
            try:
                await self.connect()
            except (OSError, ConnectionClosed, RuntimeError, asyncio.TimeoutError):
                self.ws = None

    async def _receive(self) -> None:
        if self.ws is None:
            raise ConnectionClosed(None, None)
        async for raw in self.ws:
            now = time.time()
            parsed = json.loads(raw)
            self.frames += 1
            if any([self._take(frame, now) for frame in (parsed if isinstance(parsed, list) else [parsed])]):
                await self.ws.send(json.dumps({"type": "ack", "seq": self.cursor}))

    async def send(self, frame: dict) -> None:
        """Send a frame that expects an answer; one the connection loses is sent again after reconnecting."""
        self.unanswered[frame["client_msg_id"]] = frame
        try:
            await self.ws.send(json.dumps(frame))
        except (ConnectionClosed, AttributeError):  # closed, or reconnecting: sent again by connect()
            pass

    def _take(self, frame: dict, now: float) -> bool:
        """Handle one event; return whether it was a message event (to acknowledge)."""
        kind = frame.get("type")
        if kind in ("sent", "error") and frame.get("client_msg_id") in self.unanswered:
            self.unanswered.pop(frame["client_msg_id"])
            if kind == "sent":
                self.answered.add(frame["client_msg_id"])
            else:
                self.errors += 1
        if kind != "message":
            return False
        seq = frame["seq"]
        if seq <= self.cursor:  # sent again before our ACK arrived: the page drops it
            self.repeats += 1
            return True
        self.gaps += seq != self.cursor + 1
        self.cursor = seq
        m = frame["message"]
        if m.get("group") == self.gid and m.get("kind") == "text" and m["content"].startswith("t="):
            self.held.append(m["mid"])
            self.latency.append((now - float(m["content"][2:])) * 1000)
        return True

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()

    def report(self) -> dict:
        return {"uid": self.uid, "held": self.held.tolist(), "repeats": self.repeats, "gaps": self.gaps,
                "frames": self.frames, "reconnects": self.reconnects}


def members_main(ws_port: int, people: list[tuple[int, str]], gid: int, batch: bool, ws_senders: int,
                 senders: int, rate: float, pipe) -> None:
    """The connected members' process: connect, report ready, send on schedule, report what each held."""
    asyncio.run(_members(ws_port, people, gid, batch, ws_senders, senders, rate, pipe))


async def _members(ws_port, people, gid, batch, ws_senders, senders, rate, pipe) -> None:
    members = [Member(ws_port, uid, token, gid, batch) for uid, token in people]
    for m in members:
        await m.connect()
    tasks = [asyncio.create_task(m.run()) for m in members]
    pipe.send("ready")
    start_at, seconds = await asyncio.to_thread(pipe.recv)
    plans = [schedule(i, senders, rate, start_at, seconds) for i in range(ws_senders)]
    await asyncio.gather(*(_send(members[i], plans[i]) for i in range(ws_senders)))
    await _until(lambda: not any(m.unanswered for m in members), 60)
    pipe.send((sum(len(m.answered) for m in members), sum(m.errors + len(m.unanswered) for m in members)))
    expected = await asyncio.to_thread(pipe.recv)  # how many text messages the group holds, once sends end
    await _until(lambda: all(len(m.held) >= expected for m in members), 30)
    pipe.send(([m.report() for m in members], array("f", (x for m in members for x in m.latency)).tobytes()))
    for m in members:
        await m.close()
    for task in tasks:
        task.cancel()


async def _until(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


async def _send(member: Member, times: list[float]) -> None:
    for k, due in enumerate(times):
        await asyncio.sleep(max(0.0, due - time.time()))
        await member.send({"type": "send", "group": member.gid, "content": stamp(),
                           "client_msg_id": f"w{member.uid}-{k}"})


class HttpSenders:
    """The HTTP senders: one thread and one keep-alive connection each, on their schedules."""

    def __init__(self, port: int, people: list[tuple[int, str]], gid: int, first_index: int, senders: int,
                 rate: float):
        self.port, self.people, self.gid = port, people, gid
        self.first_index, self.senders, self.rate = first_index, senders, rate
        self.sent = self.errors = 0
        self.request_ms: list[float] = []
        self.request_at: list[float] = []  # when each request started (time.time())
        self._lock = threading.Lock()

    def run(self, start_at: float, seconds: float) -> None:
        """Send until the schedules end; return once every thread has."""
        threads = [threading.Thread(target=self._one, args=(i, uid, token, start_at, seconds))
                   for i, (uid, token) in enumerate(self.people, start=self.first_index)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def _one(self, index: int, uid: int, token: str, start_at: float, seconds: float) -> None:
        http = Http(self.port, token)
        try:
            for k, due in enumerate(schedule(index, self.senders, self.rate, start_at, seconds)):
                time.sleep(max(0.0, due - time.time()))
                started, at = time.perf_counter(), time.time()
                status, _ = http.call("POST", f"/api/groups/{self.gid}/messages",
                                      {"content": stamp(), "client_msg_id": f"h{uid}-{k}"})
                with self._lock:
                    self.request_ms.append((time.perf_counter() - started) * 1000)
                    self.request_at.append(at - start_at)
                    self.sent, self.errors = (self.sent + 1, self.errors) if status == 201 else (
                        self.sent, self.errors + 1)
        finally:
            http.close()


class Storm:
    """One storm on a running server: the group, the connected members' process, the senders."""

    def __init__(self, server, people: list[tuple[int, str]], connected: int, senders: int, rate: float,
                 batch: bool = True):
        self.server, self.people, self.connected, self.senders = server, people, connected, senders
        self.rate, self.batch = rate, batch
        owner = Http(server.port, people[0][1])
        try:  # the first member makes the group of everyone, through the API
            self.gid = owner.ok("POST", "/api/groups", {"name": "storm", "members": [u for u, _ in people[1:]]}
                                )["group"]["gid"]
        finally:
            owner.close()

    def run(self, seconds: float, on_start=None) -> dict:
        """Run the load for seconds; return what it sent and what every connected member held."""
        ws_senders = self.senders // 2  # the first half send over WebSocket, the second half over HTTP
        mp = multiprocessing.get_context("spawn")
        pipe, child = mp.Pipe()
        proc = mp.Process(target=members_main, args=(self.server.ws_port, self.people[:self.connected], self.gid,
                                                     self.batch, ws_senders, self.senders, self.rate, child))
        proc.start()
        try:
            if not pipe.poll(120) or pipe.recv() != "ready":
                raise RuntimeError("the connected members did not start")
            http = HttpSenders(self.server.port, self.people[ws_senders:self.senders], self.gid, ws_senders,
                               self.senders, self.rate)
            start_at = time.time() + 1.0
            pipe.send((start_at, seconds))
            time.sleep(max(0.0, start_at - time.time()))
            cpu, started = self.server.cpu_seconds(), time.monotonic()
            if on_start is not None:
                on_start()
            http.run(start_at, seconds)
            if not pipe.poll(90):
                raise RuntimeError("the WebSocket senders did not finish")
            ws_sent, ws_errors = pipe.recv()
            sending = time.monotonic() - started
            expected = self.expected()
            pipe.send(len(expected))
            if not pipe.poll(60):
                raise RuntimeError("the connected members did not report")
            members, latencies = pipe.recv()
            cpu, elapsed = self.server.cpu_seconds() - cpu, time.monotonic() - started
        finally:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
                proc.join()
        return {"expected": expected, "members": members, "latency": array("f", latencies).tolist(),
                "http": http, "ws_sent": ws_sent, "ws_errors": ws_errors, "sending_seconds": sending,
                "cpu_seconds": cpu, "elapsed": elapsed}

    def expected(self) -> list[int]:
        """The group's text messages in gseq order, read from the database file (read-only)."""
        db = read_only(self.server.database)
        try:
            return [mid for (mid,) in db.execute("SELECT mid FROM im_msg_content WHERE recipient_id = ? AND"
                                                 " msg_type = 0 ORDER BY gseq", (-self.gid,))]
        finally:
            db.close()


def read_only(url: str) -> sqlite3.Connection:
    """Open a sqlite:/// database for reading only (the server keeps writing it)."""
    return sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
