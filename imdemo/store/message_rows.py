"""Store layer: the rows of a message as the store hands them out (Message, Draft, Stored), and the hot
statements that write and read them, as plain SQL built once: Peewee's query building costs more than
SQLite itself (STACK-NOTES), and these few statements run on every send and every sync.

A conversation is named by one number, its peer: the other party's uid for a 1:1 conversation, or minus
the gid for a group (`group_peer`). It is what im_msg_relation.other_uid and im_msg_content.recipient_id
hold, so one index range, (owner_uid, other_uid, mid), reads either kind of conversation.
"""
from __future__ import annotations

from dataclasses import dataclass, field

TEXT, SYSTEM = 0, 1  # im_msg_content.msg_type
SENT, RECEIVED, NOTICE = 0, 1, 2  # im_msg_relation.type: a system message is a notice, never unread
MESSAGE_COLUMNS = ("c.mid, c.sender_id, c.recipient_id, c.content, c.client_msg_id, c.create_time, c.msg_type,"
                   " c.gseq, c.event")

SQL = {
    "take_seqs": "UPDATE im_user SET seq = seq + ? WHERE uid = ? RETURNING seq",
    "lock_user": "UPDATE im_user SET seq = seq WHERE uid = ? RETURNING seq",
    "lock_group": "UPDATE im_group SET gseq = gseq WHERE gid = ? AND member_count > 0 RETURNING gseq",
    "group_members": "SELECT uid FROM im_group_member WHERE gid = ? AND left_mid IS NULL ORDER BY uid",
    "advance_group": "UPDATE im_group SET gseq = ?, last_mid = ? WHERE gid = ?",
    "membership": "SELECT left_mid FROM im_group_member WHERE gid = ? AND uid = ?",
    "find_by_client_id": f"SELECT {MESSAGE_COLUMNS} FROM im_msg_content c"
                         " WHERE c.sender_id = ? AND c.client_msg_id = ?",
    "insert_content": "INSERT INTO im_msg_content (content, sender_id, recipient_id, msg_type, client_msg_id,"
                      " create_time, gseq, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING mid",
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
    # A member's newest message of a group and their read marker (a former member has no current marker)
    "group_marker": "SELECT (SELECT MAX(r.mid) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                    " AND r.other_uid = -m.gid), m.read_mid FROM im_group_member m"
                    " WHERE m.uid = ? AND m.gid = ? AND m.left_mid IS NULL",
    "set_group_read": "UPDATE im_group_member SET read_mid = ? WHERE uid = ? AND gid = ? AND read_mid < ?",
    "peer_read": "SELECT read_mid, delivered_mid FROM im_msg_contact WHERE owner_uid = ? AND other_uid = ?",
    "set_read": "UPDATE im_msg_contact SET read_mid = ? WHERE owner_uid = ? AND other_uid = ? AND read_mid < ?",
    "unread_in": "SELECT COUNT(*) FROM im_msg_relation WHERE owner_uid = ? AND other_uid = ? AND type = 1"
                 " AND mid > ?",
    # Driven by the contact rows and the current memberships, so each count reads only what lies after that
    # conversation's read marker (through the (owner_uid, other_uid, mid) index), never the whole history.
    # Returns (peer, unread, for a group the newest mid the count covered).
    "unread_of": "SELECT ct.other_uid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = ct.owner_uid"
                 " AND r.other_uid = ct.other_uid AND r.type = 1 AND r.mid > ct.read_mid), NULL"
                 " FROM im_msg_contact ct WHERE ct.owner_uid = ?"
                 " UNION ALL SELECT -m.gid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                 " AND r.other_uid = -m.gid AND r.type = 1 AND r.mid > m.read_mid),"
                 " (SELECT MAX(r.mid) FROM im_msg_relation r WHERE r.owner_uid = m.uid AND r.other_uid = -m.gid)"
                 " FROM im_group_member m WHERE m.uid = ? AND m.left_mid IS NULL",
    # Delivered receipts are for 1:1 messages (a group shows who has read, from the members' read markers)
    "received_between": "SELECT other_uid, MAX(mid) FROM im_msg_relation WHERE owner_uid = ? AND type = 1"
                        " AND other_uid > 0 AND seq > ? AND seq <= ? GROUP BY other_uid",
    "user_exists": "SELECT 1 FROM im_user WHERE uid = ?",
    "set_delivered": "UPDATE im_msg_contact SET delivered_mid = ? WHERE owner_uid = ? AND other_uid = ?"
                     " AND delivered_mid < ? RETURNING other_uid",
}


def group_peer(gid: int) -> int:
    """The peer that names group gid's conversation."""
    return -gid


def unread_field(peer: int) -> str:
    """The field of `{uid}_C` that counts a conversation: the other uid, or `g<gid>` for a group."""
    return str(peer) if peer > 0 else f"g{-peer}"


@dataclass(frozen=True)
class Message:
    mid: int
    sender: int
    recipient: int  # the peer: a uid, or minus the gid
    content: str
    client_msg_id: str | None
    created_ms: int
    kind: int = TEXT
    gseq: int | None = None
    event: str | None = None  # JSON

    @property
    def gid(self) -> int | None:
        return -self.recipient if self.recipient < 0 else None

    @classmethod
    def from_row(cls, row) -> Message:
        return cls(int(row[0]), int(row[1]), int(row[2]), row[3], row[4], int(row[5]), int(row[6] or 0),
                   None if row[7] is None else int(row[7]), row[8])


@dataclass(frozen=True)
class Stored:
    """What a send wrote: the message, the seq it took in each timeline it reached, and, for a 1:1
    message, the recipient's counters after it."""

    message: Message
    created: bool  # False when client_msg_id named a message stored before
    seqs: dict[int, int] = field(default_factory=dict)  # uid -> seq, in the order the timelines were written
    recipient_total: int = 0
    recipient_conversation: int = 0
    counters_ready: bool = True


@dataclass(frozen=True)
class Draft:
    """One message to store, as its sender asked for it: to a user (recipient > 0) or a group (-gid)."""

    sender: int
    recipient: int
    content: str
    client_msg_id: str | None = None
    kind: int = TEXT
    event: str | None = None
