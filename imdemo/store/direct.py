"""Store layer: the 1:1 conversation's own rows: a message's two timeline rows and both users' contact rows
(the course's recent contacts, im_msg_contact: only 1:1 conversations have them), where each user's read
and delivered marks live.

Inside a commit it is one of the kinds of conversation the writer asks (commit.py): what to lock (nothing:
the two users' rows are locked when their seqs are taken), whose timelines a message reaches (both), and the
rows to write after the content row.
"""
from __future__ import annotations

import peewee

from .conversation import DIRECT_PEERS, Conversation
from .counters import UnreadCounters
from .database import write_transaction
from .errors import UnknownUser
from .message import MESSAGE_COLUMNS, SIGNALS, Draft, Message
from .rows import Rows

SQL = {
    "insert_relations": "INSERT INTO im_msg_relation (owner_uid, other_uid, mid, type, seq, create_time)"
                        " VALUES (?, ?, ?, 0, ?, ?), (?, ?, ?, 1, ?, ?)",
    "upsert_contacts": "INSERT INTO im_msg_contact (owner_uid, other_uid, mid, type, read_mid, create_time,"
                       " update_time) VALUES (?, ?, ?, 0, 0, ?, ?), (?, ?, ?, 1, 0, ?, ?)"
                       " ON CONFLICT (owner_uid, other_uid) DO UPDATE SET mid = excluded.mid,"
                       " type = excluded.type, update_time = excluded.update_time",
    "contacts": f"SELECT ct.other_uid, p.read_mid, p.delivered_mid, ct.read_mid, {MESSAGE_COLUMNS}"
                " FROM im_msg_contact ct"
                " JOIN im_msg_content c ON c.mid = ct.mid"
                " LEFT JOIN im_msg_contact p ON p.owner_uid = ct.other_uid AND p.other_uid = ct.owner_uid"
                " WHERE ct.owner_uid = ? ORDER BY ct.mid DESC LIMIT ?",
    "read_mark": "SELECT mid, read_mid FROM im_msg_contact WHERE owner_uid = ? AND other_uid = ?",
    "user_exists": "SELECT 1 FROM im_user WHERE uid = ?",
    "unread_in": "SELECT COUNT(*) FROM im_msg_relation WHERE owner_uid = ? AND other_uid = ? AND type = 1 AND mid > ?",
    "set_read": "UPDATE im_msg_contact SET read_mid = ? WHERE owner_uid = ? AND other_uid = ? AND read_mid < ?",
    "peer_marks": "SELECT read_mid, delivered_mid FROM im_msg_contact WHERE owner_uid = ? AND other_uid = ?",
    # Delivered receipts are for 1:1 messages (a group shows who has read, from the members' read marks). By
    # the (owner_uid, seq) index, the rows of the seqs an ACK covers; grouped in Python: with GROUP BY in the
    # statement SQLite chose the (owner_uid, other_uid, mid) index and read the owner's whole 1:1 history.
    "received_between": "SELECT other_uid, mid FROM im_msg_relation WHERE owner_uid = ? AND seq > ? AND seq <= ?"
                        f" AND type = 1 AND {DIRECT_PEERS}",
    "set_delivered": "UPDATE im_msg_contact SET delivered_mid = ? WHERE owner_uid = ? AND other_uid = ?"
                     " AND delivered_mid < ? RETURNING other_uid",
    "unread_of_everyone": "SELECT ct.owner_uid, ct.other_uid, (SELECT COUNT(*) FROM im_msg_relation r"
                          " WHERE r.owner_uid = ct.owner_uid AND r.other_uid = ct.other_uid AND r.type = 1"
                          " AND r.mid > ct.read_mid) FROM im_msg_contact ct",
    # What each 1:1 conversation of a user holds unread: received after its read mark (a rebuild's count)
    "unread_of": "SELECT ct.other_uid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = ct.owner_uid"
                 " AND r.other_uid = ct.other_uid AND r.type = 1 AND r.mid > ct.read_mid) FROM im_msg_contact ct"
                 " WHERE ct.owner_uid = ?",
}


