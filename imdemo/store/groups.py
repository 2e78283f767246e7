"""Store layer: groups (the course's lecture 20): im_group, im_group_member, and a group's membership
changes, each written with the system message that records it, in one transaction.

A change runs inside `GroupStore.change(gid)`: the group's row is locked first (before any user's row, as
a send locks it), so sends and membership changes of one group take its gseqs one at a time and every
member sees one order. The caller (the services) checks its rules on the locked group, then calls one of
its changes; each writes the system message to the members of that moment (the added user included, the
removed one too) through the same TimelineWriter as a send.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import peewee

from .counters import UnreadCounters
from .database import write_transaction
from .errors import UnknownGroup
from .message_rows import MESSAGE_COLUMNS, SYSTEM, Draft, Message, Stored, group_peer, unread_field
from .timeline import TimelineWriter

OWNER, MEMBER = 1, 0
GROUP_COLUMNS = "g.gid, g.name, g.owner_uid, g.member_count, g.created_at"
SQL = {
    "group": f"SELECT {GROUP_COLUMNS} FROM im_group g WHERE g.gid = ? AND g.member_count > 0",
    "insert_group": "INSERT INTO im_group (name, owner_uid, gseq, last_mid, member_count, created_at)"
                    " VALUES (?, ?, 0, 0, 0, ?) RETURNING gid",
    "members": "SELECT uid, role, read_mid, joined_mid FROM im_group_member WHERE gid = ? AND left_mid IS NULL"
               " ORDER BY joined_mid, uid",
    "membership": "SELECT left_mid FROM im_group_member WHERE gid = ? AND uid = ?",
    # The members a former member left behind (joined before the message that removed them, not gone before
    # it: themself included), with that message's mid.
    "marks_when_left": "SELECT m.uid, m.read_mid, x.left_mid FROM im_group_member x JOIN im_group_member m"
                       " ON m.gid = x.gid WHERE x.gid = ? AND x.uid = ? AND m.joined_mid < x.left_mid"
                       " AND (m.left_mid IS NULL OR m.left_mid >= x.left_mid)",
    "join": "INSERT INTO im_group_member (gid, uid, role, joined_mid, left_mid, read_mid, joined_at)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (gid, uid) DO UPDATE SET role = excluded.role,"
            " joined_mid = excluded.joined_mid, left_mid = NULL, read_mid = excluded.read_mid,"
            " joined_at = excluded.joined_at",
    "leave": "UPDATE im_group_member SET left_mid = ?, role = 0 WHERE gid = ? AND uid = ?",
    "set_owner": "UPDATE im_group_member SET role = ? WHERE gid = ? AND uid = ?",
    "update_group": "UPDATE im_group SET name = ?, owner_uid = ?, member_count = ? WHERE gid = ?",
    "groups_of": f"SELECT {GROUP_COLUMNS} FROM im_group_member m JOIN im_group g ON g.gid = m.gid"
                 " WHERE m.uid = ? AND m.left_mid IS NULL AND g.member_count > 0 ORDER BY g.last_mid DESC",
    # A recent-contacts entry per group derives from the membership and the group's newest message (for a
    # former member, the message that removed them): no contact row per member per message.
    "contacts": f"SELECT {GROUP_COLUMNS}, m.left_mid, {MESSAGE_COLUMNS} FROM im_group_member m"
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

    @classmethod
    def from_row(cls, row) -> GroupRow:
        return cls(int(row[0]), row[1], int(row[2]), int(row[3]), int(row[4]))


@dataclass(frozen=True)
class Member:
    uid: int
    role: int
    read_mid: int
    joined_mid: int


class GroupStore:
    """Groups and their members; changes to them go through change()."""

    def __init__(self, db: peewee.Database, counters: UnreadCounters, recount: Callable[[int], None]):
        self.db, self.counters, self.writer = db, counters, TimelineWriter(db)
        self.recount = recount  # rebuild a user's counters from the database (MessageStore.rebuild_counters)
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

    def contacts(self, uid: int, limit: int) -> list[tuple[GroupRow, bool, Message]]:
        """uid's groups as recent contacts, newest first: (group, still a member, last message)."""
        rows = self._all("contacts", uid, limit)
        return [(GroupRow.from_row(r), r[5] is None, Message.from_row(r[6:])) for r in rows]

    def senders_between(self, uid: int, gid: int, after_mid: int, up_to_mid: int) -> list[int]:
        """Who sent the messages uid received in gid with after_mid < mid <= up_to_mid."""
        return [int(s) for (s,) in self._all("senders_between", uid, group_peer(gid), after_mid, up_to_mid)]

    @contextmanager
    def create(self, owner: int, name: str):
        """Make a new group owned by owner; yield it locked, for its first change (made())."""
        with self._changing() as recount:
            now = int(time.time() * 1000)
            row = self._one("insert_group", name, owner, now)
            yield LockedGroup(self, GroupRow(int(row[0]), name, owner, 0, now), [], 0, recount)

    @contextmanager
    def change(self, gid: int):
        """Lock group gid and yield it, to check rules on and change; the changes commit together at the
        end of the block, or none of them (an exception)."""
        with self._changing() as recount:
            state = self.writer.lock_group(gid)
            group = self.group(gid) if state is not None else None
            if group is None:
                raise UnknownGroup(gid)
            yield LockedGroup(self, group, self.members(gid), state[0], recount)

    @contextmanager
    def _changing(self):
        """A write transaction; if it fails after its counters moved, recount those users from the database."""
        recount: set[int] = set()
        try:
            with write_transaction(self.db):
                yield recount
        except Exception:
            for uid in recount:
                self.recount(uid)
            raise


