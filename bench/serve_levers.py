"""Run imdemo (run.main) with levers on a large group's push patched in at start-up, to measure each before it is
built (bench/large-levers.md; nothing in imdemo/ changes):

    python bench/serve_levers.py LEVER[,LEVER...]|none [run.py flags...]

- encode_once: a large group's event is encoded to JSON once a commit (in the fan-out), and every connection
  writes that text (a frame of several events joins their texts), instead of json.dumps per connection;
- broadcast: the fan-out writes a large group's event itself to every connection that is caught up (its place
  in the group right before the event, nothing else waiting for it, no write under way, room in its window and
  its socket's buffer), with the websockets library's broadcast(): one encoding of the frame for all of them,
  no wake-up of each connection's push task; the others take the usual way. Implies encode_once;
- raw_frames: as broadcast, and the frame itself made once: a server's frames are not masked, so the same bytes
  are written to every caught-up connection's socket (websockets' broadcast() still frames it for each);
- ack_index: a connection's pending large-group events kept per group in gseq order, so an ACK pops what it
  covers instead of scanning every pending event;
- skip_follow: the push skips the join/leave check when no system message came;
- coalesce_MS: a batch client's push waits MS milliseconds after a wake-up, so the events of several commits
  share one frame (and one ACK);
- lazy_bounds: a poll (or a hello) follows each of the member's large groups without reading their join bounds
  from the database; they are read the first time a read of that group needs them (an idle poll reads none);
- newest_at_once: as lazy_bounds, and the groups' newest gseqs in one MGET instead of a GET each;
- settled_places: as newest_at_once, and a group whose cursor is at the newest gseq just read is not behind (a
  poll reads nothing of it; as measured for short polls: a long poll or a hello must listen before it reads
  the newest gseqs, or a message committed in between waits for the next wake-up).
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class SharedEvent(dict):
    """An event pushed to many connections, with its JSON made once."""

    __slots__ = ("text",)


def encoded(frame) -> str:
    """A frame's JSON, reusing each shared event's (the same text json.dumps makes of it)."""
    if isinstance(frame, SharedEvent):
        return frame.text
    if isinstance(frame, list):
        return "[" + ",".join(encoded(f) for f in frame) + "]"
    return _dumps(frame)


def shared(notice: dict) -> dict:
    """The notice with its large-group events made SharedEvents, each encoded once."""
    if "group_events" not in notice:
        return notice
    events = []
    for event in notice["group_events"]:
        event = SharedEvent(event)
        event.text = _dumps(event)
        events.append(event)
    return {**notice, "group_events": events}


def encode_once() -> None:
    from imdemo.api import ws_server, ws_session

    def _group_notice(self, gid: int, notice: dict) -> None:
        notice = shared(notice)
        for session in list(self._groups.get(gid, ())):
            session.on_notice(notice)

    async def send(self, frame) -> None:
        if self.gateway.note is not None:
            self.gateway.note("WebSocket frame out", uid=self.uid, frame=frame)
        await self.websocket.send(encoded(frame))
    ws_server.WebSocketGateway._group_notice = _group_notice
    ws_session.Session.send = send


def broadcast(raw: bool = False) -> None:
    from websockets.asyncio.server import broadcast as write_all
    from websockets.frames import Frame, Opcode

    from imdemo.api import ws_server, ws_session

    encode_once()
    high_water = 64 * 1024  # a slow reader's socket buffer: it takes the usual way, which waits for it
    window = ws_session.WINDOW

    async def _push(self) -> None:  # Session._push as built, marked busy from a wake-up to its last write
        feed = self.feed
        while True:
            await self.wake.wait()
            self.wake.clear()
            self.writing = True  # events taken and not yet written: the fan-out must not overtake them
            try:
                out = await self._follow(self._hold(feed.arrived_events(window - len(self.pending))))
                while len(self.pending) < window and feed.behind:
                    if out:
                        await self.send_all(out)
                        out = []
                    out += await self._follow(self._hold(await self._read_behind()))
                out += feed.hints
                feed.hints.clear()
                await self.send_all(out)
            finally:
                self.writing = False
    ws_session.Session._push = _push
    ws_session.Session.writing = False

    def caught_up(session, gid: int, gseq: int) -> bool:
        feed, place = session.feed, session.feed.groups.get(gid)
        return (place is not None and place.position == gseq - 1 and not place.unsure and not place.arrived
                and not feed.mine.behind and not feed.hints and not session.wake.is_set() and not session.writing
                and len(session.pending) < ws_session.WINDOW and session.websocket.state.name == "OPEN"
                and session.websocket.transport.get_write_buffer_size() < high_water)

    def _group_notice(self, gid: int, notice: dict) -> None:
        notice = shared(notice)
        events = notice.get("group_events", ())
        direct = []
        for session in list(self._groups.get(gid, ())):
            if len(events) == 1 and caught_up(session, gid, events[0]["gseq"]):
                direct.append(session)
            else:
                session.on_notice(notice)
        if not direct:
            return
        event, now = events[0], time.monotonic()
        for session in direct:
            place = session.feed.groups[gid]
            place.position = place.announced = event["gseq"]
            session.pending.hold([event], now)
            if self.note is not None:
                self.note("WebSocket frame out", uid=session.uid, frame=event)
        if not raw:
            write_all([session.websocket for session in direct], event.text)
            return
        # a server's frames are not masked: one frame's bytes are the same for every connection
        data = Frame(Opcode.TEXT, event.text.encode()).serialize(mask=False)
        for session in direct:
            session.websocket.transport.write(data)
    ws_server.WebSocketGateway._group_notice = _group_notice


def ack_index() -> None:
    from imdemo.api import ws_pending, ws_session

    class Unacked(ws_pending.Unacked):
        """Unacked, with each large group's keys in gseq order beside the dict."""

        def __init__(self):
            super().__init__()
            self._by_group: dict[int, deque] = {}

        def hold(self, events, now):
            for event in events:
                key = ws_pending.key_of(event)
                if key not in self._items and isinstance(key, tuple):
                    self._by_group.setdefault(key[0], deque()).append(key)
                self._items[key] = ws_pending.Pending(event, now, 1, now)
            return events

        def ack_group(self, gid, gseq):
            keys = self._by_group.get(gid)
            while keys and keys[0][1] <= gseq:
                self._items.pop(keys.popleft(), None)

        def clear(self):
            super().clear()
            self._by_group.clear()

    init = ws_session.Session.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.pending = Unacked()
    ws_session.Session.__init__ = __init__


