"""Services layer: keep the Redis unread counters equal to the database, rebuilding them when lost."""
from __future__ import annotations

import logging
import threading

from ..store.counters import UnreadCounters
from ..store.messages import MessageStore
from ..store.users import UserStore

log = logging.getLogger(__name__)


class Reconciler:
    """Rebuild every user's unread counters from the database (the truth)."""

    def __init__(self, users: UserStore, messages: MessageStore, counters: UnreadCounters):
        self.users, self.messages, self.counters = users, messages, counters
        self._lock = threading.Lock()

    def reconcile(self) -> int:
        """Recount every user, one locked row at a time so sends may go on; return how many users."""
        with self._lock:
            uids = self.users.all_uids()
            for uid in uids:
                self.messages.rebuild_counters(uid)
            self.counters.mark_ready()
            return len(uids)

    def ensure_ready(self) -> None:
        """Rebuild the counters if the store has none (a fresh embedded store, a flushed Redis)."""
        if not self.counters.is_ready():
            log.info("unread counters missing from the store: rebuilding from the database")
            self.reconcile()

    def store_was_lost(self) -> None:
        """Called when a script found the ready marker gone: rebuild once, unless a rebuild is running."""
        if self._lock.locked():
            return
        log.warning("the store lost its unread counters (flushed or restarted Redis): rebuilding")
        self.reconcile()
