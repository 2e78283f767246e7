"""Services layer: one delivery cursor for every transport that waits (SPEC sections 5 and 15). A Feed is a
client's place in its timeline: the seq it holds, the newest seq notices announced, and the message events they
brought; and, for each large group it is in, its place in that group's own timeline by gseq (the compound
cursor: read diffusion has no per-user seq). The WebSocket session and the long poll each drive one the same
way: take what notices brought when it continues the cursor (no database read), read the rest from the
database, by seq or by gseq.

A Feed is not thread-safe: its owner hands it each notice on its own thread (the WebSocket on its event
loop, the long poll on the request's thread through an Inbox), and reads the database off it with page() and
read(), so the blocking read itself needs none of its state.
"""
from __future__ import annotations

import threading
from collections import deque

MAX_HINTS = 256  # live hints waiting to be written, per connection


class Place:
    """A place in one timeline: the highest position handed out, the highest a notice announced, the events
    notices brought, and whether more may lie beyond than notices named."""

    def __init__(self, position: int, window: int, key: str):
        self.position, self.announced, self.unsure, self.key = position, 0, True, key
        self.arrived: deque = deque(maxlen=window)

    @property
    def behind(self) -> bool:
        return self.unsure or self.announced > self.position

    def take(self, events, announced: int) -> None:
        self.arrived.extend(events)
        self.announced = max(self.announced, announced)

    def arrived_events(self, room: int) -> list[dict]:
        run = following(self.arrived, self.position, room, self.key)
        self.arrived.clear()
        return self.advance(run)

    def page(self, room: int) -> tuple[int, int, bool]:
        newer_exists, self.unsure = not self.unsure, False
        return self.position, room, newer_exists

    def read(self, events: list[dict], limit: int) -> list[dict]:
        if len(events) == limit:
            self.unsure = True  # a full page: more may lie beyond
        elif not events:
            self.announced = min(self.announced, self.position)  # nothing there after all
        return self.advance(events)

    def advance(self, events: list[dict]) -> list[dict]:
        if events:
            self.position = max(self.position, events[-1][self.key])
        return events


class GroupPlace(Place):
    """A place in a large group's own timeline, within the member's join bounds (mids). An assumed place is the
    server's guess (the group's newest), not a cursor the client gave: a join in the user's own timeline that
    the client has not seen yet moves it back to the join. An ending place is a group the user left or was
    removed from: what came before the message that ended it is still theirs, so it is read from the database
    up to that message (notices may bring what lies past it, and are not taken), and then it ends."""

    def __init__(self, gid: int, position: int, bounds: tuple[int, int], window: int, assumed: bool = False):
        super().__init__(position, window, "gseq")
        self.gid, self.bounds, self.assumed, self.ending = gid, bounds, assumed, False

    def end(self, mid: int) -> None:
        """The user left at message mid: close the bounds before it (the user's own timeline carries that message)
        and read what is left of them."""
        self.bounds = (self.bounds[0], min(self.bounds[1], mid - 1))
        self.ending = self.unsure = True
        self.arrived.clear()

    def take(self, events, announced: int) -> None:
        if not self.ending:
            super().take(events, announced)


