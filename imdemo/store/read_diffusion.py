"""Store layer: a large group's messages by read diffusion (lecture 20, 万人群): one row a message in the
group's own timeline (im_group_timeline), nothing per member. A member reads the timeline within their join
bounds and keeps one read mark; their unread is large_counters.py's N - L. What a member does themself (join,
leave, read, send) is the only per-member write.
"""
from __future__ import annotations

import peewee

from .conversation import Conversation
from .large_counters import LargeCounters
from .message import MESSAGE_COLUMNS, TEXT, Draft, Message
from .rows import Rows

SQL = {
    "insert": "INSERT INTO im_group_timeline (gid, gseq, mid, sender_id, msg_type, text_count)"
              " VALUES (?, ?, ?, ?, ?, ?)",
    # sending marks what came before as read (as WeChat does): the sender's read mark moves to their message
    "own_read": "UPDATE im_group_member SET read_mid = ? WHERE gid = ? AND uid = ? AND read_mid < ?",
    "read_mark": "SELECT g.last_mid, m.read_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                 " WHERE m.uid = ? AND m.gid = ? AND m.left_mid IS NULL",
    # What uid has not read after a mid, and the group's text count, in one statement (one snapshot): others'
    # text messages in the group's timeline, and, for a group that was small once, in uid's own timeline
    "unread_after": "SELECT g.text_count, (SELECT COUNT(*) FROM im_group_timeline t WHERE t.gid = g.gid"
                    " AND t.mid > ? AND t.msg_type = 0 AND t.sender_id <> ?) + (SELECT COUNT(*) FROM im_msg_relation r"
                    " WHERE r.owner_uid = ? AND r.other_uid = ? AND r.type = 1 AND r.mid > ?)"
                    " FROM im_group g WHERE g.gid = ?",
    "memberships": "SELECT m.gid, m.read_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                   " WHERE m.uid = ? AND m.left_mid IS NULL AND g.storage = 1 AND g.member_count > 0",
    "senders_between": "SELECT DISTINCT sender_id FROM im_group_timeline WHERE gid = ? AND mid > ? AND mid <= ?"
                       " AND msg_type = 0 AND sender_id <> ?",
    "bounds": "SELECT joined_mid, left_mid FROM im_group_member WHERE gid = ? AND uid = ?",
    # the messages of a large group after a gseq, within a member's join bounds, in gseq order
    "after": f"SELECT t.gseq, {MESSAGE_COLUMNS} FROM im_group_timeline t JOIN im_msg_content c ON c.mid = t.mid"
             " WHERE t.gid = ? AND t.gseq > ? AND t.mid >= ? AND t.mid <= ? ORDER BY t.gseq LIMIT ?",
    # a page of a large group's history within a member's join bounds, by mid (with the rows of the member's
    # own timeline from before the group was large, history.py merges them)
    "page_before": f"SELECT {MESSAGE_COLUMNS} FROM im_group_timeline t JOIN im_msg_content c ON c.mid = t.mid"
                   " WHERE t.gid = ? AND t.mid >= ? AND t.mid <= ? AND t.mid < ? ORDER BY t.mid DESC LIMIT ?",
    "page_after": f"SELECT {MESSAGE_COLUMNS} FROM im_group_timeline t JOIN im_msg_content c ON c.mid = t.mid"
                  " WHERE t.gid = ? AND t.mid >= ? AND t.mid <= ? AND t.mid > ? ORDER BY t.mid LIMIT ?",
    "newest": "SELECT gseq, text_count FROM im_group WHERE gid = ?",
    "large_groups": "SELECT gid, text_count, gseq FROM im_group WHERE storage = 1 AND member_count > 0",
    # Every current member's accounted count (a rebuild at start): the group's text count at their read mark,
    # from the timeline row at or before it (their own texts never follow it: a send moves it); NULL for a
    # read mark from before the group was large, counted exactly instead
    "accounted_of_everyone": "SELECT m.uid, m.gid, m.read_mid, (SELECT t.text_count FROM im_group_timeline t"
                             " WHERE t.gid = m.gid AND t.mid <= m.read_mid ORDER BY t.mid DESC LIMIT 1),"
                             " g.switched_mid FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                             " WHERE m.left_mid IS NULL AND g.storage = 1 AND g.member_count > 0",
}
NEVER = 2**62