def skip_follow() -> None:
    from imdemo.api import ws_session

    follow = ws_session.Session._follow

    async def _follow(self, events):
        if any("seq" in e and e.get("message", {}).get("kind") == "system" for e in events):
            return await follow(self, events)
        return events
    ws_session.Session._follow = _follow


def coalesce(ms: float):
    def apply() -> None:
        from imdemo.api import ws_session

        wait = ws_session.asyncio.Event.wait

        async def gathering(self):
            await wait(self)
            await asyncio.sleep(ms / 1000)  # the events of the commits meanwhile share the frame
        push = ws_session.Session._push

        async def _push(self):
            if self.array_frames:
                self.wake.wait = gathering.__get__(self.wake)
            return await push(self)
        ws_session.Session._push = _push
    return apply


class Bounds:
    """A member's join bounds in a large group, read from the database the first time a read needs them."""

    def __init__(self, load):
        self._load, self._value = load, None

    def __iter__(self):
        if self._value is None:
            self._value = self._load()
        return iter(self._value)


def lazy_bounds() -> None:
    from imdemo.services import large_sync

    def follow(self, feed, cursors):
        for gid in self.counters.unread(feed.uid):
            newest = self.newest(gid)
            feed.join(gid, min(cursors.get(gid, newest), newest), Bounds(lambda gid=gid: self.bounds(feed.uid, gid)))
    large_sync.LargeGroupSync.follow = follow


def newest_at_once() -> None:
    from imdemo.services import large_sync

    def follow(self, feed, cursors):
        gids = list(self.counters.unread(feed.uid))
        keys = [self.counters.keys.group_newest(gid) for gid in gids]
        for gid, newest in zip(gids, self.counters.client.mget(keys) if keys else [], strict=True):
            newest = self.groups.large.newest(gid) if newest is None else int(newest)
            feed.join(gid, min(cursors.get(gid, newest), newest), Bounds(lambda gid=gid: self.bounds(feed.uid, gid)))
    large_sync.LargeGroupSync.follow = follow


def settled_places() -> None:
    from imdemo.services import large_sync

    def follow(self, feed, cursors):
        gids = list(self.counters.unread(feed.uid))
        keys = [self.counters.keys.group_newest(gid) for gid in gids]
        for gid, newest in zip(gids, self.counters.client.mget(keys) if keys else [], strict=True):
            newest = self.groups.large.newest(gid) if newest is None else int(newest)
            new = gid not in feed.groups
            feed.join(gid, min(cursors.get(gid, newest), newest), Bounds(lambda gid=gid: self.bounds(feed.uid, gid)))
            if new:  # the newest gseq was read just now: the place is behind only when the cursor is short of it
                place = feed.groups[gid]
                place.announced, place.unsure = newest, False
    large_sync.LargeGroupSync.follow = follow


def lever(name: str):
    if name.startswith("coalesce_"):
        return coalesce(float(name.removeprefix("coalesce_")))
    return {"encode_once": encode_once, "broadcast": broadcast, "raw_frames": lambda: broadcast(raw=True),
            "ack_index": ack_index, "skip_follow": skip_follow, "lazy_bounds": lazy_bounds,
            "newest_at_once": newest_at_once, "settled_places": settled_places}[name]


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    for name in argv[0].split(","):
        if name != "none":
            lever(name)()
    import run  # the repository's run.py

    return run.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
