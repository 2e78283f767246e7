"""Store layer: the way a message is written (one transaction for a whole group of sends) and read back
(history, timeline, contacts). The statements are in message_rows.py."""
from __future__ import annotations

import logging
import time

import peewee

from .counters import UnreadCounters
from .database import write_transaction
from .errors import UnknownUser
from .message_rows import SQL, Draft, Message, Stored

log = logging.getLogger(__name__)


class MessageStore:
    """The course's three message tables: content, per-user relation (index) and contacts."""

    def __init__(self, db: peewee.Database, counters: UnreadCounters):
        self.db, self.counters = db, counters
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

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

    def _store_together(self, drafts: list[Draft]) -> list[Stored | UnknownUser]:
        counted = False  # set once the unread script has run: only the commit can fail after it
        try:
            with write_transaction(self.db):
                outcomes = self._store_locked(drafts)
                counted = True
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
            if counted:
                for uid in {d.recipient for d in drafts}:
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

    def _store_locked(self, drafts: list[Draft]) -> list[Stored | UnknownUser]:
        outcomes: list = [None] * len(drafts)
        new: list[int] = []  # indexes of the drafts to write, in order
        seen: dict[tuple[int, str], int] = {}  # (sender, client_msg_id) -> index of its first draft here
        for i, d in enumerate(drafts):
            if d.client_msg_id is not None:
                key = (d.sender, d.client_msg_id)
                if key in seen:
                    continue  # the same send twice in one group: answered by the first below
                seen[key] = i
                if existing := self.find_by_client_id(d.sender, d.client_msg_id):
                    outcomes[i] = Stored(existing, created=False)
                    continue
            new.append(i)
        # Lock each user's row in ascending uid order (no deadlock with other processes' groups) and take
        # all of its seqs for this group with one statement.
        wanted: dict[int, int] = {}
        for i in new:
            for uid in (drafts[i].sender, drafts[i].recipient):
                wanted[uid] = wanted.get(uid, 0) + 1
        last = {}
        for uid in sorted(wanted):
            row = self._one("take_seqs", wanted[uid], uid)
            if row is None:
                raise UnknownUser(uid)  # rolls back what this group took so far
            last[uid] = int(row[0])
        seq = {uid: last[uid] - wanted[uid] for uid in last}  # each user's seq before this group
        now = int(time.time() * 1000)
        made = []
        for i in new:
            d = drafts[i]
            seq[d.sender] += 1
            seq[d.recipient] += 1
            mid = int(self._one("insert_content", d.content, d.sender, d.recipient, d.client_msg_id, now)[0])
            self.db.execute_sql(self.sql["insert_relations"], (
                d.sender, d.recipient, mid, seq[d.sender], now, d.recipient, d.sender, mid, seq[d.recipient], now))
            self.db.execute_sql(self.sql["upsert_contacts"], (
                d.sender, d.recipient, mid, now, now, d.recipient, d.sender, mid, now, now))
            made.append((i, Message(mid, d.sender, d.recipient, d.content, d.client_msg_id, now),
                         seq[d.sender], seq[d.recipient]))
        if made:  # the last step before the commit
            counts, ready = self.counters.on_messages([(m.sender, m.recipient) for _, m, _, _ in made], last)
            for (i, message, sender_seq, recipient_seq), (total, conversation) in zip(made, counts, strict=True):
                outcomes[i] = Stored(message, True, sender_seq, recipient_seq, total, conversation, ready)
        for i, d in enumerate(drafts):  # repeats of a send within this group get its first outcome
            if outcomes[i] is None:
                first = outcomes[seen[(d.sender, d.client_msg_id)]]
                outcomes[i] = Stored(first.message, created=False) if isinstance(first, Stored) else first
        return outcomes

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

    def mark_read(self, uid: int, other: int, up_to: int | None) -> tuple[int, int, int, bool]:
        """Move uid's read marker with other forward to up_to (default: newest).

        Return (read_mid, still unread, total unread, moved). The reader's row is locked so that no send
        to the reader lands between counting what is unread and setting the counter.
        """
        counted = False
        try:
            with write_transaction(self.db):
                result = self._mark_read_locked(uid, other, up_to)
                counted = True
            return result
        except Exception:
            if counted:
                self._recount_after_failure(uid)
            raise

    def _mark_read_locked(self, uid: int, other: int, up_to: int | None) -> tuple[int, int, int, bool]:
        if self._one("lock_user", uid) is None:
            raise UnknownUser(uid)
        row = self._one("contact", uid, other)
        if row is None:
            total, _ = self.counters.set_conversation(uid, other, 0)
            return 0, 0, total, False
        newest, read_mid = int(row[0]), int(row[1])
        target = newest if up_to is None else min(up_to, newest)
        moved = target > read_mid
        if moved:
            self.db.execute_sql(self.sql["set_read"], (target, uid, other, target))
            read_mid = target
        unread = int(self._one("unread_in", uid, other, read_mid)[0])
        total, _ = self.counters.set_conversation(uid, other, unread)  # the last step before the commit
        return read_mid, unread, total, moved

    def rebuild_counters(self, uid: int) -> None:
        """Recount uid's unread messages from the database into Redis, the row locked against sends."""
        with write_transaction(self.db):
            if self._one("lock_user", uid) is None:
                return
            self.counters.replace(uid, {int(o): int(n) for o, n in self._all("unread_of", uid)})

    def received_between(self, uid: int, after_seq: int, up_to_seq: int) -> dict[int, int]:
        """Return {sender: newest mid} of messages uid received with after_seq < seq <= up_to_seq."""
        return {int(o): int(m) for o, m in self._all("received_between", uid, after_seq, up_to_seq)}

    def mark_delivered(self, uid: int, received: dict[int, int]) -> dict[int, int]:
        """Raise uid's delivered marks to {sender: mid} (only forward); return the ones that moved."""
        with write_transaction(self.db):
            return {sender: mid for sender, mid in received.items()
                    if self._one("set_delivered", mid, uid, sender, mid) is not None}
