"""Services layer: one cursor for every transport. A client asks for its timeline after the seq it holds.

Short polling asks with timeout 0, long polling waits for a notice on the user's channel, and the
WebSocket pushes the same events. An idle wait runs no SQL: the newest seq of each user is cached in
Redis by the send script, so "nothing new" is known without the database. Live hints (read, delivered,
unread) have a cursor of their own, kept for two minutes in a short Redis stream per user, so a poller
that was between two requests when one was published still gets it.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

from ..store.counters import UnreadCounters
from ..store.direct import DirectStorage
from ..store.message import message_event
from ..store.notices import Notifier
from ..store.reader import MessageReader
from ..store.users import UserStore
from . import checks
from .delivery_watch import NO_WATCH, DeliveryWatch
from .errors import BadInput
from .feed import Feed, Inbox
from .large_sync import LargeGroupSync, parse_cursors

HINT_CURSOR = re.compile(r"[0-9]{1,19}-[0-9]{1,19}")  # a stream id; 19 ASCII digits always fit its 64 bits


class SyncService:
    """Read a user's timeline after a seq, waiting for it when asked to."""

    def __init__(self, users: UserStore, reader: MessageReader, direct: DirectStorage, counters: UnreadCounters,
                 notifier: Notifier, large: LargeGroupSync, release: Callable[[], None],
                 watch: DeliveryWatch = NO_WATCH):
        self.users, self.reader, self.direct, self.counters, self.notifier = users, reader, direct, counters, notifier
        self.large = large  # the compound cursor's per-group part
        self.release = release  # hands the database connection back before a long wait
        self.watch = watch  # the metrics and the message trace of each answer
        self._stopping = threading.Event()

    def sync(self, uid: int, since=0, timeout=0, limit=200, hints_since=None, groups=None) -> dict:
        """Return {events, next, groups_next, hints_next, has_more}: uid's message events after seq since, each
        large group's after its gseq in groups (`gid:gseq,...`: the compound cursor, large_sync.py), and the
        hints (read, delivered, unread) after hints_since, waiting up to timeout seconds for any."""
        since = checks.integer(since, "since", 0)
        timeout = checks.number(timeout, "timeout", 0, 30)
        limit = checks.integer(limit, "limit", 1, 1000)
        cursors = parse_cursors(groups)
        if hints_since is not None and not HINT_CURSOR.fullmatch(str(hints_since)):
            raise BadInput("hints_since must be a cursor from hints_next", "invalid_hints_since")
        self.acknowledge(uid, since)
        feed, inbox, noticed = Feed(uid, since, limit), Inbox(), []
        self.large.follow(feed, cursors)
        stops = [self._listen(uid, inbox), *(self.notifier.listen_group(gid, inbox) for gid in feed.live_groups())
                 ] if timeout else []  # before reading: nothing slips between
        try:
            if hints_since is None:  # a client without a hint cursor gets the hints from now on
                hints_since = self.notifier.hints_after(uid, None)[1]
            deadline = time.monotonic() + timeout
            while True:  # after a wake-up, the events a notice brought need no database read
                for notice in inbox.take():
                    feed.take(notice)
                    noticed.append(notice)  # its commit's time and trace id, for the watch
                events = feed.arrived_events(limit) or self.read_all(feed, limit)
                hints, hints_next = self.notifier.hints_after(uid, hints_since)
                left = deadline - time.monotonic()
                if events or hints or left <= 0 or self._stopping.is_set():
                    break
                self.release()
                inbox.wait(left)
        finally:
            for stop in stops:
                stop()
        self.watch.answered(uid, bool(stops), events, noticed)
        mine = sum(1 for event in events if "seq" in event)
        return {"events": events + hints, "next": feed.position, "groups_next": feed.cursors(),
                "hints_next": hints_next, "has_more": mine == limit}

    def read_all(self, feed: Feed, limit: int) -> list[dict]:
        """Read what the feed is behind in: its own timeline by seq, then each large group by gseq; follow the
        large groups its user's own events say they joined or left."""
        events = self.read(feed, limit) if feed.mine.behind else []
        for event in events:
            if event["type"] == "message":
                self.large.joined(feed, event["message"])
        return events + self.large.read(feed, limit)

    def _listen(self, uid: int, inbox: Inbox) -> Callable[[], None]:
        """Listen for uid's notices, counted as a long poll open until the returned function is called."""
        stop = self.notifier.listen(uid, inbox)
        self.watch.long_polls(1)

        def stopped() -> None:
            stop()
            self.watch.long_polls(-1)
        return stopped

    def shut_down(self) -> None:
        """Answer every waiting long poll now, so the server can stop without waiting out their timeouts."""
        self._stopping.set()
        self.notifier.wake_all()

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

    def read(self, feed: Feed, room: int) -> list[dict]:
        """Read a feed's next page from the database (on the feed's own thread)."""
        since, limit, newer_exists = feed.page(room)
        return feed.read(self.events_after(feed.uid, since, limit, newer_exists), limit)

    def events_after(self, uid: int, since: int, limit: int, newer_exists: bool = False) -> list[dict]:
        """Return uid's message events with seq > since, in seq order; no SQL when there are none.

        newer_exists: the caller knows of a seq > since (a notice named it), so Redis need not be asked.
        """
        if not newer_exists and since >= self.last_seq(uid):
            return []
        return [message_event(seq, m, uid) for seq, m in self.reader.timeline(uid, since, limit)]

    def acknowledge(self, uid: int, seq: int) -> int:
        """Record that uid's client holds everything up to seq (at most uid's newest); tell the senders it
        was delivered. Return the seq recorded."""
        if seq <= 0:
            return 0
        seq = min(seq, self.last_seq(uid))
        self.acknowledge_pushed(uid, seq)
        return seq

    def acknowledge_pushed(self, uid: int, seq: int) -> None:
        """acknowledge() for a seq this server pushed itself, so one that exists: no need to check it.

        Redis answers whether the acked seq moved (an idle poll runs no SQL); when it covers received
        messages, each conversation's delivered mark is written where it moves (it outlives Redis and
        the page: history and contacts return it), and its sender is told."""
        previous = self.counters.advance_acked(uid, seq) if seq > 0 else None
        if previous is None:
            return
        received = self.direct.received_between(uid, previous, seq)
        for sender, mid in (self.direct.mark_delivered(uid, received) if received else {}).items():
            self.notifier.publish(sender, {"hints": [{"type": "delivered", "to": uid, "up_to": mid}]})

