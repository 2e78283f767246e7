"""Services layer: one delivery cursor for every transport that waits (SPEC section 5). A Feed is a client's
place in its timeline: the seq it holds, the newest seq notices announced, and the message events they
brought. The WebSocket session and the long poll each drive one the same way: take what notices brought when
it continues the cursor (no database read), read the rest by seq.

A Feed is not thread-safe: its owner hands it each notice on its own thread (the WebSocket on its event
loop, the long poll on the request's thread through an Inbox), and reads the database off it with page() and
read(), so the blocking read itself needs none of its state.
"""
from __future__ import annotations

import threading
from collections import deque

MAX_HINTS = 256  # live hints waiting to be written, per connection


class Feed:
    """A client's way through its timeline after a seq."""

    def __init__(self, uid: int, position: int, window: int):
        self.uid, self.position = uid, position  # the highest seq handed out (or held by the client)
        self.announced = 0  # the highest seq a notice named
        self.unsure = True  # more may lie after the position than notices named (at the start, after a lost
        # subscription, after a full page): then the next read asks Redis for the newest seq first
        self.arrived: deque = deque(maxlen=window)  # message events notices brought
        self.hints: deque = deque(maxlen=MAX_HINTS)  # live hints notices brought (the WebSocket pushes them)

    def take(self, notice: dict) -> None:
        """Take a notice for this user: its events, its hints, the seq it announces, or a wake-up."""
        self.hints.extend(notice.get("hints", ()))
        self.arrived.extend(notice.get("events", ()))
        if "seq" in notice:
            self.announced = max(self.announced, notice["seq"])
        elif notice.get("type") == "wake":  # notices may have been missed
            self.unsure = True

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
        """Whether events may lie after the position that only the database has."""
        return self.unsure or self.announced > self.position

    def arrived_events(self, room: int) -> list[dict]:
        """The events notices brought that continue the position, at most room: no database read for them.
        What does not follow (a gap, past room) is read by seq instead."""
        run = following(self.arrived, self.position, room)
        self.arrived.clear()
        return self._advance(run)

    def page(self, room: int) -> tuple[int, int, bool]:
        """What to read from the database next: (since, limit, whether a notice named a newer seq, so Redis
        need not be asked for the newest first)."""
        newer_exists, self.unsure = not self.unsure, False
        return self.position, room, newer_exists

    def read(self, events: list[dict], limit: int) -> list[dict]:
        """Take the events a page() read returned; return them."""
        if len(events) == limit:
            self.unsure = True  # a full page: more may lie beyond
        elif not events:
            self.announced = min(self.announced, self.position)  # nothing there after all
        return self._advance(events)

    def _advance(self, events: list[dict]) -> list[dict]:
        if events:
            self.position = events[-1]["seq"]
        return events


def following(events, since: int, limit: int) -> list[dict]:
    """The message events among events (in seq order) that continue since without a gap: seq since + 1,
    since + 2, ..., at most limit. Those at or below since are skipped; the run stops at the first gap.
    Notices bring events in order, but one may be missed or another process's send come in between: what
    does not follow is read from the database by seq instead."""
    run: list[dict] = []
    for event in events:
        if len(run) == limit or event["seq"] > since + len(run) + 1:
            break
        if event["seq"] == since + len(run) + 1:
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
