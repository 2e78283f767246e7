"""The storm's connected members (bench/storm.py): one WebSocket each, in processes of their own, as the page
holds a connection.

A member holds the group's messages in arrival order. Its cursors are the seq of its own timeline and, for a
large group (read diffusion, SPEC 15), the group's gseq: an event at or below a cursor was pushed again before
the ACK arrived and is dropped as the page drops it. It ACKs as the page does (web/js/socket.js): its seq once
a frame that brought events of its own timeline; a large group's gseq within GROUP_ACK seconds of a frame that
brought the group's, one ACK for every frame of it since (a small group's events are of its own timeline).
After a close it reconnects with both cursors (hello's since and groups) and sends again what was not answered (the same
client_msg_id, so nothing is stored twice). A gap event (more missed than the server replays) is read from the
group's history, as the page pages it; a message pushed live that the history gave already is dropped.
"""
from __future__ import annotations

import asyncio
import json
import time
from array import array

from websockets.exceptions import ConnectionClosed

from .clients import Http, stamp, ws_open

GROUP_ACK = 0.1  # seconds a large group's ACK waits for more frames to cover (the page's GROUP_ACK_MS)
HOLD_WAIT = 120  # seconds the members wait, once the sends end, to hold every message (not held by then: missed)


class Member:
    """One connected member (see the module)."""

    def __init__(self, ports: tuple[int, int], uid: int, token: str, gid: int, batch: bool, gseq: int | None,
                 ack_every: float = 0.0):
        (self.port, self.ws_port), self.uid, self.token, self.gid, self.batch = ports, uid, token, gid, batch
        self.ack_every = ack_every  # seconds between ACKs of either kind (a lever); 0: as the page does
        self.owed = (False, False)  # ACKs not yet sent: of the member's own timeline, of the group
        self.cursor, self.gseq, self.ws, self.closing = 0, gseq, None, False  # gseq: None for a small group
        self.held = array("q")  # mids of the group's text messages, in the order held
        self.latency = array("f")  # ms from just before each send to this member holding it
        self.unanswered: dict[str, dict] = {}  # send frames without their answer yet, in order
        self.answered: set[str] = set()
        self.from_history: set[int] = set()  # mids a gap's history read gave (a live push of one is dropped)
        self.last_mid = 0  # the newest of the group's messages held, any kind (where a gap's history starts)
        self.repeats = self.gaps = self.frames = self.errors = self.reconnects = self.acks = 0
        self.on_hold = None  # called after each message held (bench/fanout.py waits on it)

    async def connect(self) -> None:
        groups = {str(self.gid): self.gseq} if self.gseq is not None else None
        self.ws = await ws_open(self.ws_port, self.token, self.cursor, batch=self.batch, groups=groups)
        for frame in list(self.unanswered.values()):
            await self.ws.send(json.dumps(frame))

    async def run(self) -> None:
        """Receive until closing; reconnect from the cursors when the server closes the connection."""
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
            mine = group = False
            for frame in parsed if isinstance(parsed, list) else [parsed]:
                took = self._take(frame, now)
                mine, group = mine or took == "seq", group or took == "group"
                if frame.get("type") == "gap" and frame.get("group") == self.gid:
                    await self._gap(frame)
            if self.ack_every:
                self.owed = (self.owed[0] or mine, self.owed[1] or group)
                continue
            await self._ack(mine, False)
            if group and not self.owed[1]:
                self.owed = (False, True)
                asyncio.get_running_loop().call_later(GROUP_ACK, lambda: asyncio.ensure_future(self._ack_group()))

    async def _ack_group(self) -> None:
        """The large group's ACK a frame made due (the page's ackLater)."""
        self.owed = (False, False)
        try:
            await self._ack(False, True)
        except (ConnectionClosed, AttributeError):  # reconnecting: the hello's cursors say it all
            pass

    async def _ack(self, mine: bool, group: bool) -> None:
        if mine:
            await self.ws.send(json.dumps({"type": "ack", "seq": self.cursor}))
        if group:
            await self.ws.send(json.dumps({"type": "ack", "group": self.gid, "gseq": self.gseq}))
        self.acks += mine + group

    async def ack_late(self) -> None:
        """Send what is owed every ack_every seconds: one cumulative ACK covers every frame since the last."""
        while not self.closing:
            await asyncio.sleep(self.ack_every)
            owed, self.owed = self.owed, (False, False)
            try:
                await self._ack(*owed)
            except (ConnectionClosed, AttributeError):  # reconnecting: the hello's cursors say it all
                pass

    async def send(self, frame: dict) -> None:
        """Send a frame that expects an answer; one the connection loses is sent again after reconnecting."""
        self.unanswered[frame["client_msg_id"]] = frame
        try:
            await self.ws.send(json.dumps(frame))
        except (ConnectionClosed, AttributeError):  # closed, or reconnecting: sent again by connect()
            pass

    def _take(self, frame: dict, now: float) -> str | None:
        """Handle one event; return "seq" or "group" for a message event to acknowledge that way, else None."""
        kind = frame.get("type")
        if kind in ("sent", "error") and frame.get("client_msg_id") in self.unanswered:
            self.unanswered.pop(frame["client_msg_id"])
            if kind == "sent":
                self.answered.add(frame["client_msg_id"])
            else:
                self.errors += 1
        if kind != "message":
            return None
        if "seq" in frame:  # the member's own timeline (a small group's message, a system message)
            if frame["seq"] <= self.cursor:  # sent again before our ACK arrived: the page drops it
                self.repeats += 1
                return "seq"
            self.cursor = frame["seq"]
            self._hold(frame["message"], now)
            return "seq"
        if frame.get("group") != self.gid:
            return "group"
        if self.gseq is not None and frame["gseq"] <= self.gseq:
            self.repeats += 1
            return "group"
        self.gseq = frame["gseq"]
        self._hold(frame["message"], now)
        return "group"

    def _hold(self, m: dict, now: float) -> None:
        if m.get("group") != self.gid or m["mid"] in self.from_history:
            return
        self.last_mid = max(self.last_mid, m["mid"])
        if m.get("kind") == "text" and m["content"].startswith("t="):
            self.held.append(m["mid"])
            self.latency.append((now - float(m["content"][2:])) * 1000)
            if self.on_hold is not None:
                self.on_hold(len(self.held))

    async def _gap(self, gap: dict) -> None:
        """Read what the gap skipped from the group's history (after the newest message held), as the page does;
        the cursor moves to the gap's newest gseq, as the server's has."""
        self.gaps += 1
        self.gseq = max(self.gseq or 0, gap["gseq"])
        pages = await asyncio.to_thread(history_after, self.port, self.token, self.gid, self.last_mid)
        for m in pages:
            self._hold(m, float("nan"))  # no latency: read, not pushed
            self.from_history.add(m["mid"])

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()

    def report(self) -> dict:
        return {"uid": self.uid, "held": self.held.tolist(), "repeats": self.repeats, "gaps": self.gaps,
                "frames": self.frames, "reconnects": self.reconnects, "acks": self.acks}


