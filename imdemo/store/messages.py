"""Store layer: the way a message is written (one transaction) and read back (history, timeline).

The hot statements are plain SQL built once: Peewee's query building costs more than SQLite itself
(STACK-NOTES), and these few statements run on every send and every sync.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import peewee

from .counters import UnreadCounters
from .database import write_transaction
from .errors import UnknownUser

log = logging.getLogger(__name__)
MESSAGE_COLUMNS = "c.mid, c.sender_id, c.recipient_id, c.content, c.client_msg_id, c.create_time"

SQL = {
    "next_seq": "UPDATE im_user SET seq = seq + 1 WHERE uid = ? RETURNING seq",
    "lock_user": "UPDATE im_user SET seq = seq WHERE uid = ? RETURNING seq",
    "find_by_client_id": f"SELECT {MESSAGE_COLUMNS} FROM im_msg_content c"
                         " WHERE c.sender_id = ? AND c.client_msg_id = ?",
    "insert_content": "INSERT INTO im_msg_content (content, sender_id, recipient_id, msg_type, client_msg_id,"
                      " create_time) VALUES (?, ?, ?, 0, ?, ?) RETURNING mid",
    "insert_relations": "INSERT INTO im_msg_relation (owner_uid, other_uid, mid, type, seq, create_time)"
                        " VALUES (?, ?, ?, 0, ?, ?), (?, ?, ?, 1, ?, ?)",
    "upsert_contacts": "INSERT INTO im_msg_contact (owner_uid, other_uid, mid, type, read_mid, create_time,"
                       " update_time) VALUES (?, ?, ?, 0, 0, ?, ?), (?, ?, ?, 1, 0, ?, ?)"
                       " ON CONFLICT (owner_uid, other_uid) DO UPDATE SET mid = excluded.mid,"
                       " type = excluded.type, update_time = excluded.update_time",
    "timeline": f"SELECT r.seq, {MESSAGE_COLUMNS} FROM im_msg_relation r JOIN im_msg_content c ON c.mid = r.mid"
                " WHERE r.owner_uid = ? AND r.seq > ? ORDER BY r.seq LIMIT ?",
    "history_before": f"SELECT {MESSAGE_COLUMNS} FROM im_msg_relation r JOIN im_msg_content c ON c.mid = r.mid"
                      " WHERE r.owner_uid = ? AND r.other_uid = ? AND r.mid < ? ORDER BY r.mid DESC LIMIT ?",
    "history_after": f"SELECT {MESSAGE_COLUMNS} FROM im_msg_relation r JOIN im_msg_content c ON c.mid = r.mid"
                     " WHERE r.owner_uid = ? AND r.other_uid = ? AND r.mid > ? ORDER BY r.mid LIMIT ?",
    "contacts": f"SELECT ct.other_uid, p.read_mid, {MESSAGE_COLUMNS} FROM im_msg_contact ct"
                " JOIN im_msg_content c ON c.mid = ct.mid"
                " LEFT JOIN im_msg_contact p ON p.owner_uid = ct.other_uid AND p.other_uid = ct.owner_uid"
                " WHERE ct.owner_uid = ? ORDER BY ct.mid DESC LIMIT ?",
    "contact": "SELECT mid, read_mid FROM im_msg_contact WHERE owner_uid = ? AND other_uid = ?",
    "peer_read": "SELECT read_mid FROM im_msg_contact WHERE owner_uid = ? AND other_uid = ?",
    "set_read": "UPDATE im_msg_contact SET read_mid = ? WHERE owner_uid = ? AND other_uid = ? AND read_mid < ?",
    "unread_in": "SELECT COUNT(*) FROM im_msg_relation WHERE owner_uid = ? AND other_uid = ? AND type = 1"
                 " AND mid > ?",
    # Driven by the contact rows, so each count reads only what lies after that conversation's read marker
    # (through the (owner_uid, other_uid, mid) index), never the whole history.
    "unread_of": "SELECT ct.other_uid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = ct.owner_uid"
                 " AND r.other_uid = ct.other_uid AND r.type = 1 AND r.mid > ct.read_mid)"
                 " FROM im_msg_contact ct WHERE ct.owner_uid = ?",
    "received_between": "SELECT other_uid, MAX(mid) FROM im_msg_relation WHERE owner_uid = ? AND type = 1"
                        " AND seq > ? AND seq <= ? GROUP BY other_uid",
}


@dataclass(frozen=True)
class Message:
    mid: int
    sender: int
    recipient: int
    content: str
    client_msg_id: str | None
    created_ms: int

    @classmethod
    def from_row(cls, row) -> Message:
        return cls(int(row[0]), int(row[1]), int(row[2]), row[3], row[4], int(row[5]))


@dataclass(frozen=True)
class Stored:
    """What a send wrote: the message, both seqs, and the recipient's counters after it."""

    message: Message
    created: bool  # False when client_msg_id named a message stored before
    sender_seq: int = 0
    recipient_seq: int = 0
    recipient_total: int = 0
    recipient_conversation: int = 0
    counters_ready: bool = True


