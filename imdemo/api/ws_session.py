"""API layer: one WebSocket connection after its hello: push, ACK and retransmission (timers in ws_timers.py), frames.

Every message event pushed stays pending until the client's cumulative ACK covers it. One not covered
within ack_timeout is sent again with the same seq, at most ack_retries more times; then the connection
is closed with 4408 and the client resumes from the seq it holds. At most WINDOW events are pending at
once: a slow reader gets the rest from the database after it catches up, so memory stays bounded.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from websockets.protocol import State

from ..services.auth import token_hash
from ..services.delivery_watch import NO_WATCH, PushWatch
from ..services.feed import Feed
from ..services.large_sync import apply
from .ws_frames import CLOSE_UNAUTHORIZED, encode
from .ws_inbound import FramesIn
from .ws_pending import Unacked
from .ws_timers import Timers

WINDOW = 256  # unacknowledged message events per connection


@dataclass(eq=False)  # compared and hashed by identity: the gateway keeps a set of them
class Session(FramesIn, Timers):
    """The server's state of one authenticated connection; freed with it. What to push next is its Feed's to
    say (services/feed.py, the same cursor the long poll uses); this holds the connection's own state: what
    waits for an ACK, when the peer was last heard, how it closed."""

    websocket: object
    gateway: object  # the WebSocketGateway: services, config, run_blocking, note
    uid: int
    token: str
    feed: Feed
    array_frames: bool = False  # the client asked at hello ("batch") for several events in one frame, a JSON array
    pending: Unacked = field(default_factory=Unacked)  # pushed events awaiting their ACK
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    last_heard: float = field(default_factory=time.monotonic)
    closed_why: str = ""  # the reason this side closed with, once it has
    writing: bool = False  # the push task took events and has not written them all yet
    followed: set[int] = field(default_factory=set)  # the large groups whose events the gateway hands this
    watch: PushWatch = field(default_factory=lambda: NO_WATCH.connection(0))  # its metrics and message trace

    @property
    def window(self) -> int:
        """Pushed events awaiting an ACK at most: a slow reader gets the rest from the database later."""
        return WINDOW

    @property
    def token_hash(self) -> str:
        return token_hash(self.token)

    def describe(self, now: float) -> dict:
        """What the inspector shows of this connection: whose, how far, how long silent, each pending ACK."""
        host, port = self.websocket.remote_address[:2]
        return {"uid": self.uid, "peer": f"{host}:{port}", "cursor": self.feed.position,
                "silent_for": round(now - self.last_heard, 1),
                "pending": self.pending.describe(now)}

    def on_notice(self, notice: dict) -> None:
        """Take a notice from the pub/sub thread (scheduled onto the loop): new seq, hints, or wake."""
        if notice.get("logout") and notice["logout"] == self.token_hash:
            asyncio.ensure_future(self._close(CLOSE_UNAUTHORIZED, "logged out"))
            return
        self.feed.take(notice)
        self.watch.noticed(notice)
        self.wake.set()

    def follow_groups(self) -> None:
        """Hear the large groups the feed follows, and no others (after a join or a leave)."""
        live = self.feed.live_groups()  # not those ending: read from the database up to the leave
        for gid in live - self.followed:
            self.gateway.fanout.follow(gid, self)
        for gid in self.followed - live:
            self.gateway.fanout.unfollow(gid, self)
        self.followed = live

    def unfollow_groups(self) -> None:
        for gid in self.followed:
            self.gateway.fanout.unfollow(gid, self)
        self.followed = set()

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
        await self.websocket.send(encode(frame))

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
        """Write live hints and every message event after the cursors (the user's seq, each large group's gseq),
        in order, within the window."""
        while True:
            await self.wake.wait()
            self.wake.clear()
            self.writing = True  # events taken and not yet written: the group fan-out must not overtake them
            try:
                await self._push_once()
            finally:
                self.writing = False

    async def _push_once(self) -> None:
        feed = self.feed
        out = await self._follow(self._hold(feed.arrived_events(WINDOW - len(self.pending))))  # no reads for them
        while len(self.pending) < WINDOW and feed.behind:
            if out:  # what the notices brought goes first, in order
                await self.send_all(out)
                out = []
            out += await self._follow(self._hold(await self._read_behind()))
        out += feed.take_hints()  # after the events they may describe (an unread count, a read marker)
        await self.send_all(out)

    def caught_up(self, gid: int, first: int, count: int, high_water: int) -> bool:
        """Whether one commit's count events of large group gid, from gseq first on, may be written to this
        connection at once, beside its push task (ws_fanout.py): they continue its place in the group, nothing
        else is waiting or being written, they fit its window, and its socket's buffer is short. Asked of every
        connection in the group for every commit: the cheapest questions first."""
        feed = self.feed
        place = feed.groups.get(gid)
        if place is None or place.ending or place.position != first - 1 or self.writing or self.wake.is_set():
            return False
        if place.arrived or feed.hints or feed.behind or len(self.pending) + count > WINDOW:
            return False
        websocket = self.websocket
        return websocket.state is State.OPEN and websocket.transport.get_write_buffer_size() < high_water

    def take_directly(self, gid: int, events: list[dict], notices: list[dict], now: float) -> None:
        """Take events that caught_up() allowed (of the notices of one or more commits), as pushed now: the place
        moves past them, they wait for the ACK (retransmitted when it does not come, as any push) and the watch
        times them from the oldest commit."""
        for notice in notices:
            self.watch.noticed(notice)
        place = self.feed.groups[gid]
        place.position = place.announced = events[-1]["gseq"]
        self.watch.pushing(events, "broadcast")
        self.pending.hold(events, now)

    async def _read_behind(self) -> list[dict]:
        """Read from the database what the feed is behind in: its own timeline by seq first (alone: a join or a
        leave there, followed before the next read, starts or ends a large group), then each large group by gseq.
        The places move on this thread; only the reads run in the pool."""
        feed, sync, events = self.feed, self.gateway.services.sync, []
        if feed.mine.behind:
            since, limit, newer_exists = feed.page(WINDOW - len(self.pending))
            return feed.read(await self.gateway.run_blocking(sync.events_after, self.uid, since, limit,
                                                             newer_exists), limit)
        for place in feed.groups_behind():
            since, limit, newer_exists = place.page(max(1, WINDOW - len(self.pending) - len(events)))
            events += feed.read_group(place, await self.gateway.run_blocking(
                sync.large.events_after, place.gid, since, place.bounds, limit, newer_exists), limit)
        return events

    async def _follow(self, events: list[dict]) -> list[dict]:
        """Follow the large groups the user's own events say they joined or left (asked off the loop, for a
        group's membership change only)."""
        for event in events:
            message = event.get("message", {})
            if "seq" in event and message.get("kind") == "system":
                change = await self.gateway.run_blocking(self.gateway.services.sync.large.change_of, self.uid, message)
                apply(self.feed, change)
        self.follow_groups()
        return events

    def _hold(self, events: list[dict]) -> list[dict]:
        """Keep events pending until acknowledged (by seq; a large group's by gid and gseq); return them."""
        self.watch.pushing(events)
        return self.pending.hold(events, time.monotonic())
