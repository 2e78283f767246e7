"""Run imdemo (run.main) with levers on a large group's push patched in at start-up, to measure each before it is
built (bench/large-levers.md; nothing in imdemo/ changes):

    python bench/serve_levers.py LEVER[,LEVER...]|none [run.py flags...]

- (encode_once, broadcast and raw_frames were measured here and are built: a caught-up connection's events
  are written with the others' in one broadcast(), encoded once, api/ws_fanout.py; their code left with them);
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
import sys
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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
    return {"ack_index": ack_index, "skip_follow": skip_follow, "lazy_bounds": lazy_bounds,
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
