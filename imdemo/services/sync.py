"""Services layer: one cursor for every transport. A client asks for its timeline after the seq it holds.

Short polling asks with timeout 0, long polling waits for a notice on the user's channel, and the
WebSocket pushes the same events. An idle wait runs no SQL: the newest seq of each user is cached in
Redis by the send script, so "nothing new" is known without the database.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..store.counters import UnreadCounters
from ..store.messages import MessageStore
from ..store.notices import Notifier
from ..store.users import UserStore
from . import checks
from .views import message_event

MAX_HINTS = 100  # a waiter that is not collected for a while keeps only the newest hints


class Waiter:
    """Collect the notices of one user while a request waits for them."""

    def __init__(self):
        self._changed = threading.Condition()
        self._hints: list[dict] = []
        self._woken = False

    def __call__(self, notice: dict) -> None:
        with self._changed:
            self._hints = (self._hints + notice.get("hints", []))[-MAX_HINTS:]
            self._woken = True
            self._changed.notify_all()

    def wait(self, timeout: float) -> None:
        """Block until a notice arrives or timeout seconds pass."""
        with self._changed:
            if not self._woken:
                self._changed.wait(timeout)
            self._woken = False

    def take_hints(self) -> list[dict]:
        with self._changed:
            hints, self._hints = self._hints, []
            return hints


class SyncService:
    """Read a user's timeline after a seq, waiting for it when asked to."""

    def __init__(self, users: UserStore, messages: MessageStore, counters: UnreadCounters,
                 notifier: Notifier, release: Callable[[], None]):
        self.users, self.messages, self.counters, self.notifier = users, messages, counters, notifier
        self.release = release  # hands the database connection back before a long wait

    def sync(self, uid: int, since=0, timeout=0, limit=200) -> dict:
        """Return {events, next, has_more}: uid's events after seq since, waiting up to timeout seconds."""
        since = checks.integer(since, "since", 0)
        timeout = checks.number(timeout, "timeout", 0, 30)
        limit = checks.integer(limit, "limit", 1, 1000)
        self.acknowledge(uid, since)
        if timeout == 0:  # a short poll: durable events only; hints are for whoever is listening
            return _page(self.events_after(uid, since, limit), [], since, limit)
        waiter = Waiter()
        stop = self.notifier.listen(uid, waiter)  # listen before reading: no notice slips between
        try:
            deadline = time.monotonic() + timeout
            while True:
                events, hints = self.events_after(uid, since, limit), waiter.take_hints()
                left = deadline - time.monotonic()
                if events or hints or left <= 0:
                    break
                self.release()
                waiter.wait(left)
        finally:
            stop()
        return _page(events, hints, since, limit)

    def subscribe(self, uid: int, listener: Callable[[dict], None]) -> Callable[[], None]:
        """Call listener with each notice for uid (new seq, hints) until the returned function is called."""
        return self.notifier.listen(uid, listener)

    def last_seq(self, uid: int) -> int:
        """Return uid's newest seq: from Redis, or from the database when Redis has lost it."""
        latest = self.counters.last_seq(uid)
        if latest is None:
            latest = self.users.last_seq(uid)
            self.counters.remember_last_seq(uid, latest)
        return latest

    def events_after(self, uid: int, since: int, limit: int) -> list[dict]:
        """Return uid's message events with seq > since, in seq order; no SQL when there are none."""
        if since >= self.last_seq(uid):
            return []
        return [message_event(seq, m) for seq, m in self.messages.timeline(uid, since, limit)]

    def acknowledge(self, uid: int, seq: int) -> None:
        """Record that uid's client holds everything up to seq; tell the senders it was delivered."""
        if seq <= 0:
            return
        seq = min(seq, self.last_seq(uid))
        previous = self.counters.advance_acked(uid, seq)
        if previous is None:
            return
        for sender, mid in self.messages.received_between(uid, previous, seq).items():
            self.notifier.publish(sender, {"hints": [{"type": "delivered", "to": uid, "up_to": mid}]})


def _page(events: list[dict], hints: list[dict], since: int, limit: int) -> dict:
    """Shape a sync answer: the events, the cursor to ask from next, and whether more is waiting."""
    return {"events": events + hints, "next": events[-1]["seq"] if events else since,
            "has_more": len(events) == limit}
