"""Store layer: the way a message is written (one transaction for a whole group of sends) and read back
(history, timeline, contacts). The statements are in message_rows.py."""
from __future__ import annotations

import logging

import peewee

from .batch import Batch
from .counters import UnreadCounters
from .database import write_transaction
from .errors import NotAMember, UnknownUser
from .message_rows import SQL, Draft, Message, Stored, unread_field
from .timeline import TimelineWriter

log = logging.getLogger(__name__)


class MessageStore:
    """The course's three message tables: content, per-user relation (index) and contacts."""

    def __init__(self, db: peewee.Database, counters: UnreadCounters, count_groups: bool = True):
        self.db, self.counters = db, counters
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}
        self.writer = TimelineWriter(db)
        # count_groups=False: a group message's unread is counted after the commit, merged (UnreadMerger)
        self.batch = Batch(self.writer, counters, self.find_by_client_id, count_groups)

    def _one(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params).fetchone()

    def _all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.sql[name], params).fetchall()

    def store_many(self, drafts: list[Draft]) -> list[Stored | Exception]:
        """Write several messages in one transaction (group commit) with one unread script for them all.

        Each draft gets its own outcome: Stored (created, or found again by its client_msg_id) or the
        exception that refused it (UnknownUser). If the group fails as a whole, each draft is tried again
        alone, so one bad draft (or a lost race with another process) costs the others nothing, and a
        draft that fails alone gets its own exception as its outcome.
        """
        try:
            return self._store_together(drafts)
        except Exception:
            if len(drafts) == 1:
                raise
            log.info("a group of %d sends failed together; storing each alone", len(drafts), exc_info=True)
            return [self._store_alone(draft) for draft in drafts]

    def _store_alone(self, draft: Draft) -> Stored | Exception:
        try:
            return self._store_together([draft])[0]
        except Exception as e:  # this draft's own answer; the others of its group go on
            return e

    def _store_together(self, drafts: list[Draft]) -> list[Stored | Exception]:
        counted: set[int] = set()  # who the unread script moved, once it has run: only the commit can fail after
        try:
            with write_transaction(self.db):
                outcomes = self.batch.write(drafts, counted)
            return outcomes
        except UnknownUser as missing:  # rolled back: store the others again without it
            uid = missing.args[0]
            outcomes = [UnknownUser(uid) if uid in (d.sender, d.recipient) else None for d in drafts]
            rest = [d for d, o in zip(drafts, outcomes, strict=True) if o is None]
            stored = iter(self._store_together(rest) if rest else ())
            return [o if o is not None else next(stored) for o in outcomes]
        except peewee.IntegrityError:
            # Only a concurrent retry of the same send (another process, same client_msg_id) gets here.
            draft = drafts[0]
            existing = len(drafts) == 1 and draft.client_msg_id and self.find_by_client_id(
                draft.sender, draft.client_msg_id)
            if existing:
                return [Stored(existing, created=False)]
            raise
        except Exception:
            for uid in counted:
                self._recount_after_failure(uid)
            raise

    def _recount_after_failure(self, uid: int) -> None:
        """A transaction failed, maybe after its unread script ran (the commit itself can fail): Redis may
        be ahead of the database, so recount uid from the database. A process that dies at that moment
        is recounted at its next start instead (create_app reconciles every user)."""
        try:
            self.rebuild_counters(uid)
        except Exception:  # the store is down: the next start, or --reconcile, repairs it
            log.warning("could not recount %s after a failed transaction", uid, exc_info=True)

    def find_by_client_id(self, sender: int, client_msg_id: str) -> Message | None:
        row = self._one("find_by_client_id", sender, client_msg_id)
        return Message.from_row(row) if row else None

    def timeline(self, uid: int, since: int, limit: int) -> list[tuple[int, Message]]:
        """Return uid's messages with seq > since, in seq order, as (seq, message)."""
        return [(int(r[0]), Message.from_row(r[1:])) for r in self._all("timeline", uid, since, limit)]

    def history(self, uid: int, other: int, before: int | None, after: int | None, limit: int) -> list[Message]:
        """Return up to limit messages of uid's conversation with other, ascending by mid."""
        if after is not None:
            return [Message.from_row(r) for r in self._all("history_after", uid, other, after, limit)]
        rows = self._all("history_before", uid, other, before if before is not None else 2**62, limit)
        return [Message.from_row(r) for r in reversed(rows)]

    def contacts(self, uid: int, limit: int) -> list[tuple[int, int, int, Message]]:
        """Return uid's recent contacts newest first, as (other uid, their read and delivered markers, last
        message)."""
        return [(int(r[0]), int(r[1] or 0), int(r[2] or 0), Message.from_row(r[3:]))
                for r in self._all("contacts", uid, limit)]

    def user_exists(self, uid: int) -> bool:
        return self._one("user_exists", uid) is not None

    def peer_marks(self, uid: int, other: int) -> tuple[int, int]:
        """Return how far other has read, and received, the conversation with uid."""
        row = self._one("peer_read", other, uid)
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def mark_read(self, uid: int, peer: int, up_to: int | None) -> tuple[int, int, int, bool, int]:
        """Move uid's read marker of a conversation (a uid, or -gid) forward to up_to (default: newest).

        Return (read_mid, still unread, total unread, moved, the read_mid before). The reader's row is locked
        so that no send to the reader lands between counting what is unread and setting the counter.
        """
        counted = False
        try:
            with write_transaction(self.db):
                result = self._mark_read_locked(uid, peer, up_to)
                counted = True
            return result
        except Exception:
            if counted:
                self._recount_after_failure(uid)
            raise

    def _mark_read_locked(self, uid: int, peer: int, up_to: int | None) -> tuple[int, int, int, bool, int]:
        if self._one("lock_user", uid) is None:
            raise UnknownUser(uid)
        field = unread_field(peer)
        # The read marker of a 1:1 conversation is in the owner's contact row; a group's in the membership row
        row = self._one("contact", uid, peer) if peer > 0 else self._one("group_marker", uid, -peer)
        if row is None and peer < 0:
            raise NotAMember(-peer, uid, self.writer.was_member(-peer, uid))
        if row is None:
            total, _ = self.counters.set_conversation(uid, field, 0)
            return 0, 0, total, False, 0
        newest, read_mid = int(row[0] or 0), int(row[1])
        before = read_mid
        target = newest if up_to is None else min(up_to, newest)
        moved = target > read_mid
        if moved:
            if peer > 0:
                self.db.execute_sql(self.sql["set_read"], (target, uid, peer, target))
            else:
                self.db.execute_sql(self.sql["set_group_read"], (target, uid, -peer, target))
            read_mid = target
        unread = int(self._one("unread_in", uid, peer, read_mid)[0])
        covered = (-peer, newest) if peer < 0 else None
        total, _ = self.counters.set_conversation(uid, field, unread, covered)  # the last step before the commit
        return read_mid, unread, total, moved, before

    def rebuild_counters(self, uid: int) -> None:
        """Recount uid's unread messages from the database into Redis, the row locked against sends."""
        with write_transaction(self.db):
            if self._one("lock_user", uid) is None:
                return
            counts = self._all("unread_of", uid, uid)
            self.counters.replace(uid, {unread_field(int(peer)): int(n) for peer, n, _ in counts},
                                  {-int(peer): int(newest or 0) for peer, _, newest in counts if peer < 0})

    def received_between(self, uid: int, after_seq: int, up_to_seq: int) -> dict[int, int]:
        """Return {sender: newest mid} of messages uid received with after_seq < seq <= up_to_seq."""
        return {int(o): int(m) for o, m in self._all("received_between", uid, after_seq, up_to_seq)}

    def mark_delivered(self, uid: int, received: dict[int, int]) -> dict[int, int]:
        """Raise uid's delivered marks to {sender: mid} (only forward); return the ones that moved."""
        with write_transaction(self.db):
            return {sender: mid for sender, mid in received.items()
                    if self._one("set_delivered", mid, uid, sender, mid) is not None}