class Feed:
    """A client's way through its timeline after a seq, and through each of its large groups' after a gseq."""

    def __init__(self, uid: int, position: int, window: int):
        self.uid, self.window = uid, window
        self.mine = Place(position, window, "seq")
        self.groups: dict[int, GroupPlace] = {}
        self.hints: deque = deque(maxlen=MAX_HINTS)  # live hints notices brought (the WebSocket pushes them)

    @property
    def position(self) -> int:
        """The highest seq of the user's own timeline handed out (or held by the client)."""
        return self.mine.position

    @property
    def announced(self) -> int:
        return self.mine.announced

    def join(self, gid: int, gseq: int, bounds: tuple[int, int], assumed: bool = False) -> None:
        """Follow large group gid from gseq on (a place kept as it is when the feed follows it already)."""
        if gid not in self.groups:
            self.groups[gid] = GroupPlace(gid, gseq, bounds, self.window, assumed)

    def leave(self, gid: int) -> None:
        self.groups.pop(gid, None)

    def end(self, gid: int, mid: int) -> None:
        """The user left large group gid at message mid: follow it up to there, then no more."""
        place = self.groups.get(gid)
        if place is not None:
            place.end(mid)

    def live_groups(self) -> set[int]:
        """The large groups followed whose notices matter: not those ending (read from the database)."""
        return {gid for gid, place in self.groups.items() if not place.ending}

    def take(self, notice: dict) -> None:
        """Take a notice for this user: its events, its hints, the seq it announces, a large group's events,
        or a wake-up."""
        self.hints.extend(notice.get("hints", ()))
        if "events" in notice or "seq" in notice:
            self.mine.take(notice.get("events", ()), notice.get("seq", 0))
        for event in notice.get("group_events", ()):
            place = self.groups.get(event["group"])
            if place is not None:
                place.take((event,), event["gseq"])
        if notice.get("type") == "wake":  # notices may have been missed
            for place in (self.mine, *self.groups.values()):
                place.unsure = True

    def take_hints(self) -> list[dict]:
        """The live hints notices brought, in order, to be written after the events they came with; of several
        unread counts of one conversation only the last. Each is the count right after its own message, and the
        events of every notice taken so far go out before them: a page that took an earlier count after the
        later messages (which it counts itself) would lower its badge below the truth."""
        hints = list(self.hints)
        self.hints.clear()
        last = {_counted(h): i for i, h in enumerate(hints) if h.get("type") == "unread"}
        return [h for i, h in enumerate(hints) if h.get("type") != "unread" or last[_counted(h)] == i]

    @property
    def behind(self) -> bool:
        """Whether events may lie after a position that only the database has."""
        return self.mine.behind or any(place.behind for place in self.groups.values())

    def arrived_events(self, room: int) -> list[dict]:
        """The events notices brought that continue their places, at most room: no database read for them.
        What does not follow (a gap, past room) is read instead."""
        events = self.mine.arrived_events(room)
        for gid, mid in filter(None, (left_group(self.uid, event) for event in events)):
            self.end(gid, mid)  # the user left or was removed: nothing of the group after it, even if it came along
        if self.mine.behind:  # its own timeline first, from the database: a leave there ends a group before its
            return events     # events are taken (they wait, or are read again after it)
        for place in self.groups.values():
            events += place.arrived_events(room - len(events))
        return events

    def page(self, room: int) -> tuple[int, int, bool]:
        """What to read of the user's own timeline next: (since, limit, whether a notice named a newer seq)."""
        return self.mine.page(room)

    def read(self, events: list[dict], limit: int) -> list[dict]:
        """Take the events a page() read returned; return them."""
        return self.mine.read(events, limit)

    def groups_behind(self) -> list[GroupPlace]:
        return [place for place in self.groups.values() if place.behind]

    def read_group(self, place: GroupPlace, events: list[dict], limit: int) -> list[dict]:
        """Take the events a place's page() read returned; return them. An ending place that read a short page
        has nothing more: it ends."""
        events = place.read(events, limit)
        if place.ending and not place.unsure:
            self.leave(place.gid)
        return events

    def cursors(self) -> dict[str, int]:
        """{gid: gseq} of every large group followed: what the client holds and asks from next."""
        return {str(gid): place.position for gid, place in self.groups.items()}


def left_group(uid: int, event: dict) -> tuple[int, int] | None:
    """(gid, mid): the group an event of uid's own timeline says uid left or was removed from, and the message
    that says so, if it says so."""
    message = event.get("message", {})
    change = message.get("event") or {}
    if message.get("kind") == "system" and change.get("type") in ("removed", "left") and uid in change.get("uids", ()):
        return message.get("group"), message.get("mid")
    return None


def event_key(event: dict):
    """What names a message event in a user's stream: its seq, or a large group's (gid, gseq)."""
    return event["seq"] if "seq" in event else (event["group"], event["gseq"])


def key_named(key) -> dict:
    """An event's key as the fields of a frame or a note: {"seq"}, or {"group", "gseq"}."""
    return {"seq": key} if isinstance(key, int) else {"group": key[0], "gseq": key[1]}


def following(events, since: int, limit: int, key: str = "seq") -> list[dict]:
    """The events among events (in order) that continue since without a gap: since + 1, since + 2, ..., at
    most limit, by key (a seq, or a large group's gseq). Those at or below since are skipped; the run stops at
    the first gap. Notices bring events in order, but one may be missed or another process's send come in
    between: what does not follow is read from the database instead."""
    run: list[dict] = []
    for event in events:
        if len(run) >= limit or event[key] > since + len(run) + 1:
            break
        if event[key] == since + len(run) + 1:
            run.append(event)
    return run


def _counted(hint: dict) -> tuple:
    """The conversation an unread hint counts (its name without the count)."""
    return tuple(sorted((k, v) for k, v in hint.get("conversation", {}).items() if k != "unread"))


class Inbox:
    """Notices for one waiting request, collected on the pub/sub thread until the request takes them."""

    def __init__(self):
        self._changed = threading.Condition()
        self._notices: list[dict] = []

    def __call__(self, notice: dict) -> None:
        with self._changed:
            self._notices.append(notice)
            self._changed.notify_all()

    def take(self) -> list[dict]:
        with self._changed:
            notices, self._notices = self._notices, []
        return notices

    def wait(self, timeout: float) -> None:
        """Block until a notice arrives or timeout seconds pass."""
        with self._changed:
            if not self._notices:
                self._changed.wait(timeout)
