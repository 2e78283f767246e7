"""API layer: one WebSocket connection after its hello: push, ACK and retransmission, heartbeat, frames.

Every message event pushed stays pending until the client's cumulative ACK covers it. One not covered
within ack_timeout is sent again with the same seq, at most ack_retries more times; then the connection
is closed with 4408 and the client resumes from the seq it holds. At most WINDOW events are pending at
once: a slow reader gets the rest from the database after it catches up, so memory stays bounded.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from dataclasses import dataclass, field

from ..services import Services
from ..services.auth import token_hash
from ..services.errors import BadInput, ImdemoError, Unauthorized, unavailable_causes
from ..services.sync import following
from .ws_frames import error_frame, parse, read_call, send_call

WINDOW = 256  # unacknowledged message events per connection
MAX_HINTS = 256  # live hints waiting to be written, per connection
SESSION_CHECK = 60.0  # seconds between checks that the connection's session is still alive
CLOSE_TIMEOUT = 4408
CLOSE_UNAUTHORIZED = 4401


@dataclass
class Pending:
    event: dict
    sent_at: float
    sends: int = 1
    first_sent: float = 0.0

    def __post_init__(self):
        self.first_sent = self.first_sent or self.sent_at


@dataclass(eq=False)  # compared and hashed by identity: the gateway keeps a set of them
class Session:
    """The server's state of one authenticated connection; freed with it."""

    websocket: object
    services: Services
    uid: int
    token: str
    cursor: int  # the highest seq pushed (or held by the client at hello)
    heartbeat: float
    ack_timeout: float
    ack_retries: int
    run_blocking: object  # runs a blocking service call off the event loop
    note: object = None  # the inspector's note(name, **info), when it is on
    batch: bool = False  # the client asked at hello for several events in one frame (a JSON array)
    announced: int = 0  # the highest seq named by a notice
    unsure: bool = True  # whether more may lie after the cursor than notices named (at hello, after a lost
    # subscription, after a full page): then the next read asks Redis for the newest seq first
    pending: dict[int, Pending] = field(default_factory=dict)
    arrived: deque = field(default_factory=lambda: deque(maxlen=WINDOW))  # message events notices brought
    hints: deque = field(default_factory=lambda: deque(maxlen=MAX_HINTS))
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_heard: float = field(default_factory=time.monotonic)
    closed_why: str = ""  # the reason this side closed with, once it has
    unavailable: tuple = field(default_factory=unavailable_causes)

    @property
    def token_hash(self) -> str:
        return token_hash(self.token)

    def describe(self, now: float) -> dict:
        """What the inspector shows of this connection: whose, how far, how long silent, each pending ACK."""
        host, port = self.websocket.remote_address[:2]
        return {"uid": self.uid, "peer": f"{host}:{port}", "cursor": self.cursor,
                "silent_for": round(now - self.last_heard, 1),
                "pending": [{"seq": seq, "age": round(now - item.first_sent, 1), "sends": item.sends}
                            for seq, item in sorted(self.pending.items())]}

    def on_notice(self, notice: dict) -> None:
        """Take a notice from the pub/sub thread (scheduled onto the loop): new seq, hints, or wake."""
        if notice.get("logout") and notice["logout"] == self.token_hash:
            asyncio.ensure_future(self._close(CLOSE_UNAUTHORIZED, "logged out"))
            return
        self.hints.extend(notice.get("hints", ()))
        self.arrived.extend(notice.get("events", ()))
        if "seq" in notice:
            self.announced = max(self.announced, notice["seq"])
        elif notice.get("type") == "wake":  # notices may have been missed
            self.unsure = True
        self.wake.set()

    async def run(self) -> None:
        """Serve the connection until it closes: read frames, push events, watch the timers."""
        tasks = [asyncio.create_task(coro) for coro in (self._read(), self._push(), self._watch())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise what ended the connection, if anything
        finally:
            for task in tasks:
                task.cancel()
            self.pending.clear()

    async def send(self, frame: dict | list) -> None:
        if self.note is not None:
            self.note("WebSocket frame out", uid=self.uid, frame=frame)
        await self.websocket.send(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))

    async def send_all(self, frames: list[dict]) -> None:
        """Write frames in order: in one frame (a JSON array) when the client asked for it and there are
        several (a busy group's commit brings several events at once: one write and one wake-up of the
        client instead of one each), else one frame each. Each message event is still ACKed by its seq."""
        if self.batch and len(frames) > 1:
            await self.send(frames)
            return
        for frame in frames:
            await self.send(frame)

    async def _push(self) -> None:
        """Write live hints and every message event after the cursor, in seq order, within the window."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            out = self._take_arrived()
            while len(self.pending) < WINDOW and (self.unsure or self.announced > self.cursor):
                room, newer_exists, self.unsure = WINDOW - len(self.pending), not self.unsure, False
                if out:  # what the notices brought goes first, in seq order
                    await self.send_all(out)
                    out = []
                events = await self.run_blocking(self.services.sync.events_after, self.uid, self.cursor, room,
                                                 newer_exists)
                out += self._hold(events)
                if len(events) == room:
                    self.unsure = True  # a full page: more may lie beyond, read once the window has room
                elif not events:
                    self.announced = min(self.announced, self.cursor)  # nothing there after all
            out += self.hints  # after the events they may describe (an unread count, a read marker)
            self.hints.clear()
            await self.send_all(out)

    def _take_arrived(self) -> list[dict]:
        """The message events that notices brought and that follow the cursor, as far as the window has room:
        no database read for them. The rest (after a gap, or past the window) is read by seq."""
        run = following(self.arrived, self.cursor, WINDOW - len(self.pending))
        self.arrived.clear()
        return self._hold(run)

    def _hold(self, events: list[dict]) -> list[dict]:
        """Keep events pending until acknowledged, and move the cursor past them; return them to be sent."""
        for event in events:
            self.pending[event["seq"]] = Pending(event, time.monotonic())
            self.cursor = event["seq"]
        return events

    async def _watch(self) -> None:
        """Retransmit what is overdue; close a connection that stays silent or never acknowledges."""
        tick = max(0.01, min(self.ack_timeout, self.heartbeat) / 5)
        session_checked = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - self.last_heard > 3 * self.heartbeat:
                return await self._close(CLOSE_TIMEOUT, "heartbeat timeout")
            if now - session_checked > min(SESSION_CHECK, 2 * self.heartbeat):
                session_checked = now  # a logout closes at once (a notice); an expiry is found here
                if not await self._session_alive():
                    return await self._close(CLOSE_UNAUTHORIZED, "session ended")
            overdue = [item for item in self.pending.values() if now - item.sent_at >= self.ack_timeout]
            if any(item.sends > self.ack_retries for item in overdue):
                return await self._close(CLOSE_TIMEOUT, "ack timeout")
            for item in overdue:
                item.sends += 1
                item.sent_at = now
                if self.note is not None:
                    self.note("WebSocket retransmission", uid=self.uid, seq=item.event["seq"], sends=item.sends)
            await self.send_all([item.event for item in overdue])

    def _as_caller(self, change, *args):
        """Make a change as this connection's user, checking first that the session still lives (in the same
        worker call: a frame that writes is refused the moment its session has ended, not a minute later)."""
        self.services.auth.authenticate(self.token)
        return change(self.uid, *args)

    async def _session_alive(self) -> bool:
        try:
            await self.run_blocking(self.services.auth.authenticate, self.token)
        except Unauthorized:
            return False
        except self.unavailable:  # the store is away for a moment: check again next time
            pass
        return True

    async def _close(self, code: int, reason: str) -> None:
        if self.note is not None:
            self.note(f"WebSocket closed: {reason}", uid=self.uid, code=code)
        self.closed_why = reason
        self.pending.clear()  # freed now, not after the peer answers the close
        await self.websocket.close(code, reason)

    async def _read(self) -> None:
        async for raw in self.websocket:
            self.last_heard = time.monotonic()
            if self.note is not None:
                self.note("WebSocket frame in", uid=self.uid, frame=raw if isinstance(raw, str) else repr(raw[:64]))
            frame = None
            try:
                frame = parse(raw)
                reply = await self._handle(frame)
            except ImdemoError as e:
                if isinstance(e, Unauthorized):
                    return await self._close(CLOSE_UNAUTHORIZED, e.code)
                reply = error_frame(frame, e)
            except self.unavailable:
                reply = {"type": "error", "code": "unavailable", "message": "the service is busy; try again"}
            if reply is not None:
                await self.send(reply)

    async def _handle(self, frame: dict) -> dict | None:
        kind = frame.get("type")
        if kind == "ping":
            return {"type": "pong"}
        if kind == "ack":
            return await self._ack(frame.get("seq"))
        if kind == "send":
            send, to = send_call(self.services, frame)
            message, _ = await self.run_blocking(self._as_caller, send, to, frame.get("content"),
                                                 frame.get("client_msg_id"))
            return {"type": "sent", "client_msg_id": message["client_msg_id"], "message": message}
        if kind == "read":
            mark, of = read_call(self.services, frame)
            await self.run_blocking(self._as_caller, mark, of, frame.get("up_to"))
            return None
        raise BadInput(f"unknown frame type {kind!r}", "unknown_type")

    async def _ack(self, seq) -> None:
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise BadInput("ack needs a whole-number seq", "invalid_seq")
        seq = min(seq, self.cursor)  # nobody acknowledges what was never sent
        was_full = len(self.pending) >= WINDOW
        received = False  # whether this ACK covers a 1:1 message sent to this user (a delivered receipt is due;
        # a group shows who has read instead, so its messages' ACKs cost nothing more)
        for done in [s for s in self.pending if s <= seq]:
            received = self.pending.pop(done).event["message"].get("to") == self.uid or received
        if was_full:
            self.wake.set()  # the window has room again
        if received:  # the user's own sends coming back need no receipt; a later ACK records past them
            await self.run_blocking(self.services.sync.acknowledge_pushed, self.uid, seq)

