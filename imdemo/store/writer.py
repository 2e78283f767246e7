"""Store layer: the one writer. Every message, of every kind of conversation, and every group change is
appended here: callers that arrive while a commit is being written wait in its queue and are written in
the next commit together (group commit, commit_queue.py), one transaction, one unread script, one PUBLISH.
When a commit's transaction is in, it is announced at once (announce.py) and its group messages are handed
to the merged counting (merge.py): no caller is called back.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

import peewee

from ..metrics import NO_METRICS, NoMetrics
from .announce import Announcer
from .commit import Commit
from .commit_queue import CommitQueue
from .conversation import Conversation
from .database import write_transaction
from .errors import UnknownUser
from .group_changes import GroupChange
from .merge import UnreadMerger
from .message import NEVER_UNREAD, Draft, Stored
from .unread import UnreadCounts

log = logging.getLogger(__name__)


class MessageWriter:
    """Append messages and group changes; each caller gets its own outcome."""

    def __init__(self, db: peewee.Database, commit: Commit, announcer: Announcer, unread: UnreadCounts,
                 store_was_lost: Callable[[], None], merger: UnreadMerger | None = None,
                 alone: Callable[[], bool] = lambda: False, metrics: NoMetrics = NO_METRICS):
        self.db, self.commit, self.announcer, self.unread = db, commit, announcer, unread
        self.store_was_lost, self.merger = store_was_lost, merger
        self.metrics = metrics  # imdemo/metrics.py: each commit's time and the messages it stored
        self._took = 0.0  # seconds the last transaction took, for the metrics
        self.queue = CommitQueue(self._write, alone=alone)

    def append(self, draft: Draft) -> Stored:
        """Store a message (or find it again by its client_msg_id); raise what refused it."""
        return self.queue.submit(draft)

    def change(self, change: GroupChange) -> object:
        """Make a group change in a commit of its own; return its result, raise what refused it."""
        return self.queue.submit(change)

    def _write(self, items: list) -> list:
        """Write what the queue holds: each run of messages in one commit, each group change in one of its own."""
        outcomes, run = [], []
        for item in [*items, None]:
            if isinstance(item, Draft):
                run.append(item)
                continue
            if run:
                outcomes += self._store_many(run)
                run = []
            if item is not None:
                outcomes.append(self._change(item))
        return outcomes

    def _change(self, change: GroupChange):
        try:
            result, written = self._in_transaction(lambda counted: self.commit.change(change, counted), True)
        except Exception as e:  # this change's own answer
            return e
        self._committed(written)
        return result

    def _store_many(self, drafts: list[Draft]) -> list[Stored | Exception]:
        """Write several messages in one commit. If it fails as a whole, each is tried again alone, so one bad
        draft (or a lost race with another process) costs the others nothing."""
        try:
            outcomes = self._store_together(drafts)
        except Exception as e:
            if len(drafts) == 1:
                return [e]
            log.info("a commit of %d messages failed together; storing each alone", len(drafts), exc_info=True)
            outcomes = []
            for draft in drafts:
                try:
                    outcomes += self._store_together([draft])
                except Exception as alone:  # this draft's own answer; the others go on
                    outcomes.append(alone)
            return outcomes
        return outcomes

    def _store_together(self, drafts: list[Draft]) -> list[Stored | Exception]:
        try:
            many_rows = any(self.commit.kinds[d.conversation.kind].many_rows for d in drafts)
            outcomes = self._in_transaction(lambda counted: self.commit.messages(drafts, counted), many_rows)
        except UnknownUser as missing:  # rolled back: store the others again without it
            uid = missing.args[0]
            outcomes = [UnknownUser(uid) if uid == d.sender or d.conversation == Conversation.direct(uid) else None
                        for d in drafts]
            rest = [d for d, o in zip(drafts, outcomes, strict=True) if o is None]
            stored = iter(self._store_together(rest) if rest else ())
            return [o if o is not None else next(stored) for o in outcomes]
        except peewee.IntegrityError:
            # Only a concurrent retry of the same send (another process, same client_msg_id) gets here.
            draft = drafts[0]
            existing = len(drafts) == 1 and draft.client_msg_id and self.commit.find_by_client_id(
                draft.sender, draft.client_msg_id)
            if existing:
                return [Stored(existing, created=False)]
            raise
        self._committed([o for o in outcomes if isinstance(o, Stored) and o.created])
        return outcomes

    def _in_transaction(self, write, many_rows: bool):
        """Run write(counted) in a write transaction; if it fails after the unread script moved counters
        (counted), recount those users from the database."""
        counted: set[int] = set()
        started = time.perf_counter()
        try:
            with write_transaction(self.db, many_rows):
                result = write(counted)
            self._took = time.perf_counter() - started
        except Exception:
            self.commit.rolled_back()
            for uid in counted:
                self.unread.recount_after_failure(uid)
            raise
        self.commit.committed()
        return result

    def _committed(self, created: list[Stored]) -> None:
        """What follows a commit: its announcement, and its group messages' merged unread counting."""
        if not created:
            return
        self.metrics.committed(created, self._took)
        self.announcer.committed(created)
        if self.merger is not None:
            merged = [s for s in created if s.message.kind not in NEVER_UNREAD and s.seqs and  # in members' timelines
                      self.commit.kinds[s.message.conversation.kind].unread == "merged"]
            if merged:
                self.merger.add(merged)
        if not created[-1].counters_ready:
            self.store_was_lost()
