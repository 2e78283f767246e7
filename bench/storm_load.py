"""The storm's load (bench/storm.py, bench/profile.py storm): its group, its connected members, its senders.

- The database is built before the server starts (crowd.py: the users, one password hash for all, and a live
  session for each, so no scrypt login runs while anything is measured). A large group (read diffusion) is
  built there too, by imdemo's GroupService (10,000 members do not fit in one request); a small one is made
  through the API by its first member, as a user makes one (and as an older revision, --baseline, can).
- The connected members run in processes of their own (storm_member.py: asyncio, one WebSocket each),
  acknowledging as the page does.
- The senders are members too: half send WebSocket `send` frames on their own member's connection (in the
  first members' process), half POST over HTTP from threads of the bench's process, each on a fixed schedule
  (the whole group's rate, evenly spread), each message carrying its send time.
"""
from __future__ import annotations

import math
import multiprocessing
import sqlite3
import threading
import time
from array import array

from .clients import Http, stamp
from .storm_member import HOLD_WAIT, members_main

PER_PROCESS = 125  # connected members a client process holds (500 online: four processes)


def schedule(index: int, senders: int, rate: float, start_at: float, seconds: float) -> list[float]:
    """The send times of sender index: rate/senders a second each, the senders evenly interleaved."""
    gap = senders / rate
    first = start_at + index / rate
    return [first + k * gap for k in range(int((start_at + seconds - first) / gap) + 1)
            if first + k * gap < start_at + seconds]


class HttpSenders:
    """The HTTP senders: one thread and one keep-alive connection each, on their schedules."""

    def __init__(self, port: int, people: list[tuple[int, str]], gid: int, first_index: int, senders: int,
                 rate: float):
        self.port, self.people, self.gid = port, people, gid
        self.first_index, self.senders, self.rate = first_index, senders, rate
        self.sent = self.errors = 0
        self.acknowledged: list[str] = []  # client_msg_ids the server answered 201: stored, never to be lost
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
                    if status == 201:
                        self.acknowledged.append(f"h{uid}-{k}")
                    self.request_ms.append((time.perf_counter() - started) * 1000)
                    self.request_at.append(at - start_at)
                    self.sent, self.errors = (self.sent + 1, self.errors) if status == 201 else (
                        self.sent, self.errors + 1)
        finally:
            http.close()


class Storm:
    """One storm on a running server: the group (made through the API unless gid names one built before the
    server started), the connected members' processes, the senders."""

    def __init__(self, server, people: list[tuple[int, str]], connected: int, senders: int, rate: float,
                 batch: bool = True, gid: int | None = None, ack_every: float = 0.0):
        self.server, self.people, self.connected, self.senders = server, people, connected, senders
        self.rate, self.batch, self.gid, self.ack_every = rate, batch, gid, ack_every
        owner = Http(server.port, people[0][1])
        try:
            if gid is None:  # the first member makes the group of everyone, through the API
                self.gid = owner.ok("POST", "/api/groups", {"name": "storm", "members": [u for u, _ in people[1:]]}
                                    )["group"]["gid"]
            # a large group's members follow it by gseq from where a new client starts: /api/contacts' groups_seq
            self.gseq = owner.ok("GET", "/api/contacts").get("groups_seq", {}).get(str(self.gid))
        finally:
            owner.close()

    def _processes(self, mp, seconds: float) -> list[tuple]:
        """Start the connected members' processes, the WebSocket senders (the first half of the senders) in the
        first; return (process, pipe) of each."""
        ws_senders, online = self.senders // 2, self.people[:self.connected]
        plans = [schedule(i, self.senders, self.rate, 0.0, seconds) for i in range(ws_senders)]
        ports, out = (self.server.port, self.server.ws_port), []
        count = max(1, math.ceil(len(online) / PER_PROCESS))
        for k in range(count):
            pipe, child = mp.Pipe()
            share = online[k * len(online) // count:(k + 1) * len(online) // count]
            proc = mp.Process(target=members_main, args=(ports, share, self.gid, self.gseq, self.batch,
                                                         plans if k == 0 else [], self.ack_every, child))
            proc.start()
            out.append((proc, pipe))
        return out

    def run(self, seconds: float, on_start=None) -> dict:
        """Run the load for seconds; return what it sent and what every connected member held."""
        ws_senders, mp = self.senders // 2, multiprocessing.get_context("spawn")
        procs = self._processes(mp, seconds)
        try:
            for _, pipe in procs:
                if not pipe.poll(180) or pipe.recv() != "ready":
                    raise RuntimeError("the connected members did not start")
            http = HttpSenders(self.server.port, self.people[ws_senders:self.senders], self.gid, ws_senders,
                               self.senders, self.rate)
            start_at = time.time() + 1.0
            for _, pipe in procs:
                pipe.send(start_at)
            time.sleep(max(0.0, start_at - time.time()))
            cpu, started = self.server.cpu_seconds(), time.monotonic()
            if on_start is not None:
                on_start()
            http.run(start_at, seconds)
            answers = [_receive(pipe, 90, "the WebSocket senders did not finish") for _, pipe in procs]
            sending = time.monotonic() - started
            expected = self.expected()
            for _, pipe in procs:
                pipe.send(len(expected))
            reports = [_receive(pipe, HOLD_WAIT + 60, "the connected members did not report") for _, pipe in procs]
            cpu, elapsed = self.server.cpu_seconds() - cpu, time.monotonic() - started
        finally:
            for proc, _ in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.terminate()
                    proc.join()
        latencies = array("f")
        for _, raw, _ in reports:
            latencies.frombytes(raw)
        return {"expected": expected, "members": [m for members, *_ in reports for m in members],
                "clients_cpu_seconds": sum(r[2] for r in reports), "client_processes": len(procs),
                "latency": latencies.tolist(), "http": http, "ws_sent": sum(a[0] for a in answers),
                "ws_errors": sum(a[1] for a in answers), "acknowledged": [*http.acknowledged, *answers[0][2]],
                "sending_seconds": sending, "cpu_seconds": cpu, "elapsed": elapsed}

    def expected(self) -> list[int]:
        """The group's text messages in gseq order, read from the database file (read-only)."""
        db = read_only(self.server.database)
        try:
            return [mid for (mid,) in db.execute("SELECT mid FROM im_msg_content WHERE recipient_id = ? AND"
                                                 " msg_type = 0 ORDER BY gseq", (-self.gid,))]
        finally:
            db.close()


def _receive(pipe, seconds: float, failure: str):
    if not pipe.poll(seconds):
        raise RuntimeError(failure)
    return pipe.recv()


def read_only(url: str) -> sqlite3.Connection:
    """Open a sqlite:/// database for reading only (the server keeps writing it)."""
    return sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
