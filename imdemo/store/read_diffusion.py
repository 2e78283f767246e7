"""Store layer: a large group's messages by read diffusion (lecture 20, 万人群): one row a message in the
group's own timeline (im_group_timeline), nothing per member. A member reads the timeline within their join
bounds and keeps one read mark; their unread is large_counters.py's N - L. What a member does themself (join,
leave, read, send) is the only per-member write.
"""
from __future__ import annotations

import peewee

from .conversation import GROUP, Conversation
from .large_counters import LargeCounters
from .message import MESSAGE_COLUMNS, NEVER_UNREAD, RECALL, SIGNALS, Draft, Message
from .reader import with_targets
from .rows import Rows
from .statements import Statements

COUNTED = f"msg_type NOT IN ({', '.join(str(kind) for kind in sorted(NEVER_UNREAD))})"  # as im_group.counted
NOT_SIGNALS = f"t.msg_type NOT IN ({', '.join(str(kind) for kind in sorted(SIGNALS))})"  # history shows targets
SQL = {
    "insert": "INSERT INTO im_group_timeline (gid, gseq, mid, sender_id, msg_type, counted)"
              " VALUES (?, ?, ?, ?, ?, ?)",
    # sending marks what came before as read (as WeChat does): the sender's read mark moves to their message
    "own_read": "UPDATE im_group_member SET read_mid = ? WHERE gid = ? AND uid = ? AND read_mid < ?",
    "read_mark": "SELECT g.last_mid, m.read_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                 " WHERE m.uid = ? AND m.gid = ? AND m.left_mid IS NULL",
    # What uid has not read after a mid, and the group's counted messages, in one statement (one snapshot): others'
    # messages that count in the group's timeline, and, for a group that was small once, in uid's own timeline
    # (a recalled message no longer counts: its timeline row stays, its content row says it was recalled)
    "unread_after": "SELECT g.counted, (SELECT COUNT(*) FROM im_group_timeline t JOIN im_msg_content c"
                    f" ON c.mid = t.mid WHERE t.gid = g.gid AND t.mid > ? AND t.{COUNTED} AND t.sender_id <> ?"
                    " AND c.recalled_by IS NULL) + (SELECT COUNT(*) FROM im_msg_relation r"
                    " WHERE r.owner_uid = ? AND r.other_uid = ? AND r.type = 1 AND r.mid > ?)"
                    " FROM im_group g WHERE g.gid = ?",
    "memberships": "SELECT m.gid, m.read_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                   " WHERE m.uid = ? AND m.left_mid IS NULL AND g.storage = 1 AND g.member_count > 0",
    "senders_between": "SELECT DISTINCT sender_id FROM im_group_timeline WHERE gid = ? AND mid > ? AND mid <= ?"
                       f" AND {COUNTED} AND sender_id <> ?",
    "bounds": "SELECT joined_mid, left_mid FROM im_group_member WHERE gid = ? AND uid = ?",
    # the messages of a large group after a gseq, within a member's join bounds, in gseq order
    "after": f"SELECT t.gseq, {MESSAGE_COLUMNS} FROM im_group_timeline t JOIN im_msg_content c ON c.mid = t.mid"
             " WHERE t.gid = ? AND t.gseq > ? AND t.mid >= ? AND t.mid <= ? ORDER BY t.gseq LIMIT ?",
    # a page of a large group's history within a member's join bounds, by mid (with the rows of the member's
    # own timeline from before the group was large, history.py merges them)
    "page_before": f"SELECT {MESSAGE_COLUMNS} FROM im_group_timeline t JOIN im_msg_content c ON c.mid = t.mid"
                   f" WHERE t.gid = ? AND t.mid >= ? AND t.mid <= ? AND t.mid < ? AND {NOT_SIGNALS}"
                   " ORDER BY t.mid DESC LIMIT ?",
    "page_after": f"SELECT {MESSAGE_COLUMNS} FROM im_group_timeline t JOIN im_msg_content c ON c.mid = t.mid"
                  f" WHERE t.gid = ? AND t.mid >= ? AND t.mid <= ? AND t.mid > ? AND {NOT_SIGNALS}"
                  " ORDER BY t.mid LIMIT ?",
    # the messages recalled in a group (by the recalls' own rows, through the partial index on target_mid)
    "recalled": f"SELECT target_mid FROM im_msg_content WHERE target_mid IS NOT NULL AND msg_type = {RECALL}"
                " AND recipient_id = ?",
    "recalled_everywhere": "SELECT recipient_id, target_mid FROM im_msg_content WHERE target_mid IS NOT NULL"
                           f" AND msg_type = {RECALL}",
    # The current members a recall may move: those who had not read past it, joined before it, did not send it
    "accounted_before": "SELECT m.uid, m.gid, m.read_mid, (SELECT t.counted FROM im_group_timeline t"
                        " WHERE t.gid = m.gid AND t.mid <= m.read_mid ORDER BY t.mid DESC LIMIT 1),"
                        " g.switched_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                        " WHERE m.gid = ? AND m.left_mid IS NULL AND m.read_mid < ? AND m.joined_mid < ?"
                        " AND m.uid <> ?",
    "in_timeline": "SELECT 1 FROM im_group_timeline WHERE gid = ? AND mid = ?",
    "present": "SELECT uid FROM im_group_member WHERE gid = ? AND left_mid IS NULL AND uid IN ({marks})",
    "in_bounds": "SELECT 1 FROM im_group_member WHERE gid = ? AND uid = ? AND joined_mid <= ?"
                 " AND (left_mid IS NULL OR left_mid >= ?)",
    "newest": "SELECT gseq, counted FROM im_group WHERE gid = ?",
    # the last gseq at or before a mid (a former member's newest: the message before the one that removed them)
    "newest_at": "SELECT gseq FROM im_group_timeline WHERE gid = ? AND mid <= ? ORDER BY mid DESC LIMIT 1",
    # the first message of a large group's timeline that carries a file, within uid's join bounds (who may read
    # the file: services/files.py's FileAccess)
    "carrying": "SELECT t.mid, t.gid FROM im_msg_content c JOIN im_group_timeline t ON t.mid = c.mid"
                " JOIN im_group_member m ON m.gid = t.gid AND m.uid = ? WHERE c.fid = ? AND t.mid >= m.joined_mid"
                " AND (m.left_mid IS NULL OR t.mid <= m.left_mid) ORDER BY t.mid LIMIT 1",
    "large_groups": "SELECT gid, counted, gseq FROM im_group WHERE storage = 1 AND member_count > 0",
    # Every current member's accounted count (a rebuild at start): the group's counted messages at their read mark,
    # from the timeline row at or before it (their own never follow it: a send moves it); NULL for a
    # read mark from before the group was large, counted exactly instead
    "accounted_of_everyone": "SELECT m.uid, m.gid, m.read_mid, (SELECT t.counted FROM im_group_timeline t"
                             " WHERE t.gid = m.gid AND t.mid <= m.read_mid ORDER BY t.mid DESC LIMIT 1),"
                             " g.switched_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                             " WHERE m.left_mid IS NULL AND g.storage = 1 AND g.member_count > 0",
}
NEVER = 2**62


