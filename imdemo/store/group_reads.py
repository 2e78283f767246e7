"""Store layer: reading groups: a group's row, its members, a user's groups and recent-contacts entries, the
senders a read covers, the read marks a former member left behind."""
from __future__ import annotations

from dataclasses import dataclass

import peewee

from .conversation import Conversation
from .message import MESSAGE_COLUMNS, Message
from .statements import Statements, holding, names_holding

OWNER, MEMBER = 1, 0
GROUP_COLUMNS = "g.gid, g.name, g.owner_uid, g.member_count, g.created_at, g.storage"
PAGED = ("m.uid, m.role, m.read_mid, m.joined_mid FROM im_group_member m JOIN im_user u ON u.uid = m.uid"
         " WHERE m.gid = ? AND m.left_mid IS NULL AND (m.joined_mid > ? OR (m.joined_mid = ? AND m.uid > ?))")
SQL = {
    "group": f"SELECT {GROUP_COLUMNS} FROM im_group g WHERE g.gid = ? AND g.member_count > 0",
    "members": "SELECT uid, role, read_mid, joined_mid FROM im_group_member WHERE gid = ? AND left_mid IS NULL"
               " ORDER BY joined_mid, uid",
    # A page of the current members in the same order, after a member's (joined_mid, uid), optionally only
    # those whose username or nickname holds a text: a 万人群's ten thousand are never read at once.
    "member_page": f"SELECT {PAGED} ORDER BY m.joined_mid, m.uid LIMIT ?",
    "member_search": f"SELECT {PAGED} AND {names_holding('u')} ORDER BY m.joined_mid, m.uid LIMIT ?",
    "membership": "SELECT left_mid FROM im_group_member WHERE gid = ? AND uid = ?",
    # The members a former member left behind (joined before the message that removed them, not gone before
    # it: themself included), with that message's mid.
    "marks_when_left": "SELECT m.uid, m.read_mid, x.left_mid FROM im_group_member x JOIN im_group_member m"
                       " ON m.gid = x.gid WHERE x.gid = ? AND x.uid = ? AND m.joined_mid < x.left_mid"
                       " AND (m.left_mid IS NULL OR m.left_mid >= x.left_mid)",
    "groups_of": f"SELECT {GROUP_COLUMNS} FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                 " WHERE m.uid = ? AND m.left_mid IS NULL AND g.member_count > 0 ORDER BY g.last_mid DESC",
    # A recent-contacts entry per group derives from the membership and the group's newest message (for a
    # former member, the message that removed them): no contact row per member per message.
    "contacts": f"SELECT {GROUP_COLUMNS}, m.left_mid, m.read_mid, {MESSAGE_COLUMNS} FROM im_group_member m"
                " JOIN im_group g ON g.gid = m.gid JOIN im_msg_content c ON c.mid = COALESCE(m.left_mid, g.last_mid)"
                " WHERE m.uid = ? AND g.member_count > 0 ORDER BY c.mid DESC LIMIT ?",
    # The senders of the messages a read covers: their screens show who has read.
    "senders_between": "SELECT DISTINCT c.sender_id FROM im_msg_relation r JOIN im_msg_content c ON c.mid = r.mid"
                       " WHERE r.owner_uid = ? AND r.other_uid = ? AND r.type = 1 AND r.mid > ? AND r.mid <= ?",
}


@dataclass(frozen=True)
class GroupRow:
    gid: int
    name: str
    owner: int
    member_count: int
    created_ms: int
    storage: int = 0  # 0 write diffusion, 1 read diffusion (groups.py)

    @classmethod
    def from_row(cls, row) -> GroupRow:
        return cls(int(row[0]), row[1], int(row[2]), int(row[3]), int(row[4]), int(row[5] or 0))


@dataclass(frozen=True)
class Member:
    uid: int
    role: int
    read_mid: int
    joined_mid: int


class GroupReads:
    """The reads of groups, by the (gid, uid) and (uid, gid) indexes of the membership rows."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.sql = Statements(db, SQL)



    def group(self, gid: int) -> GroupRow | None:
        """The group, or None when there is none (never made, or gone)."""
        row = self.sql.one("group", gid)
        return GroupRow.from_row(row) if row else None

    def was_member(self, gid: int, uid: int) -> bool | None:
        """True for a current member, False for a former one, None for someone who never was."""
        row = self.sql.one("membership", gid, uid)
        return None if row is None else row[0] is None

    def members(self, gid: int) -> list[Member]:
        """The current members, longest-standing first."""
        return [Member(int(u), int(r), int(m), int(j)) for u, r, m, j in self.sql.all("members", gid)]

    def member_page(self, gid: int, after: tuple[int, int], limit: int, text: str = "") -> list[Member]:
        """Up to limit current members after the member at after (joined_mid, uid; (0, 0) for the first),
        in the order of members(); with text, only those whose username or nickname holds it (any case)."""
        start = (gid, after[0], after[0], after[1])
        if not text:
            rows = self.sql.all("member_page", *start, limit)
        else:
            rows = self.sql.all("member_search", *start, holding(text), holding(text), limit)
        return [Member(int(u), int(r), int(m), int(j)) for u, r, m, j in rows]

    def read_marks_when_left(self, gid: int, uid: int) -> dict[int, int]:
        """{member: read mark} of the members former member uid left behind, each only as far as the message
        that removed uid: how far each has read what uid received, and nothing of what came after it."""
        return {int(u): min(int(read), int(left)) for u, read, left in self.sql.all("marks_when_left", gid, uid)}

    def groups_of(self, uid: int) -> list[GroupRow]:
        """The groups uid is a member of now, the most recently active first."""
        return [GroupRow.from_row(r) for r in self.sql.all("groups_of", uid)]

    def contacts(self, uid: int, limit: int) -> list[tuple[GroupRow, bool, int, Message]]:
        """uid's groups as recent contacts, newest first: (group, still a member, uid's read mark, last message)."""
        return [(GroupRow.from_row(r), r[6] is None, int(r[7] or 0), Message.from_row(r[8:]))
                for r in self.sql.all("contacts", uid, limit)]

    def senders_between(self, uid: int, gid: int, after_mid: int, up_to_mid: int) -> list[int]:
        """Who sent the messages uid received in small group gid with after_mid < mid <= up_to_mid."""
        peer = Conversation.group(gid).peer
        return [int(s) for (s,) in self.sql.all("senders_between", uid, peer, after_mid, up_to_mid)]
