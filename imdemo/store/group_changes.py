"""Store layer: a group's membership changes (made, members added, renamed, a member removed or left, owner
passed on, switched to read diffusion), each recorded by a system message in the group's timeline.

A change goes to the one writer like any message (writer.py): it waits in the same queue, and its commit
locks the group's row, checks that the actor is a current member, and hands the services' rules a
ChangingGroup. Each of its changes writes its rows and posts its system message by the same steps as a
message (commit.py): a small group's to every member of that moment (the added user included, the removed one
too); a large group's into the group's own timeline, and into the timelines of those it joins or removes
only, so each of them learns it from their own stream (per-member state only on join and leave).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import peewee

from .conversation import Conversation
from .group_reads import MEMBER, OWNER, GroupRow, Member
from .groups import READ, WRITE, GroupStorage, LockedGroup
from .message import SYSTEM, Draft, Stored

SQL = {
    "insert_group": "INSERT INTO im_group (name, owner_uid, gseq, last_mid, member_count, created_at, storage,"
                    " counted) VALUES (?, ?, 0, 0, 0, ?, ?, 0) RETURNING gid",
    "join": "INSERT INTO im_group_member (gid, uid, role, joined_mid, left_mid, read_mid, joined_at)"
            " VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (gid, uid) DO UPDATE SET role = excluded.role,"
            " joined_mid = excluded.joined_mid, left_mid = NULL, read_mid = excluded.read_mid,"
            " joined_at = excluded.joined_at",
    "leave": "UPDATE im_group_member SET left_mid = ?, role = 0 WHERE gid = ? AND uid = ?",
    "set_owner": "UPDATE im_group_member SET role = ? WHERE gid = ? AND uid = ?",
    "update_group": "UPDATE im_group SET name = ?, owner_uid = ?, member_count = ? WHERE gid = ?",
    "to_read": "UPDATE im_group SET storage = 1, switched_mid = ? WHERE gid = ?",
}
Post = Callable[[Draft, list[int], LockedGroup], Stored]  # write a system message to an audience (commit.py)


@dataclass(frozen=True)
class GroupChange:
    """A change queued to the writer: apply(group) checks the services' rules on the locked group and makes
    the change; its result is the change's answer. gid None makes a new group named name, owned by actor (a
    large one, stored by read diffusion from its start, when large)."""

    actor: int
    gid: int | None
    apply: Callable[[ChangingGroup], object]
    name: str = ""
    large: bool = False


class ChangingGroup:
    """A group locked in an open commit: its rules are checked on this, then it is changed."""

    def __init__(self, groups: GroupStorage, row: GroupRow, members: list[Member], locked: LockedGroup,
                 post: Post, counted: set[int]):
        self.groups, self.db, self.row, self.locked, self._post_to = groups, groups.db, row, locked, post
        self.sql = {name: text.replace("?", self.db.param) for name, text in SQL.items()}
        self.members = {m.uid: m for m in members}  # longest-standing first
        self.counted = counted  # users whose counters moved: recounted if the commit fails
        self.written: list[Stored] = []  # the system messages, announced with the commit

    @classmethod
    def insert(cls, db: peewee.Database, owner: int, name: str, large: bool) -> tuple[GroupRow, LockedGroup]:
        """A new group's row, held by the commit that inserted it."""
        now, storage = int(time.time() * 1000), READ if large else WRITE
        (gid,) = db.execute_sql(SQL["insert_group"].replace("?", db.param), (name, owner, now, storage)).fetchone()
        return GroupRow(int(gid), name, owner, 0, now, storage), LockedGroup(
            int(gid), 0, storage, 0, None if large else [])

    @property
    def gid(self) -> int:
        return self.row.gid

    @property
    def large(self) -> bool:
        return self.locked.storage == READ

    def made(self, members: list[int], event: str, content: str) -> Stored:
        """The group's first change: its owner and members join, and the message that says so."""
        everyone = [self.row.owner, *members]
        stored = self._post(self.row.owner, everyone, event, content, affected=everyone)
        for uid in everyone:
            self._join(uid, OWNER if uid == self.row.owner else MEMBER, stored.message.mid)
        return self._save(stored)

    def add(self, actor: int, uids: list[int], event: str, content: str) -> Stored:
        """Add uids (not members now); they see the group from this message on."""
        stored = self._post(actor, [*self.members, *uids], event, content, affected=uids)
        for uid in uids:
            self._join(uid, MEMBER, stored.message.mid)
        return self._save(stored)

    def rename(self, actor: int, name: str, event: str, content: str) -> Stored:
        self.row = GroupRow(self.gid, name, self.row.owner, self.row.member_count, self.row.created_ms,
                            self.row.storage)
        return self._save(self._post(actor, list(self.members), event, content))

    def remove(self, actor: int, uid: int, event: str, content: str) -> Stored:
        """Remove uid (themself: they leave). They get this message and nothing after it; their unread for
        the group drops to 0. The last member leaving makes the group gone."""
        stored = self._post(actor, list(self.members), event, content, affected=[uid])
        self.db.execute_sql(self.sql["leave"], (stored.message.mid, self.gid, uid))
        del self.members[uid]
        self.counted.add(uid)
        if self.large:
            self.groups.large.counters.forget(uid, self.gid)
        else:
            self.locked.members.remove(uid)
            field = Conversation.group(self.gid).unread_field
            self.groups.counters.set_conversation(uid, field, 0, (self.gid, stored.message.mid))
        return self._save(stored)

    def pass_ownership(self, actor: int, to: int, event: str, content: str) -> Stored:
        self.db.execute_sql(self.sql["set_owner"], (MEMBER, self.gid, self.row.owner))
        self.db.execute_sql(self.sql["set_owner"], (OWNER, self.gid, to))
        self.row = GroupRow(self.gid, self.row.name, to, self.row.member_count, self.row.created_ms,
                            self.row.storage)
        return self._save(self._post(actor, list(self.members), event, content))

    def switch_to_read(self, actor: int, event: str, content: str) -> Stored:
        """A small group grown large: the message that says so reaches every member's timeline, the last one
        that does; from it on the group is stored by read diffusion. Each member's unread moves from the
        course's `{uid}_C` to N - L, the same number."""
        stored = self._post(actor, list(self.members), event, content)
        self.db.execute_sql(self.sql["to_read"], (stored.message.mid, self.gid))
        conversation = Conversation.group(self.gid)
        for uid in self.members:
            unread = self.groups.count_unread(uid, conversation, self.members[uid].read_mid)
            self.groups.counters.set_conversation(uid, conversation.unread_field, 0, (self.gid, stored.message.mid))
            self.groups.large.counters.account(uid, self.gid, self.locked.counted - unread, exactly=True)
            self.counted.add(uid)
        self.locked.storage, self.locked.members = READ, None
        self.row = GroupRow(self.gid, self.row.name, self.row.owner, self.row.member_count, self.row.created_ms, READ)
        return stored

    def _join(self, uid: int, role: int, mid: int) -> None:
        now = int(time.time() * 1000)
        # read up to the join point: the message that added them is not unread (no system message is)
        self.db.execute_sql(self.sql["join"], (self.gid, uid, role, mid, mid, now))
        self.members[uid] = Member(uid, role, mid, mid)
        if self.large:  # nothing before the join counts for them
            self.groups.large.counters.account(uid, self.gid, self.locked.counted, exactly=True)
            self.counted.add(uid)
        else:
            self.locked.members = sorted({*self.locked.members, uid})

    def _save(self, stored: Stored) -> Stored:
        self.row = GroupRow(self.gid, self.row.name, self.row.owner, len(self.members), self.row.created_ms,
                            self.row.storage)
        self.db.execute_sql(self.sql["update_group"], (self.row.name, self.row.owner, len(self.members), self.gid))
        return stored

    def _post(self, actor: int, audience: list[int], event: str, content: str, affected: list[int] = ()) -> Stored:
        """Write a system message (never unread): into the timeline of each user in audience for a small group;
        into a large group's own timeline, and the timelines of the affected (those joined or removed)."""
        draft = Draft(actor, Conversation.group(self.gid), content, kind=SYSTEM, event=event)
        stored = self._post_to(draft, sorted(set(affected if self.large else audience)), self.locked)
        self.written.append(stored)
        return stored
