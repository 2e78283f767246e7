"""Store layer: keep the Redis unread counters equal to the database, rebuilding them when lost."""
from __future__ import annotations

import logging
import threading
import time

from .counters import UnreadCounters
from .unread import UnreadCounts
from .users import UserStore

log = logging.getLogger(__name__)


class Reconciler:
    """Rebuild every user's unread counters from the database (the truth)."""

    def __init__(self, users: UserStore, unread: UnreadCounts, counters: UnreadCounters):
        self.users, self.unread, self.counters = users, unread, counters
        self._lock = threading.Lock()

    def reconcile(self, at_once: bool = False) -> int:
        """Recount every user, one locked row at a time so sends may go on (at_once: all together, every row
        held for the moment it takes: a start); return how many users.

        The ready marker is set first and checked last: a flush while recounting removes it, and the
        recount runs again, so no user is left with lost counters behind a marker that says all is well.
        """
        with self._lock:
            while True:
                self.counters.mark_ready()
                self.unread.rebuild_groups()
                uids = self.users.all_uids()
                if at_once:
                    self.unread.rebuild_everyone(uids)
                for uid in [] if at_once else uids:
                    self.unread.rebuild(uid)
                if self.counters.is_ready():
                    return len(uids)

    def at_start(self) -> None:
        """Recount every user before serving: the store may be empty (the embedded default, a flushed Redis)
        or a process may have died between a transaction's unread script and its commit."""
        started = time.monotonic()
        users = self.reconcile(at_once=True)
        log.info("unread counters of %d users rebuilt from the database in %.0f ms", users,
                 (time.monotonic() - started) * 1000)

    def store_was_lost(self) -> None:
        """Called when a script found the ready marker gone: rebuild once, unless a rebuild is running."""
        if self._lock.locked():
            return
        log.warning("the store lost its unread counters (flushed or restarted Redis): rebuilding")
        self.reconcile()
