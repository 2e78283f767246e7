"""Store layer: groups (the course's lecture 20): im_group, im_group_member, and a group message's rows.

Inside a commit a group is one of the kinds of conversation the writer asks (commit.py): its row is locked
first (before any user's row, as every transaction does), so its gseqs are taken one at a time and every
member sees one order. How a message is stored is the group's own property (its `storage`): a small group
writes it into every member's timeline (write diffusion, a relation row each); a large one writes it once,
into the group's own timeline (read diffusion, read_diffusion.py), and its members keep only a read mark. A
member's read mark lives in their membership row; their recent-contacts entry derives from the membership and
the group's newest message (no contact row per member per message). The group's reads are group_reads.py's.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import peewee

from .conversation import Conversation, group_peer_sql
from .counters import UnreadCounters
from .errors import NotAMember, UnknownGroup
from .group_reads import GroupReads
from .large_counters import LargeCounters
from .message import NEVER_UNREAD, SIGNALS, Draft, Message
from .read_diffusion import ReadDiffusion
from .rows import Rows

WRITE, READ = 0, 1  # im_group.storage: write diffusion, read diffusion
PEER = group_peer_sql("m.gid")  # the group's peer in im_msg_relation, from a membership row
SQL = {
    "lock": "UPDATE im_group SET gseq = gseq WHERE gid = ? AND member_count > 0 RETURNING gseq, storage, counted",
    "member_uids": "SELECT uid FROM im_group_member WHERE gid = ? AND left_mid IS NULL ORDER BY uid",
    # a signal (a recall, an edit) is not the group's newest message: last_mid stays where it was (NULL)
    "advance": "UPDATE im_group SET gseq = ?, last_mid = COALESCE(?, last_mid), counted = ? WHERE gid = ?",
    "storage": "SELECT storage FROM im_group WHERE gid = ?",
    # A current member's newest message of the group (a small group's: in their timeline) and their read mark
    "read_mark": "SELECT (SELECT MAX(r.mid) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                 f" AND r.other_uid = {PEER}), m.read_mid FROM im_group_member m"
                 " WHERE m.uid = ? AND m.gid = ? AND m.left_mid IS NULL",
    "set_read": "UPDATE im_group_member SET read_mid = ? WHERE uid = ? AND gid = ? AND read_mid < ?",
    "unread_in": "SELECT COUNT(*) FROM im_msg_relation WHERE owner_uid = ? AND other_uid = ? AND type = 1 AND mid > ?",
    "unread_of_everyone": f"SELECT m.uid, m.gid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                          f" AND r.other_uid = {PEER} AND r.type = 1 AND r.mid > m.read_mid),"
                          " (SELECT MAX(r.mid) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                          f" AND r.other_uid = {PEER}) FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                          " WHERE m.left_mid IS NULL AND g.storage = 0",
    # What each current small group of a user holds unread, and the newest mid that count covered (a rebuild's)
    "unread_of": f"SELECT m.gid, (SELECT COUNT(*) FROM im_msg_relation r WHERE r.owner_uid = m.uid"
                 f" AND r.other_uid = {PEER} AND r.type = 1 AND r.mid > m.read_mid),"
                 f" (SELECT MAX(r.mid) FROM im_msg_relation r WHERE r.owner_uid = m.uid AND r.other_uid = {PEER})"
                 " FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                 " WHERE m.uid = ? AND m.left_mid IS NULL AND g.storage = 0",
}


@dataclass
class LockedGroup:
    """A group whose row a commit holds locked: its last gseq, how it stores messages, its current members (a
    small group's; a large one's are not read), the messages so far that count as unread, its newest message."""

    gid: int
    gseq: int
    storage: int
    counted: int
    members: list[int] | None  # in uid order; None for a large group
    newest: int = 0  # the newest message a commit wrote here (0: none yet; a signal is never the newest)
    taken_from: int = -1  # the gseq the commit found (finish() records the group's row only if it moved)
    accounted: dict[int, int] = field(default_factory=dict)  # a large group's recall: uid -> L, raised after it

    def __post_init__(self):
        self.taken_from = self.gseq
    own: dict[int, int] = field(default_factory=dict)  # a large group's senders: uid -> the counted messages they read


class GroupStorage(GroupReads):
    """Groups and their members, and the rows of their messages, by write or by read diffusion."""

    notice = "fanout"  # a small group's message names its members and their seqs as two lists (announce.py)
    many_rows = True  # a message writes a row per member: its commit gets the big page cache (database.py)

    def __init__(self, db: peewee.Database, rows: Rows, counters: UnreadCounters, large: LargeCounters,
                 merged: bool = False):
        super().__init__(db)
        self.rows, self.counters = rows, counters
        self.large = ReadDiffusion(db, rows, large)
        self._large: set[int] = set()  # gids seen stored by read diffusion
        self.sql.update({name: text.replace("?", db.param) for name, text in SQL.items()})
        # merged: a small group message's unread is counted after its commit, merged over a window (merge.py)
        self.unread = "merged" if merged else "summed"

    # --- inside a commit ---

    def lock(self, conversation: Conversation) -> LockedGroup | None:
        """Lock the group's row (its gseqs are taken under this lock, so gseq order is commit order); None when
        there is no such group (never made, or gone). A large group's members are not read: a sender's
        membership is asked alone."""
        row = self._one("lock", conversation.id)
        if row is None:
            return None
        gseq, storage, counted = (int(x or 0) for x in row)
        members = None if storage == READ else [int(u) for (u,) in self._all("member_uids", conversation.id)]
        return LockedGroup(conversation.id, gseq, storage, counted, members)

    def reach(self, draft: Draft, locked: LockedGroup | None) -> tuple[int, ...]:
        """A small group's message reaches every current member's timeline, a large group's none (it goes in the
        group's own); refused to anyone not a member now (403 for a former member, 404 for others)."""
        gid = draft.conversation.id
        if locked is not None and locked.members is not None and draft.sender in locked.members:
            return tuple(locked.members)
        state = self.was_member(gid, draft.sender) if locked is not None else None
        if locked is not None and locked.members is None and state:
            return ()
        if state is not None:
            raise NotAMember(gid, draft.sender, former=True)
        raise UnknownGroup(gid)

    def write(self, draft: Draft, seqs: dict[int, int], now: int, locked: LockedGroup) -> Message:
        """The content row, then its rows: a small group's in each member's timeline; a large group's in the
        group's own (and in the timelines seqs names: those a membership change joins or removes). A message
        takes the group's next gseq. A signal (a recall, an edit) is about a message in the group's order and is
        never the group's newest: in a small group it takes no gseq and goes in the timelines seqs names (those
        holding its target); in a large group it takes a gseq, so that its members' group cursors bring it."""
        if draft.kind in SIGNALS and locked.storage != READ:
            mid = self.rows.insert_content(draft, now)
            self.rows.index(mid, draft, seqs, now)
            return Message(mid, draft.sender, draft.conversation, draft.content, draft.client_msg_id, now, draft.kind,
                           target_mid=draft.target)
        locked.gseq += 1
        locked.counted += draft.kind not in NEVER_UNREAD
        mid = self.rows.insert_content(draft, now, locked.gseq)
        if draft.kind not in SIGNALS:
            locked.newest = mid
        if seqs:
            self.rows.index(mid, draft, seqs, now)
        if locked.storage == READ:
            self.large.write(mid, draft, locked)
        return Message(mid, draft.sender, draft.conversation, draft.content, draft.client_msg_id, now, draft.kind,
                       locked.gseq, draft.event, draft.attachment, target_mid=draft.target, mentions=draft.mentions)

    def finish(self, locked: LockedGroup | None) -> None:
        """Record the group's newest message, its last gseq and its counted messages (its row is locked)."""
        if locked is not None and locked.gseq != locked.taken_from:
            self.db.execute_sql(self.sql["advance"], (locked.gseq, locked.newest or None, locked.counted, locked.gid))

    def committed(self, locked: LockedGroup) -> None:
        """After the commit: a large group's counts in Redis (its counted messages, its senders' read marks)."""
        if locked is not None and locked.storage == READ and locked.gseq != locked.taken_from:
            self.large.committed(locked)
            if locked.accounted:
                self.large.counters.account_many(locked.gid, locked.accounted)

    # --- signals in a large group (store/signals.py asks: its messages are in no member's timeline) ---

    def sees(self, uid: int, target: Message) -> bool:
        """Whether uid may see target here, as their history shows it: within their join bounds."""
        return self.large.sees(uid, target.conversation.id, target.mid)

    def present(self, gid: int, uids: list[int]) -> tuple[int, ...]:
        """Those of uids who are members now (whom a message may mention)."""
        return self.large.present(gid, uids)

    def holding_rows(self, target: Message, locked: LockedGroup, holding) -> tuple[int, ...]:
        """The current members whose own timelines hold target: a message from before the group was large."""
        if self.large.in_timeline(locked.gid, target.mid):
            return ()
        return holding(target.mid, tuple(m.uid for m in self.members(locked.gid)))

    def recalled(self, target: Message, locked: LockedGroup) -> None:
        """A recall of target (in this commit): every member who had it unread accounts for it, in Redis after
        the commit (N - L: the group's count stays, their L rises)."""
        locked.accounted.update(self.large.accounted_before(locked.gid, target))

    def owner(self, conversation: Conversation) -> int | None:
        """Who owns the group (may recall any message in it), read under its lock in a commit."""
        row = self.group(conversation.id)
        return row.owner if row is not None else None

    # --- read marks (in the membership row) and unread ---

    def is_large(self, gid: int) -> bool:
        """Whether gid is stored by read diffusion (a group that is stays so: remembered once seen)."""
        if gid in self._large:
            return True
        row = self._one("storage", gid)
        if row is not None and int(row[0] or 0) == READ:
            self._large.add(gid)
            return True
        return False

    def own_timeline(self, locked: LockedGroup | None) -> bool:
        """Whether the messages just written went into the group's own timeline (read diffusion)."""
        return locked is not None and locked.storage == READ

    def read_mark(self, uid: int, conversation: Conversation) -> tuple[int, int]:
        """(uid's newest message of the group, uid's read mark); NotAMember for anyone not a member now."""
        gid = conversation.id
        row = self.large.read_mark(uid, gid) if self.is_large(gid) else self._one("read_mark", uid, gid)
        if row is None:
            raise NotAMember(gid, uid, self.was_member(gid, uid) is not None)
        return int(row[0] or 0), int(row[1])

    def set_read_mark(self, uid: int, conversation: Conversation, mid: int, newest: int) -> None:
        self.db.execute_sql(self.sql["set_read"], (mid, uid, conversation.id, mid))

    def count_unread(self, uid: int, conversation: Conversation, read_mid: int) -> int:
        """What uid has not read in the group after read_mid, counted from the rows."""
        if self.is_large(conversation.id):
            return self.large.unread_after(uid, conversation.id, read_mid)
        return int(self._one("unread_in", uid, conversation.peer, read_mid)[0])

    def set_unread(self, uid: int, conversation: Conversation, unread: int, newest: int) -> int | None:
        """Set what uid has unread in the group (counted from the rows) in Redis; return the course's {uid}_T
        after it, or None for a large group's (not in T: large_counters.py)."""
        if self.is_large(conversation.id):
            self.large.set_unread(uid, conversation.id, unread)
            return None
        # a count taken now covers the messages up to newest: merged changes still on their way skip them
        total, _ = self.counters.set_conversation(uid, conversation.unread_field, unread, (conversation.id, newest))
        return total

    def large_unread(self, uid: int) -> dict[int, int]:
        """{gid: what uid has unread} in each of uid's large groups, from Redis (N - L)."""
        return self.large.counters.unread(uid)

    def unread_of(self, uid: int) -> list[tuple[Conversation, int, int | None]]:
        """Each of uid's small groups with what it holds unread and the newest mid that count covered (the
        large ones are counted by read_diffusion.py)."""
        return [(Conversation.group(int(gid)), int(n), int(newest or 0))
                for gid, n, newest in self._all("unread_of", uid)]

    def unread_of_everyone(self) -> list[tuple[int, Conversation, int, int | None]]:
        """unread_of() of every user at once (a rebuild at start): (uid, conversation, unread, newest covered)."""
        return [(int(uid), Conversation.group(int(gid)), int(n), int(newest or 0))
                for uid, gid, n, newest in self._all("unread_of_everyone")]

    def covered(self, conversation: Conversation, newest: int) -> tuple[int, int]:
        """What a count taken now covered: merged changes still on their way skip it (counters.py, MERGE)."""
        return conversation.id, newest
