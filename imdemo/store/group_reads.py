"""Store layer: reading groups: a group's row, its members, a user's groups and recent-contacts entries, the
senders a read covers, the read marks a former member left behind."""
from __future__ import annotations

from dataclasses import dataclass

import peewee

from .conversation import Conversation
from .message import MESSAGE_COLUMNS, Message

OWNER, MEMBER = 1, 0
GROUP_COLUMNS = "g.gid, g.name, g.owner_uid, g.member_count, g.created_at, g.storage"
SQL = {
    "group": f"SELECT {GROUP_COLUMNS} FROM im_group g WHERE g.gid = ? AND g.member_count > 0",
    "members": "SELECT uid, role, read_mid, joined_mid FROM im_group_member WHERE gid = ? AND left_mid IS NULL"
               " ORDER BY joined_mid, uid",
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
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _one(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params).fetchone()

    def _all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.sql[name], params).fetchall()

    def group(self, gid: int) -> GroupRow | None:
        """The group, or None when there is none (never made, or gone)."""
        row = self._one("group", gid)
        return GroupRow.from_row(row) if row else None

    def was_member(self, gid: int, uid: int) -> bool | None:
        """True for a current member, False for a former one, None for someone who never was."""
        row = self._one("membership", gid, uid)
        return None if row is None else row[0] is None

    def members(self, gid: int) -> list[Member]:
        """The current members, longest-standing first."""
        return [Member(int(u), int(r), int(m), int(j)) for u, r, m, j in self._all("members", gid)]

    def read_marks_when_left(self, gid: int, uid: int) -> dict[int, int]:
        """{member: read mark} of the members former member uid left behind, each only as far as the message
        that removed uid: how far each has read what uid received, and nothing of what came after it."""
        return {int(u): min(int(read), int(left)) for u, read, left in self._all("marks_when_left", gid, uid)}

    def groups_of(self, uid: int) -> list[GroupRow]:
        """The groups uid is a member of now, the most recently active first."""
        return [GroupRow.from_row(r) for r in self._all("groups_of", uid)]

    def contacts(self, uid: int, limit: int) -> list[tuple[GroupRow, bool, int, Message]]:
        """uid's groups as recent contacts, newest first: (group, still a member, uid's read mark, last message)."""
        return [(GroupRow.from_row(r), r[6] is None, int(r[7] or 0), Message.from_row(r[8:]))
                for r in self._all("contacts", uid, limit)]

    def senders_between(self, uid: int, gid: int, after_mid: int, up_to_mid: int) -> list[int]:
        """Who sent the messages uid received in small group gid with after_mid < mid <= up_to_mid."""
        peer = Conversation.group(gid).peer
        return [int(s) for (s,) in self._all("senders_between", uid, peer, after_mid, up_to_mid)]