class ReadDiffusion:
    """The rows and reads of large groups."""

    def __init__(self, db: peewee.Database, rows: Rows, counters: LargeCounters):
        self.db, self.rows, self.counters = db, rows, counters
        self.sql = Statements(db, SQL)



    def write(self, mid: int, draft: Draft, locked) -> None:
        """The message's row in its group's timeline; a message that counts accounts for what came before it, for its
        sender (their read mark moves to it)."""
        gid = draft.conversation.id
        self.db.execute_sql(self.sql["insert"], (gid, locked.gseq, mid, draft.sender, draft.kind, locked.counted))
        if draft.kind not in NEVER_UNREAD:
            self.db.execute_sql(self.sql["own_read"], (mid, gid, draft.sender, mid))
            locked.own[draft.sender] = locked.counted

    def committed(self, locked) -> None:
        """After the commit: the group's N and Q, its senders' L."""
        self.counters.committed(locked.gid, locked.counted, locked.gseq, locked.own)

    def read_mark(self, uid: int, gid: int):
        """(the group's newest message, uid's read mark), or None for anyone not a member now."""
        return self.sql.one("read_mark", uid, gid)

    def unread_after(self, uid: int, gid: int, read_mid: int) -> int:
        return self.count(uid, gid, read_mid)[1]

    def count(self, uid: int, gid: int, read_mid: int) -> tuple[int, int]:
        """(the group's counted messages, what uid has not read after read_mid), from one snapshot."""
        row = self.sql.one("unread_after", read_mid, uid, uid, Conversation.group(gid).peer, read_mid, gid)
        return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)

    def set_unread(self, uid: int, gid: int, unread: int) -> None:
        """Account for what uid has read: the group's counted messages less what is still unread."""
        counted, _ = self.count(uid, gid, NEVER)
        self.counters.account(uid, gid, counted - unread)

    def accounted_of(self, uid: int) -> dict[int, int]:
        """{gid: the counted messages uid has accounted for} of each of uid's large groups, from the rows (a
        rebuild)."""
        result = {}
        for gid, read_mid in self.sql.all("memberships", uid):
            counted, unread = self.count(uid, int(gid), int(read_mid))
            result[int(gid)] = counted - unread
        return result

    def accounted_of_everyone(self) -> list[tuple[int, int, int]]:
        """accounted_of() of every member of every large group at once (a rebuild at start): (uid, gid, L)."""
        recalled: dict[int, list[int]] = {}
        for peer, mid in self.sql.all("recalled_everywhere"):
            conversation = Conversation.of_peer(int(peer))
            if conversation.kind == GROUP:
                recalled.setdefault(conversation.id, []).append(int(mid))
        return self._accounted(self.sql.all("accounted_of_everyone"), recalled)

    def accounted_before(self, gid: int, target: Message) -> dict[int, int]:
        """{uid: L} of the current members who had target unread (not read past it, joined before it, not its
        sender), counted as it stands in this commit: a recall's (it no longer counts)."""
        recalled = {gid: [int(mid) for (mid,) in self.sql.all("recalled", Conversation.group(gid).peer)]}
        rows = self.sql.all("accounted_before", gid, target.mid, target.mid, target.sender)
        return {uid: accounted for uid, _, accounted in self._accounted(rows, recalled)}

    def _accounted(self, rows, recalled: dict[int, list[int]]) -> list[tuple[int, int, int]]:
        """(uid, gid, L) of membership rows (uid, gid, read mark, the timeline's count at it, the switch): a read
        mark in the timeline accounts for the count at it and the recalled messages after it (none of a member's
        own: sending moves the mark); one from before the group was large is counted exactly instead."""
        result = []
        for uid, gid, read_mid, at_read, switched in rows:
            uid, gid, read_mid = int(uid), int(gid), int(read_mid)
            if at_read is None or (switched is not None and read_mid <= int(switched)):
                counted, unread = self.count(uid, gid, read_mid)
                result.append((uid, gid, counted - unread))
            else:
                after = sum(1 for mid in recalled.get(gid, ()) if mid > read_mid)
                result.append((uid, gid, int(at_read) + after))
        return result

    def in_timeline(self, gid: int, mid: int) -> bool:
        """Whether message mid is in gid's own timeline (not from before the group was large)."""
        return self.sql.one("in_timeline", gid, mid) is not None

    def present(self, gid: int, uids: list[int]) -> tuple[int, ...]:
        """Those of uids who are members of gid now, asked for by uid (never the whole membership)."""
        if not uids:
            return ()
        sql = self.sql["present"].replace("{marks}", ", ".join([self.db.param] * len(uids)))
        return tuple(int(uid) for (uid,) in self.db.execute_sql(sql, (gid, *uids)).fetchall())

    def sees(self, uid: int, gid: int, mid: int) -> bool:
        """Whether message mid of gid lies within uid's join bounds (their history shows it)."""
        return self.sql.one("in_bounds", gid, uid, mid, mid) is not None

    def groups(self) -> list[tuple[int, int, int]]:
        """(gid, counted messages, newest gseq) of every large group (a rebuild)."""
        return [(int(g), int(t or 0), int(q or 0)) for g, t, q in self.sql.all("large_groups")]

    def senders_between(self, uid: int, gid: int, after_mid: int, up_to_mid: int) -> list[int]:
        return [int(s) for (s,) in self.sql.all("senders_between", gid, after_mid, up_to_mid, uid)]

    def bounds(self, gid: int, uid: int) -> tuple[int, int] | None:
        """The mids between which uid sees gid's messages (the last membership's), or None: never a member."""
        row = self.sql.one("bounds", gid, uid)
        return None if row is None else (int(row[0]), NEVER if row[1] is None else int(row[1]))

    def after(self, gid: int, gseq: int, bounds: tuple[int, int], limit: int) -> list[tuple[int, Message]]:
        """(gseq, message) of gid after gseq within bounds, in gseq order, at most limit."""
        found = [(int(r[0]), Message.from_row(r[1:])) for r in self.sql.all("after", gid, gseq, *bounds, limit)]
        return with_targets(self.db, found)  # an edit with its target, as it stands now

    def page(self, uid: int, gid: int, before: int | None, after: int | None, limit: int) -> list[Message]:
        """Up to limit of gid's timeline rows uid may see, before or after a mid, ascending by mid."""
        bounds = self.bounds(gid, uid)
        if bounds is None:
            return []
        if after is not None:
            return [Message.from_row(r) for r in self.sql.all("page_after", gid, *bounds, after, limit)]
        rows = self.sql.all("page_before", gid, *bounds, NEVER if before is None else before, limit)
        return [Message.from_row(r) for r in reversed(rows)]

    def sees_file(self, uid: int, fid: int) -> tuple[int, str] | None:
        """(mid, cid) of the first message uid may see in a large group's timeline that carries file fid, or None:
        read diffusion's part of who may read a file (its messages are in no member's own timeline)."""
        row = self.sql.one("carrying", uid, fid)
        return (int(row[0]), Conversation.group(int(row[1])).cid) if row else None

    def newest(self, gid: int) -> int:
        row = self.sql.one("newest", gid)
        return int(row[0] or 0) if row else 0

    def newest_at(self, gid: int, mid: int) -> int:
        """The gseq of gid's last message at or before mid (0: none)."""
        row = self.sql.one("newest_at", gid, mid)
        return int(row[0]) if row else 0