class DirectStorage:
    """The 1:1 conversations: both users' timelines and contact rows."""

    unread = "each"  # each message counted for its recipient in its commit, the counts after it in its notice
    notice = "each"  # its two users each get a notice of their own (announce.py)
    many_rows = False  # a commit of 1:1 messages writes a handful of rows: no big page cache (database.py)

    def __init__(self, db: peewee.Database, rows: Rows, counters: UnreadCounters):
        self.db, self.rows, self.counters = db, rows, counters
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _one(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params).fetchone()

    def _all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.sql[name], params).fetchall()

    # --- inside a commit ---

    def lock(self, conversation: Conversation) -> Conversation:
        """Nothing to lock: the users' rows are locked as their seqs are taken (an unknown user fails there)."""
        return conversation

    def reach(self, draft: Draft, locked: Conversation) -> tuple[int, ...]:
        """Both users' timelines."""
        return draft.sender, locked.id

    def write(self, draft: Draft, seqs: dict[int, int], now: int, locked: Conversation) -> Message:
        """The content row, a row in each timeline, and both contact rows moved to the message (a signal moves
        none: it is about an older message, not the conversation's newest)."""
        sender, recipient = draft.sender, locked.id
        mid = self.rows.insert_content(draft, now)
        if draft.kind in SIGNALS:
            self.rows.index(mid, draft, seqs, now)
        else:
            self.db.execute_sql(self.sql["insert_relations"], (
                sender, recipient, mid, seqs[sender], now, recipient, sender, mid, seqs[recipient], now))
            self.db.execute_sql(self.sql["upsert_contacts"], (
                sender, recipient, mid, now, now, recipient, sender, mid, now, now))
        return Message(mid, sender, draft.conversation, draft.content, draft.client_msg_id, now, draft.kind,
                       attachment=draft.attachment, target_mid=draft.target, mentions=draft.mentions)

    def finish(self, locked: Conversation) -> None:
        """Nothing to record once a commit's messages are written."""

    def committed(self, locked: Conversation) -> None:
        """Nothing kept outside the database."""

    def own_timeline(self, locked: Conversation) -> bool:
        """A 1:1 conversation keeps no timeline of its own: its messages are in its two users'."""
        return False

    def owner(self, conversation: Conversation) -> None:
        """A 1:1 conversation has no owner (who may recall others' messages)."""
        return None

    # --- read marks (in the owner's contact row) ---

    def read_mark(self, uid: int, conversation: Conversation) -> tuple[int, int] | None:
        """(the conversation's newest mid, uid's read mark); None before its first message; UnknownUser when the
        other user does not exist."""
        row = self._one("read_mark", uid, conversation.peer)
        if row is None and self._one("user_exists", conversation.id) is None:
            raise UnknownUser(conversation.id)
        return (int(row[0] or 0), int(row[1])) if row else None

    def set_read_mark(self, uid: int, conversation: Conversation, mid: int, newest: int) -> None:
        self.db.execute_sql(self.sql["set_read"], (mid, uid, conversation.peer, mid))

    def covered(self, conversation: Conversation, newest: int) -> None:
        """Nothing is merged later for a 1:1 conversation: a count taken now needs no guard."""
        return None

    def count_unread(self, uid: int, conversation: Conversation, read_mid: int) -> int:
        """What uid has not read in the conversation after read_mid, counted from the rows."""
        return int(self._one("unread_in", uid, conversation.peer, read_mid)[0])

    def set_unread(self, uid: int, conversation: Conversation, unread: int, newest: int) -> int:
        """Set what uid has unread in the conversation in Redis; return the course's {uid}_T after it."""
        total, _ = self.counters.set_conversation(uid, conversation.unread_field, unread)
        return total

    def unread_of(self, uid: int) -> list[tuple[Conversation, int, int | None]]:
        """Each of uid's 1:1 conversations with what it holds unread, counted from the rows."""
        return [(Conversation.of_peer(int(peer)), int(n), None) for peer, n in self._all("unread_of", uid)]

    def unread_of_everyone(self) -> list[tuple[int, Conversation, int, int | None]]:
        """unread_of() of every user at once (a rebuild at start): (uid, conversation, unread, None)."""
        return [(int(uid), Conversation.of_peer(int(peer)), int(n), None)
                for uid, peer, n in self._all("unread_of_everyone")]

    # --- recent contacts and delivered marks ---

    def contacts(self, uid: int, limit: int) -> list[tuple[int, int, int, int, Message]]:
        """uid's 1:1 conversations, newest first: (other uid, their read and delivered marks, uid's own read mark,
        last message)."""
        return [(int(r[0]), int(r[1] or 0), int(r[2] or 0), int(r[3] or 0), Message.from_row(r[4:]))
                for r in self._all("contacts", uid, limit)]

    def peer_marks(self, uid: int, other: int) -> tuple[int, int]:
        """How far other has read, and received, the conversation with uid."""
        row = self._one("peer_marks", other, uid)
        return (int(row[0]), int(row[1])) if row else (0, 0)

    def received_between(self, uid: int, after_seq: int, up_to_seq: int) -> dict[int, int]:
        """{sender: newest mid} of the 1:1 messages uid received with after_seq < seq <= up_to_seq."""
        newest: dict[int, int] = {}
        for other, mid in self._all("received_between", uid, after_seq, up_to_seq):
            newest[int(other)] = max(newest.get(int(other), 0), int(mid))
        return newest

    def mark_delivered(self, uid: int, received: dict[int, int]) -> dict[int, int]:
        """Raise uid's delivered marks to {sender: mid} (only forward), in one transaction; return the ones that
        moved."""
        with write_transaction(self.db, many_rows=False):
            return {sender: mid for sender, mid in received.items()
                    if self._one("set_delivered", mid, uid, sender, mid) is not None}
