"""Store layer: the rows of a message as the store hands them out (Message, Draft, Stored), and the hot
statements that write and read them, as plain SQL built once: Peewee's query building costs more than
SQLite itself (STACK-NOTES), and these few statements run on every send and every sync.
"""
from __future__ import annotations

from dataclasses import dataclass

MESSAGE_COLUMNS = "c.mid, c.sender_id, c.recipient_id, c.content, c.client_msg_id, c.create_time"

SQL = {
    "take_seqs": "UPDATE im_user SET seq = seq + ? WHERE uid = ? RETURNING seq",
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
    "contacts": f"SELECT ct.other_uid, p.read_mid, p.delivered_mid, {MESSAGE_COLUMNS} FROM im_msg_contact ct"
                " JOIN im_msg_content c ON c.mid = ct.mid"
                " LEFT JOIN im_msg_contact p ON p.owner_uid = ct.other_uid AND p.other_uid = ct.owner_uid"
                " WHERE ct.owner_uid = ? ORDER BY ct.mid DESC LIMIT ?",
    "contact": "SELECT mid, read_mid FROM im_msg_contact WHERE owner_uid = ? AND other_uid = ?",
    "peer_read": "SELECT read_mid, delivered_mid FROM im_msg_contact WHERE owner_uid = ? AND other_uid = ?",
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
    "user_exists": "SELECT 1 FROM im_user WHERE uid = ?",
    "set_delivered": "UPDATE im_msg_contact SET delivered_mid = ? WHERE owner_uid = ? AND other_uid = ?"
                     " AND delivered_mid < ? RETURNING other_uid",
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


@dataclass(frozen=True)
class Draft:
    """One message to store, as its sender asked for it."""

    sender: int
    recipient: int
    content: str
    client_msg_id: str | None = None
