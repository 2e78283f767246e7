"""Store layer: groups (the course's lecture 20): im_group, im_group_member, and a group message's rows.

Inside a commit a group is one of the kinds of conversation the writer asks (commit.py): its row is locked
first (before any user's row, as every transaction does), so its gseqs are taken one at a time and every
member sees one order; a message reaches every current member's timeline (write diffusion); the group's row
records its newest message. A member's read mark lives in their membership row, and their recent-contacts
entry derives from the membership and the group's newest message (no contact row per member per message).
"""
from __future__ import annotations

from dataclasses import dataclass

import peewee

from .conversation import Conversation, group_peer_sql
from .errors import NotAMember, UnknownGroup
from .message import MESSAGE_COLUMNS, SIGNALS, Draft, Message
from .rows import Rows

OWNER, MEMBER = 1, 0
GROUP_COLUMNS = "g.gid, g.name, g.owner_uid, g.member_count, g.created_at"
PEER = group_peer_sql("m.gid")  # the group's peer in im_msg_relation, from a membership row
SQL = {
    "lock": "UPDATE im_group SET gseq = gseq WHERE gid = ? AND member_count > 0 RETURNING gseq",
    "member_uids": "SELECT uid FROM im_group_member WHERE gid = ? AND left_mid IS NULL ORDER BY uid",
    "advance": "UPDATE im_group SET gseq = ?, last_mid = ? WHERE gid = ?",
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
    # A current member's newest message of the group and their read mark
    "read_mark": "SELECT (SELECT MAX(r.mid) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                 f" AND r.other_uid = {PEER}), m.read_mid FROM im_group_member m"
                 " WHERE m.uid = ? AND m.gid = ? AND m.left_mid IS NULL",
    "set_read": "UPDATE im_group_member SET read_mid = ? WHERE uid = ? AND gid = ? AND read_mid < ?",
    # What each current group of a user holds unread, and the newest mid that count covered (a rebuild's)
    "unread_of": f"SELECT m.gid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                 f" AND r.other_uid = {PEER} AND r.type = 1 AND r.mid > m.read_mid),"
                 f" (SELECT MAX(r.mid) FROM im_msg_relation r WHERE r.owner_uid = m.uid AND r.other_uid = {PEER})"
                 " FROM im_group_member m WHERE m.uid = ? AND m.left_mid IS NULL",
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

    @classmethod
    def from_row(cls, row) -> GroupRow:
        return cls(int(row[0]), row[1], int(row[2]), int(row[3]), int(row[4]))


@dataclass(frozen=True)
class Member:
    uid: int
    role: int
    read_mid: int
    joined_mid: int


@dataclass
class LockedGroup:
    """A group whose row a commit holds locked: its last gseq, its current members, its newest message."""

    gid: int
    gseq: int
    members: list[int]  # in uid order
    newest: int = 0  # the newest message a commit wrote here (0: none yet)


class GroupStorage:
    """Groups and their members, and the rows of their messages (write diffusion)."""

    notice = "fanout"  # a message names its members and their seqs as two lists (announce.py)
    many_rows = True  # a message writes a row per member: its commit gets the big page cache (database.py)

    def __init__(self, db: peewee.Database, rows: Rows, merged: bool = False):
        self.db, self.rows = db, rows
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}
        # merged: a group message's unread is counted after its commit, merged over a window (merge.py)
        self.unread = "merged" if merged else "summed"

    def _one(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params).fetchone()

    def _all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.sql[name], params).fetchall()

    # --- inside a commit ---

    def lock(self, conversation: Conversation) -> LockedGroup | None:
        """Lock the group's row (its gseqs are taken under this lock, so gseq order is commit order); None when
        there is no such group (never made, or gone)."""
        row = self._one("lock", conversation.id)
        if row is None:
            return None
        return LockedGroup(conversation.id, int(row[0]), [int(u) for (u,) in self._all("member_uids", conversation.id)])

    def reach(self, draft: Draft, locked: LockedGroup | None) -> tuple[int, ...]:
        """Every current member's timeline; refused to anyone else (403 for a former member, 404 for others)."""
        gid = draft.conversation.id
        if locked is not None and draft.sender in locked.members:
            return tuple(locked.members)
        if locked is not None and self.was_member(gid, draft.sender) is not None:
            raise NotAMember(gid, draft.sender, former=True)
        raise UnknownGroup(gid)

    def write(self, draft: Draft, seqs: dict[int, int], now: int, locked: LockedGroup) -> Message:
        """The content row with the group's next gseq, then a row in each member's timeline. A signal takes no
        gseq and is not the group's newest message: it is about one that is in the group's order."""
        if draft.kind in SIGNALS:
            mid = self.rows.insert_content(draft, now)
            self.rows.index(mid, draft, seqs, now)
            return Message(mid, draft.sender, draft.conversation, draft.content, draft.client_msg_id, now, draft.kind,
                           target_mid=draft.target)
        locked.gseq += 1
        mid = locked.newest = self.rows.insert_content(draft, now, locked.gseq)
        self.rows.index(mid, draft, seqs, now)
        return Message(mid, draft.sender, draft.conversation, draft.content, draft.client_msg_id, now, draft.kind,
                       locked.gseq, draft.event, mentions=draft.mentions)

    def finish(self, locked: LockedGroup | None) -> None:
        """Record the group's newest message and its last gseq (its row is locked)."""
        if locked is not None and locked.newest:
            self.db.execute_sql(self.sql["advance"], (locked.gseq, locked.newest, locked.gid))

    def owner(self, conversation: Conversation) -> int | None:
        """Who owns the group (may recall any message in it), read under its lock in a commit."""
        row = self.group(conversation.id)
        return row.owner if row is not None else None

    # --- read marks (in the membership row) ---

    def read_mark(self, uid: int, conversation: Conversation) -> tuple[int, int]:
        """(uid's newest message of the group, uid's read mark); NotAMember for anyone not a member now."""
        row = self._one("read_mark", uid, conversation.id)
        if row is None:
            raise NotAMember(conversation.id, uid, self.was_member(conversation.id, uid) is not None)
        return int(row[0] or 0), int(row[1])

    def set_read_mark(self, uid: int, conversation: Conversation, mid: int, newest: int) -> None:
        self.db.execute_sql(self.sql["set_read"], (mid, uid, conversation.id, mid))

    def covered(self, conversation: Conversation, newest: int) -> tuple[int, int]:
        """What a count taken now covered: merged changes still on their way skip it (counters.py, MERGE)."""
        return conversation.id, newest

    def unread_of(self, uid: int) -> list[tuple[Conversation, int, int | None]]:
        """Each of uid's groups with what it holds unread and the newest mid that count covered."""
        return [(Conversation.group(int(gid)), int(n), int(newest or 0))
                for gid, n, newest in self._all("unread_of", uid)]

    # --- reads ---

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
        return [(GroupRow.from_row(r), r[5] is None, int(r[6] or 0), Message.from_row(r[7:]))
                for r in self._all("contacts", uid, limit)]

    def senders_between(self, uid: int, gid: int, after_mid: int, up_to_mid: int) -> list[int]:
        """Who sent the messages uid received in gid with after_mid < mid <= up_to_mid."""
        peer = Conversation.group(gid).peer
        return [int(s) for (s,) in self._all("senders_between", uid, peer, after_mid, up_to_mid)]
