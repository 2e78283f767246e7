"""Store layer: merged unread changes for groups (lecture 20, 合并变更). In a busy group every message
is one increment of `{uid}_T` and `{uid}_C` per member: the counters are the first thing to break. So a
group message's increments are gathered for a short window after its commit and applied once per member,
with one script per group and window, instead of once per member per message.

Without lecture 20's losses: the database stays the truth. A process that dies inside a window loses only
the changes it had gathered, and the counters are rebuilt from the database at every start. A count set
from the database meanwhile (a read, a rebuild, in any process) records the newest mid it covered, and the
merged change skips what it covered, so nothing is counted twice. The badge may lag by the window; the
message itself never does (it is announced at its commit, as always).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .conversation import Conversation
from .counters import UnreadCounters
from .message import Stored
from .trace import Trace, action_of

log = logging.getLogger(__name__)
MOST_PENDING = 100_000  # messages kept while the store is away, before the oldest are left to the rebuild


class UnreadMerger:
    """Gather the unread increments of group messages and apply them every window seconds."""

    def __init__(self, counters: UnreadCounters, window: float, store_was_lost: Callable[[], None],
                 trace: Trace | None = None):
        self.counters, self.window, self.store_was_lost, self.trace = counters, window, store_was_lost, trace
        self._pending: dict[tuple[int, tuple[int, ...]], list[tuple[int, int]]] = {}  # (gid, members) -> messages
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, stored: list[Stored]) -> None:
        """Gather group messages just committed, to count them unread in the next window."""
        with self._lock:
            for s in stored:
                m = s.message
                self._pending.setdefault((m.conversation.id, tuple(s.seqs)), []).append((m.mid, m.sender))
            if stored and self._thread is None and not self._stopping.is_set():
                self._thread = threading.Thread(target=self._run, name="imdemo-unread-merge", daemon=True)
                self._thread.start()
        if stored:  # nothing gathered opens no window
            self._arrived.set()

    def waiting(self, gid: int) -> dict[int, int]:
        """{uid: messages of group gid gathered for uid's count and not applied yet} (for the inspector): what
        the merge will add, so neither uid's own messages nor those a recount since covered (MERGE skips them)."""
        with self._lock:
            pending = [(members, list(messages)) for (g, members), messages in self._pending.items() if g == gid]
        counted = self.counters.counted(gid) if pending else {}
        counts: dict[int, int] = {}
        for members, messages in pending:
            for uid in members:
                after = counted.get(uid, 0)
                counts[uid] = counts.get(uid, 0) + sum(1 for mid, sender in messages if sender != uid and mid > after)
        return {uid: n for uid, n in counts.items() if n}

    def flush(self) -> None:
        """Apply every gathered change now: one script per group (and member list) for all its messages."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:  # nothing to apply, and nothing for the inspector to show
            return
        ready = True
        with action_of(self.trace, "unread merge", groups=sorted({gid for gid, _ in pending})):
            for (gid, members), messages in pending.items():
                try:
                    field = Conversation.group(gid).unread_field
                    ready = self.counters.merge(gid, field, messages, list(members)) and ready
                except Exception:  # the store is away: try again next window (a recount since is skipped)
                    log.warning("could not apply merged unread changes of group %s; retrying", gid, exc_info=True)
                    self._keep(gid, members, messages)
        if not ready:
            self.store_was_lost()

    def _keep(self, gid: int, members: tuple[int, ...], messages: list[tuple[int, int]]) -> None:
        with self._lock:
            kept = self._pending.setdefault((gid, members), [])
            kept[:0] = messages[-MOST_PENDING:]
        self._arrived.set()  # the next window tries again, whatever is sent meanwhile

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._arrived.wait()
            self._arrived.clear()
            if self._stopping.wait(self.window):
                break
            self.flush()

    def stop(self) -> None:
        """Apply what is gathered and stop the thread (a clean shutdown loses nothing)."""
        self._stopping.set()
        self._arrived.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()