class LockedGroup:
    """A group whose row is locked in an open transaction: its rules are checked on this, then changed."""

    def __init__(self, store: GroupStore, row: GroupRow, members: list[Member], gseq: int, recount: set[int]):
        self.store, self.row, self.gseq, self.recount = store, row, gseq, recount
        self.members = {m.uid: m for m in members}  # longest-standing first
        self.written: list[Stored] = []  # the system messages, to announce after the commit

    @property
    def gid(self) -> int:
        return self.row.gid

    def was_member(self, uid: int) -> bool:
        return uid not in self.members and self.store.was_member(self.gid, uid) is not None

    def made(self, members: list[int], event: str, content: str) -> Stored:
        """The group's first change: its owner and members join, and the message that says so."""
        stored = self._post(self.row.owner, [self.row.owner, *members], event, content)
        for uid in [self.row.owner, *members]:
            self._join(uid, OWNER if uid == self.row.owner else MEMBER, stored.message.mid)
        self._save()
        return stored

    def add(self, actor: int, uids: list[int], event: str, content: str) -> Stored:
        """Add uids (not members now); they see the group from this message on."""
        stored = self._post(actor, [*self.members, *uids], event, content)
        for uid in uids:
            self._join(uid, MEMBER, stored.message.mid)
        self._save()
        return stored

    def rename(self, actor: int, name: str, event: str, content: str) -> Stored:
        self.row = GroupRow(self.gid, name, self.row.owner, self.row.member_count, self.row.created_ms)
        stored = self._post(actor, list(self.members), event, content)
        self._save()
        return stored

    def remove(self, actor: int, uid: int, event: str, content: str) -> Stored:
        """Remove uid (themself: they leave). They get this message and nothing after it; their unread for
        the group drops to 0. The last member leaving makes the group gone."""
        stored = self._post(actor, list(self.members), event, content)
        self.store.db.execute_sql(self.store.sql["leave"], (stored.message.mid, self.gid, uid))
        del self.members[uid]
        self.recount.add(uid)
        self.store.counters.set_conversation(uid, unread_field(group_peer(self.gid)), 0, (self.gid, stored.message.mid))
        self._save()
        return stored

    def pass_ownership(self, actor: int, to: int, event: str, content: str) -> Stored:
        self.store.db.execute_sql(self.store.sql["set_owner"], (MEMBER, self.gid, self.row.owner))
        self.store.db.execute_sql(self.store.sql["set_owner"], (OWNER, self.gid, to))
        self.row = GroupRow(self.gid, self.row.name, to, self.row.member_count, self.row.created_ms)
        stored = self._post(actor, list(self.members), event, content)
        self._save()
        return stored

    def _join(self, uid: int, role: int, mid: int) -> None:
        now = int(time.time() * 1000)
        # read up to the join point: the message that added them is not unread (no system message is)
        self.store.db.execute_sql(self.store.sql["join"], (self.gid, uid, role, mid, mid, now))
        self.members[uid] = Member(uid, role, mid, mid)

    def _save(self) -> None:
        self.row = GroupRow(self.gid, self.row.name, self.row.owner, len(self.members), self.row.created_ms)
        self.store.db.execute_sql(self.store.sql["update_group"], (self.row.name, self.row.owner, len(self.members),
                                                                  self.gid))

    def _post(self, actor: int, audience: list[int], event: str, content: str) -> Stored:
        """Write a system message into the timeline of each user in audience (never unread)."""
        writer, now = self.store.writer, int(time.time() * 1000)
        audience = sorted(set(audience))
        last = writer.take_seqs({uid: 1 for uid in audience})
        self.gseq += 1
        draft = Draft(actor, group_peer(self.gid), content, kind=SYSTEM, event=event)
        mid = writer.insert(draft, now, self.gseq)
        writer.index_group(mid, draft, last, now)
        writer.advance_group(self.gid, self.gseq, mid)
        self.store.counters.on_messages([], last)  # caches each one's newest seq, for the idle polls
        message = Message(mid, actor, group_peer(self.gid), content, None, now, SYSTEM, self.gseq, event)
        stored = Stored(message, True, last)
        self.written.append(stored)
        return stored
