"""Store layer: a group's membership changes (made, members added, renamed, a member removed or left, owner
passed on), each recorded by a system message in the group's timeline.

A change goes to the one writer like any message (writer.py): it waits in the same queue, and its commit
locks the group's row, checks that the actor is a current member, and hands the services' rules a
ChangingGroup. Each of its changes writes its rows and posts its system message to the members of that
moment (the added user included, the removed one too) by the same steps as a message (commit.py).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from .conversation import Conversation
from .counters import UnreadCounters
from .groups import MEMBER, OWNER, GroupRow, LockedGroup, Member
from .message import SYSTEM, Draft, Stored

SQL = {
    "insert_group": "INSERT INTO im_group (name, owner_uid, gseq, last_mid, member_count, created_at)"
                    " VALUES (?, ?, 0, 0, 0, ?) RETURNING gid",
    "join": "INSERT INTO im_group_member (gid, uid, role, joined_mid, left_mid, read_mid, joined_at)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (gid, uid) DO UPDATE SET role = excluded.role,"
            " joined_mid = excluded.joined_mid, left_mid = NULL, read_mid = excluded.read_mid,"
            " joined_at = excluded.joined_at",
    "leave": "UPDATE im_group_member SET left_mid = ?, role = 0 WHERE gid = ? AND uid = ?",
    "set_owner": "UPDATE im_group_member SET role = ? WHERE gid = ? AND uid = ?",
    "update_group": "UPDATE im_group SET name = ?, owner_uid = ?, member_count = ? WHERE gid = ?",
}
Post = Callable[[Draft, list[int], LockedGroup], Stored]  # write a system message to an audience (commit.py)


@dataclass(frozen=True)
class GroupChange:
    """A change queued to the writer: apply(group) checks the services' rules on the locked group and makes
    the change; its result is the change's answer. gid None makes a new group named name, owned by actor."""

    actor: int
    gid: int | None
    apply: Callable[[ChangingGroup], object]
    name: str = ""


class ChangingGroup:
    """A group locked in an open commit: its rules are checked on this, then it is changed."""

    def __init__(self, db: peewee.Database, counters: UnreadCounters, row: GroupRow, members: list[Member],
                 locked: LockedGroup, post: Post, counted: set[int]):
        self.db, self.counters, self.row, self.locked, self._post_to = db, counters, row, locked, post
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}
        self.members = {m.uid: m for m in members}  # longest-standing first
        self.counted = counted  # users whose counters moved: recounted if the commit fails
        self.written: list[Stored] = []  # the system messages, announced with the commit

    @classmethod
    def insert(cls, db: peewee.Database, owner: int, name: str) -> tuple[GroupRow, LockedGroup]:
        """A new group's row, held by the commit that inserted it."""
        now = int(time.time() * 1000)
        (gid,) = db.execute_sql(SQL["insert_group"].replace("?", db.param), (name, owner, now)).fetchone()
        return GroupRow(int(gid), name, owner, 0, now), LockedGroup(int(gid), 0, [])

    @property
    def gid(self) -> int:
        return self.row.gid

    def made(self, members: list[int], event: str, content: str) -> Stored:
        """The group's first change: its owner and members join, and the message that says so."""
        stored = self._post(self.row.owner, [self.row.owner, *members], event, content)
        for uid in [self.row.owner, *members]:
            self._join(uid, OWNER if uid == self.row.owner else MEMBER, stored.message.mid)
        return self._save(stored)

    def add(self, actor: int, uids: list[int], event: str, content: str) -> Stored:
        """Add uids (not members now); they see the group from this message on."""
        stored = self._post(actor, [*self.members, *uids], event, content)
        for uid in uids:
            self._join(uid, MEMBER, stored.message.mid)
        return self._save(stored)

    def rename(self, actor: int, name: str, event: str, content: str) -> Stored:
        self.row = GroupRow(self.gid, name, self.row.owner, self.row.member_count, self.row.created_ms)
        return self._save(self._post(actor, list(self.members), event, content))

    def remove(self, actor: int, uid: int, event: str, content: str) -> Stored:
        """Remove uid (themself: they leave). They get this message and nothing after it; their unread for
        the group drops to 0. The last member leaving makes the group gone."""
        stored = self._post(actor, list(self.members), event, content)
        self.db.execute_sql(self.sql["leave"], (stored.message.mid, self.gid, uid))
        del self.members[uid]
        self.locked.members.remove(uid)
        self.counted.add(uid)
        field = Conversation.group(self.gid).unread_field
        self.counters.set_conversation(uid, field, 0, (self.gid, stored.message.mid))
        return self._save(stored)

    def pass_ownership(self, actor: int, to: int, event: str, content: str) -> Stored:
        self.db.execute_sql(self.sql["set_owner"], (MEMBER, self.gid, self.row.owner))
        self.db.execute_sql(self.sql["set_owner"], (OWNER, self.gid, to))
        self.row = GroupRow(self.gid, self.row.name, to, self.row.member_count, self.row.created_ms)
        return self._save(self._post(actor, list(self.members), event, content))

    def _join(self, uid: int, role: int, mid: int) -> None:
        now = int(time.time() * 1000)
        # read up to the join point: the message that added them is not unread (no system message is)
        self.db.execute_sql(self.sql["join"], (self.gid, uid, role, mid, mid, now))
        self.members[uid] = Member(uid, role, mid, mid)
        self.locked.members = sorted({*self.locked.members, uid})

    def _save(self, stored: Stored) -> Stored:
        self.row = GroupRow(self.gid, self.row.name, self.row.owner, len(self.members), self.row.created_ms)
        self.db.execute_sql(self.sql["update_group"], (self.row.name, self.row.owner, len(self.members), self.gid))
        return stored

    def _post(self, actor: int, audience: list[int], event: str, content: str) -> Stored:
        """Write a system message into the timeline of each user in audience (never unread)."""
        draft = Draft(actor, Conversation.group(self.gid), content, kind=SYSTEM, event=event)
        stored = self._post_to(draft, sorted(set(audience)), self.locked)
        self.written.append(stored)
        return stored