class _AlreadyStored(Exception):
    def __init__(self, message: Message):
        self.message = message


class MessageStore:
    """The course's three message tables: content, per-user relation (index) and contacts."""

    def __init__(self, db: peewee.Database, counters: UnreadCounters):
        self.db, self.counters = db, counters
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _one(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params).fetchone()

    def _all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.sql[name], params).fetchall()

    def store(self, sender: int, recipient: int, content: str, client_msg_id: str | None) -> Stored:
        """Write one message in one transaction and bump the recipient's unread counters last."""
        counted = False  # set once the unread script has run: only the commit can fail after it
        try:
            with write_transaction(self.db):
                stored = self._store_locked(sender, recipient, content, client_msg_id)
                counted = True
            return stored
        except _AlreadyStored as done:  # the transaction rolled back: the seqs taken are given back
            return Stored(done.message, created=False)
        except peewee.IntegrityError:
            existing = client_msg_id and self.find_by_client_id(sender, client_msg_id)
            if existing:  # a concurrent retry of the same send won the race
                return Stored(existing, created=False)
            raise
        except Exception:
            if counted:
                self._recount_after_failure(recipient)
            raise

    def _recount_after_failure(self, uid: int) -> None:
        """A transaction failed, maybe after its unread script ran (the commit itself can fail): Redis may
        be ahead of the database, so recount uid from the database. A process that dies at that moment
        is recounted at its next start instead (create_app reconciles every user)."""
        try:
            self.rebuild_counters(uid)
        except Exception:  # the store is down: the next start, or --reconcile, repairs it
            log.warning("could not recount %s after a failed transaction", uid, exc_info=True)

    def _store_locked(self, sender: int, recipient: int, content: str, client_msg_id: str | None) -> Stored:
        # Lock both users' rows in ascending uid order (no deadlock) and take each one's next seq.
        seqs = {}
        for uid in sorted((sender, recipient)):
            row = self._one("next_seq", uid)
            if row is None:
                raise UnknownUser(uid)
            seqs[uid] = int(row[0])
        if client_msg_id is not None:  # safe now: the sender's row is locked
            existing = self.find_by_client_id(sender, client_msg_id)
            if existing:
                raise _AlreadyStored(existing)
        now = int(time.time() * 1000)
        mid = int(self._one("insert_content", content, sender, recipient, client_msg_id, now)[0])
        self.db.execute_sql(self.sql["insert_relations"], (
            sender, recipient, mid, seqs[sender], now, recipient, sender, mid, seqs[recipient], now))
        self.db.execute_sql(self.sql["upsert_contacts"], (
            sender, recipient, mid, now, now, recipient, sender, mid, now, now))
        total, conversation, ready = self.counters.on_message(sender, recipient, seqs[sender], seqs[recipient])
        message = Message(mid, sender, recipient, content, client_msg_id, now)
        return Stored(message, True, seqs[sender], seqs[recipient], total, conversation, ready)

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

    def contacts(self, uid: int, limit: int) -> list[tuple[int, int, Message]]:
        """Return uid's recent contacts newest first, as (other uid, their read marker, last message)."""
        return [(int(r[0]), int(r[1] or 0), Message.from_row(r[2:])) for r in self._all("contacts", uid, limit)]

    def peer_read_mid(self, uid: int, other: int) -> int:
        """Return how far other has read the conversation with uid."""
        row = self._one("peer_read", other, uid)
        return int(row[0]) if row else 0

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