def history_after(port: int, token: str, gid: int, after: int) -> list[dict]:
    """Every message of group gid after mid `after`, ascending, page by page."""
    http, out = Http(port, token), []
    try:
        while True:
            page = http.ok("GET", f"/api/groups/{gid}/messages?after={after}&limit=100")
            out += page["messages"]
            if not page["has_more"] or not page["messages"]:
                return out
            after = page["messages"][-1]["mid"]
    finally:
        http.close()


def members_main(ports: tuple[int, int], people: list[tuple[int, str]], gid: int, gseq: int | None, batch: bool,
                 plans: list[list[float]], ack_every: float, pipe) -> None:
    """A process of connected members: connect, report ready, the first len(plans) send on their schedules,
    report what each held."""
    asyncio.run(_members(ports, people, gid, gseq, batch, plans, ack_every, pipe))


async def _members(ports, people, gid, gseq, batch, plans, ack_every, pipe) -> None:
    members = [Member(ports, uid, token, gid, batch, gseq, ack_every) for uid, token in people]
    for m in members:
        await m.connect()
    tasks = [asyncio.create_task(m.run()) for m in members]
    tasks += [asyncio.create_task(m.ack_late()) for m in members if ack_every]
    pipe.send("ready")
    offset = await asyncio.to_thread(pipe.recv)  # the senders' plans are relative to the start the bench sets
    cpu = time.process_time()  # the load generator's own CPU: it shares the machine with the server
    await asyncio.gather(*(_send(members[i], [offset + t for t in plan]) for i, plan in enumerate(plans)))
    await _until(lambda: not any(m.unanswered for m in members), 60)
    pipe.send((sum(len(m.answered) for m in members), sum(m.errors + len(m.unanswered) for m in members),
               sorted(cid for m in members for cid in m.answered)))
    expected = await asyncio.to_thread(pipe.recv)  # how many text messages the group holds, once sends end
    await _until(lambda: all(len(m.held) >= expected for m in members), HOLD_WAIT)
    latencies = array("f", (x for m in members for x in m.latency if x == x))  # history reads carry none (NaN)
    pipe.send(([m.report() for m in members], latencies.tobytes(), time.process_time() - cpu))
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
