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
from dataclasses import dataclass, field

from ..services.auth import token_hash
from ..services.errors import BadInput, ImdemoError, Unauthorized
from ..services.feed import Feed
from .ws_frames import error_frame, parse, read_call, send_call
from .ws_signals import FRAMES, signal_call, signal_reply

WINDOW = 256  # unacknowledged message events per connection
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
    """The server's state of one authenticated connection; freed with it. What to push next is its Feed's to
    say (services/feed.py, the same cursor the long poll uses); this holds the connection's own state: what
    waits for an ACK, when the peer was last heard, how it closed."""

    websocket: object
    gateway: object  # the WebSocketGateway: services, config, run_blocking, note
    uid: int
    token: str
    feed: Feed
    array_frames: bool = False  # the client asked at hello ("batch") for several events in one frame, a JSON array
    pending: dict[int, Pending] = field(default_factory=dict)  # pushed message events awaiting their ACK, by seq
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_heard: float = field(default_factory=time.monotonic)
    closed_why: str = ""  # the reason this side closed with, once it has

    @property
    def token_hash(self) -> str:
        return token_hash(self.token)

    def describe(self, now: float) -> dict:
        """What the inspector shows of this connection: whose, how far, how long silent, each pending ACK."""
        host, port = self.websocket.remote_address[:2]
        return {"uid": self.uid, "peer": f"{host}:{port}", "cursor": self.feed.position,
                "silent_for": round(now - self.last_heard, 1),
                "pending": [{"seq": seq, "age": round(now - item.first_sent, 1), "sends": item.sends}
                            for seq, item in sorted(self.pending.items())]}

    def on_notice(self, notice: dict) -> None:
        """Take a notice from the pub/sub thread (scheduled onto the loop): new seq, hints, or wake."""
        if notice.get("logout") and notice["logout"] == self.token_hash:
            asyncio.ensure_future(self._close(CLOSE_UNAUTHORIZED, "logged out"))
            return
        self.feed.take(notice)
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
        if self.gateway.note is not None:
            self.gateway.note("WebSocket frame out", uid=self.uid, frame=frame)
        await self.websocket.send(json.dumps(frame, ensure_ascii=False, separators=(",", ":")))

    async def send_all(self, frames: list[dict]) -> None:
        """Write frames in order: in one frame (a JSON array) when the client asked for it and there are
        several (a busy group's commit brings several events at once: one write and one wake-up of the
        client instead of one each), else one frame each. Each message event is still ACKed by its seq."""
        if self.array_frames and len(frames) > 1:
            await self.send(frames)
            return
        for frame in frames:
            await self.send(frame)

    async def _push(self) -> None:
        """Write live hints and every message event after the cursor, in seq order, within the window."""
        feed, sync = self.feed, self.gateway.services.sync
        while True:
            await self.wake.wait()
            self.wake.clear()
            out = self._hold(feed.arrived_events(WINDOW - len(self.pending)))  # no database read for these
            while len(self.pending) < WINDOW and feed.behind:
                if out:  # what the notices brought goes first, in seq order
                    await self.send_all(out)
                    out = []
                since, limit, newer_exists = feed.page(WINDOW - len(self.pending))
                events = await self.gateway.run_blocking(sync.events_after, self.uid, since, limit, newer_exists)
                out += self._hold(feed.read(events, limit))
            out += feed.take_hints()  # after the events they may describe (an unread count, a read marker)
            await self.send_all(out)

    def _hold(self, events: list[dict]) -> list[dict]:
        """Keep events pending until acknowledged; return them to be sent."""
        now = time.monotonic()
        for event in events:
            self.pending[event["seq"]] = Pending(event, now)
        return events

    async def _watch(self) -> None:
        """Retransmit what is overdue; close a connection that stays silent or never acknowledges."""
        timers = self.gateway.config
        tick = max(0.01, min(timers.ack_timeout, timers.heartbeat) / 5)
        session_checked = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            if now - self.last_heard > 3 * timers.heartbeat:
                return await self._close(CLOSE_TIMEOUT, "heartbeat timeout")
            if now - session_checked > min(SESSION_CHECK, 2 * timers.heartbeat):
                session_checked = now  # a logout closes at once (a notice); an expiry is found here
                if not await self._session_alive():
                    return await self._close(CLOSE_UNAUTHORIZED, "session ended")
            overdue = [item for item in self.pending.values() if now - item.sent_at >= timers.ack_timeout]
            if any(item.sends > timers.ack_retries for item in overdue):
                return await self._close(CLOSE_TIMEOUT, "ack timeout")
            for item in overdue:
                item.sends += 1
                item.sent_at = now
                if self.gateway.note is not None:
                    self.gateway.note("WebSocket retransmission", uid=self.uid, seq=item.event["seq"], sends=item.sends)
            await self.send_all([item.event for item in overdue])

    def _as_caller(self, change, *args):
        """Make a change as this connection's user, checking first that the session still lives (in the same
        worker call: a frame that writes is refused the moment its session has ended, not a minute later)."""
        self.gateway.services.auth.authenticate(self.token)
        return change(self.uid, *args)

    async def _session_alive(self) -> bool:
        try:
            await self.gateway.run_blocking(self.gateway.services.auth.authenticate, self.token)
        except Unauthorized:
            return False
        except self.gateway.unavailable:  # the store is away for a moment: check again next time
            pass
        return True

    async def _close(self, code: int, reason: str) -> None:
        if self.gateway.note is not None:
            self.gateway.note(f"WebSocket closed: {reason}", uid=self.uid, code=code)
        self.closed_why = reason
        self.pending.clear()  # freed now, not after the peer answers the close
        await self.websocket.close(code, reason)

    async def _read(self) -> None:
        async for raw in self.websocket:
            self.last_heard = time.monotonic()
            if self.gateway.note is not None:
                shown = raw if isinstance(raw, str) else repr(raw[:64])
                self.gateway.note("WebSocket frame in", uid=self.uid, frame=shown)
            frame = None
            try:
                frame = parse(raw)
                reply = await self._handle(frame)
            except ImdemoError as e:
                if isinstance(e, Unauthorized):
                    return await self._close(CLOSE_UNAUTHORIZED, e.code)
                reply = error_frame(frame, e)
            except self.gateway.unavailable:
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
            send, conversation = send_call(self.gateway.services, frame)
            message, _ = await self.gateway.run_blocking(self._as_caller, send, conversation, frame.get("content"),
                                                         frame.get("client_msg_id"), frame.get("mentions"))
            return {"type": "sent", "client_msg_id": message["client_msg_id"], "message": message}
        if kind == "read":
            mark, conversation = read_call(self.gateway.services, frame)
            await self.gateway.run_blocking(self._as_caller, mark, conversation, frame.get("up_to"))
            return None
        if kind in FRAMES:  # recall, edit, typing
            call, args = signal_call(self.gateway.services, frame)
            return signal_reply(frame, await self.gateway.run_blocking(self._as_caller, call, *args))
        raise BadInput(f"unknown frame type {kind!r}", "unknown_type")

    async def _ack(self, seq) -> None:
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise BadInput("ack needs a whole-number seq", "invalid_seq")
        seq = min(seq, self.feed.position)  # nobody acknowledges what was never sent
        was_full = len(self.pending) >= WINDOW
        received = False  # whether this ACK covers a 1:1 message sent to this user (a delivered receipt is due;
        # a group shows who has read instead, so its messages' ACKs cost nothing more)
        for done in [s for s in self.pending if s <= seq]:
            received = self.pending.pop(done).event.get("message", {}).get("to") == self.uid or received
        if was_full:
            self.wake.set()  # the window has room again
        if received:  # the user's own sends coming back need no receipt; a later ACK records past them
            await self.gateway.run_blocking(self.gateway.services.sync.acknowledge_pushed, self.uid, seq)