class ReadDiffusion:
    """The rows and reads of large groups."""

    def __init__(self, db: peewee.Database, rows: Rows, counters: LargeCounters):
        self.db, self.rows, self.counters = db, rows, counters
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _one(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params).fetchone()

    def _all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.sql[name], params).fetchall()

    def write(self, mid: int, draft: Draft, locked) -> None:
        """The message's row in its group's timeline; a text message accounts for what came before it, for its
        sender (their read mark moves to it)."""
        gid = draft.conversation.id
        self.db.execute_sql(self.sql["insert"], (gid, locked.gseq, mid, draft.sender, draft.kind, locked.text_count))
        if draft.kind == TEXT:
            self.db.execute_sql(self.sql["own_read"], (mid, gid, draft.sender, mid))
            locked.own[draft.sender] = locked.text_count

    def committed(self, locked) -> None:
        """After the commit: the group's N and Q, its senders' L."""
        self.counters.committed(locked.gid, locked.text_count, locked.gseq, locked.own)

    def read_mark(self, uid: int, gid: int):
        """(the group's newest message, uid's read mark), or None for anyone not a member now."""
        return self._one("read_mark", uid, gid)

    def unread_after(self, uid: int, gid: int, read_mid: int) -> int:
        return self.count(uid, gid, read_mid)[1]

    def count(self, uid: int, gid: int, read_mid: int) -> tuple[int, int]:
        """(the group's text count, what uid has not read after read_mid), from one snapshot."""
        row = self._one("unread_after", read_mid, uid, uid, Conversation.group(gid).peer, read_mid, gid)
        return (int(row[0] or 0), int(row[1] or 0)) if row else (0, 0)

    def set_unread(self, uid: int, gid: int, unread: int) -> None:
        """Account for what uid has read: the group's text count less what is still unread."""
        text_count, _ = self.count(uid, gid, NEVER)
        self.counters.account(uid, gid, text_count - unread)

    def accounted_of(self, uid: int) -> dict[int, int]:
        """{gid: the text count uid has accounted for} of each of uid's large groups, from the rows (a rebuild)."""
        result = {}
        for gid, read_mid in self._all("memberships", uid):
            text_count, unread = self.count(uid, int(gid), int(read_mid))
            result[int(gid)] = text_count - unread
        return result

    def accounted_of_everyone(self) -> list[tuple[int, int, int]]:
        """accounted_of() of every member of every large group at once (a rebuild at start): (uid, gid, L)."""
        result = []
        for uid, gid, read_mid, at_read, switched in self._all("accounted_of_everyone"):
            uid, gid = int(uid), int(gid)
            if at_read is None or (switched is not None and int(read_mid) <= int(switched)):
                text_count, unread = self.count(uid, gid, int(read_mid))
                result.append((uid, gid, text_count - unread))
            else:
                result.append((uid, gid, int(at_read)))
        return result

    def groups(self) -> list[tuple[int, int, int]]:
        """(gid, text count, newest gseq) of every large group (a rebuild)."""
        return [(int(g), int(t or 0), int(q or 0)) for g, t, q in self._all("large_groups")]

    def senders_between(self, uid: int, gid: int, after_mid: int, up_to_mid: int) -> list[int]:
        return [int(s) for (s,) in self._all("senders_between", gid, after_mid, up_to_mid, uid)]

    def bounds(self, gid: int, uid: int) -> tuple[int, int] | None:
        """The mids between which uid sees gid's messages (the last membership's), or None: never a member."""
        row = self._one("bounds", gid, uid)
        return None if row is None else (int(row[0]), NEVER if row[1] is None else int(row[1]))

    def after(self, gid: int, gseq: int, bounds: tuple[int, int], limit: int) -> list[tuple[int, Message]]:
        """(gseq, message) of gid after gseq within bounds, in gseq order, at most limit."""
        return [(int(r[0]), Message.from_row(r[1:])) for r in self._all("after", gid, gseq, *bounds, limit)]

    def page(self, uid: int, gid: int, before: int | None, after: int | None, limit: int) -> list[Message]:
        """Up to limit of gid's timeline rows uid may see, before or after a mid, ascending by mid."""
        bounds = self.bounds(gid, uid)
        if bounds is None:
            return []
        if after is not None:
            return [Message.from_row(r) for r in self._all("page_after", gid, *bounds, after, limit)]
        rows = self._all("page_before", gid, *bounds, NEVER if before is None else before, limit)
        return [Message.from_row(r) for r in reversed(rows)]

    def newest(self, gid: int) -> int:
        row = self._one("newest", gid)
        return int(row[0] or 0) if row else 0
