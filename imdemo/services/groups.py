"""Services layer: groups (SPEC section 11): make one, change its name and members, read its members and
its history, mark it read. Every membership change is a durable system message in the group's timeline,
reaching the members of that moment by the same way as any message; sending goes through
MessageService.send_to_group, the one send path.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

from ..store.errors import NotAMember, UnknownGroup
from ..store.groups import OWNER, GroupStore
from ..store.message_rows import group_peer
from ..store.notices import Notifier
from ..store.users import UserStore
from . import checks
from .errors import BadInput, Forbidden, NotFound
from .messages import MessageService, group_error
from .views import group_view, message_view, user_view


class GroupService:
    """The rules of groups; the store locks a group's row while they are checked and applied."""

    def __init__(self, groups: GroupStore, users: UserStore, sends: MessageService, notifier: Notifier, *,
                 max_members: int):
        self.groups, self.users, self.sends, self.notifier = groups, users, sends, notifier
        self.messages, self.announce, self.max_members = sends.messages, sends.announce, max_members

    def create(self, owner: int, name, members) -> dict:
        """Make a group of owner and members, owner its owner; return the group."""
        name = checks.text(name, "name", 1, 64)
        uids = self._uids(members, "members", exclude=owner)
        self._fits(1 + len(uids))
        names = self._names([owner, *uids])
        with self.groups.create(owner, name) as group:
            group.made(uids, _event("created", owner, uids, name=name),
                       f"{names[owner]} created the group {name}" + _with(uids, names))
        self.announce(group.written)
        return group_view(group.row)

    def list(self, uid: int) -> dict:
        """The caller's current groups."""
        return {"groups": [group_view(g) for g in self.groups.groups_of(uid)]}

    def get(self, uid: int, gid) -> dict:
        """The group and its members, each with role and read marker (members only)."""
        gid = self._gid(gid)
        group = self.groups.group(gid)
        self._require_member(gid, uid, self.groups.was_member(gid, uid) if group is not None else None)
        members = self.groups.members(gid)
        people = self.users.by_uids([m.uid for m in members])
        return {"group": group_view(group), "members": [
            {"user": user_view(people[m.uid]), "role": "owner" if m.role == OWNER else "member", "read_mid": m.read_mid}
            for m in members if m.uid in people]}

    def rename(self, uid: int, gid, name) -> dict:
        """Give the group a new name (its owner only)."""
        gid, name = self._gid(gid), checks.text(name, "name", 1, 64)
        with self._change(gid, uid) as group:
            if group.row.owner != uid:
                raise Forbidden("only the group's owner can rename it", "not_owner")
            if name != group.row.name:
                group.rename(uid, name, _event("renamed", uid, [], name=name),
                             f"{self._names([uid])[uid]} renamed the group to {name}")
        self.announce(group.written)
        return {"group": group_view(group.row)}

    def add(self, uid: int, gid, uids) -> dict:
        """Add users (any member may); those already in are ignored."""
        gid = self._gid(gid)
        uids = self._uids(uids, "uids")
        names = self._names([uid, *uids])
        with self._change(gid, uid) as group:
            new = [u for u in uids if u not in group.members]
            self._fits(len(group.members) + len(new))
            if new:
                group.add(uid, new, _event("added", uid, new), f"{names[uid]} added" + _list(new, names))
        self.announce(group.written)
        return {"group": group_view(group.row)}

    def remove(self, uid: int, gid, member) -> None:
        """Remove a member (the owner may), or leave (anyone, themself). The owner leaving passes ownership
        to the longest-standing member; the last member leaving makes the group gone."""
        gid, member = self._gid(gid), checks.integer(member, "uid", 1)
        with self._change(gid, uid) as group:
            if member != uid and group.row.owner != uid:
                raise Forbidden("only the group's owner can remove members", "not_owner")
            if member not in group.members:
                raise NotFound(f"{member} is not a member of group {gid}", "no_such_member")
            names = self._names([uid, member])
            if member == uid:
                group.remove(uid, uid, _event("left", uid, [uid]), f"{names[uid]} left")
            else:
                group.remove(uid, member, _event("removed", uid, [member]), f"{names[uid]} removed {names[member]}")
            if member == group.row.owner and group.members:
                heir = next(iter(group.members))  # the longest-standing member
                group.pass_ownership(uid, heir, _event("owner", uid, [heir]),
                                     f"{self._names([heir])[heir]} is now the owner")
        self.announce(group.written)

    def history(self, uid: int, gid, before=None, after=None, limit=30) -> dict:
        """A page of the group as the caller received it (from when they joined; a former member keeps what
        they had), with the members' read markers for "read by k of n": the current members', or for a former
        member those of the members they left behind, as far as the message that removed them."""
        gid = self._gid(gid)
        state = self.groups.was_member(gid, uid) if self.groups.group(gid) is not None else None
        if state is None:
            raise NotFound(f"no group {gid}", "no_such_group")
        page, has_more = self.sends.page(uid, group_peer(gid), before, after, limit)
        marks = ({m.uid: m.read_mid for m in self.groups.members(gid)} if state
                 else self.groups.read_marks_when_left(gid, uid))
        marks = {str(member): mid for member, mid in marks.items()}
        return {"messages": [message_view(m) for m in page], "has_more": has_more, "read_marks": marks}

    def mark_read(self, uid: int, gid, up_to=None) -> dict:
        """Mark the group read up to a mid (default: all); tell the caller's sessions, and the senders of
        the messages the read covers (their screens show who has read)."""
        gid = self._gid(gid)
        up_to = None if up_to is None else checks.integer(up_to, "up_to", 0)
        try:
            read_mid, unread, total, moved, before = self.messages.mark_read(uid, group_peer(gid), up_to)
        except (UnknownGroup, NotAMember) as e:
            raise group_error(gid, e) from None
        hint = {"type": "unread", "total": total, "conversation": {"group": gid, "unread": unread}}
        read = {"type": "read", "group": gid, "by": uid, "up_to": read_mid}
        notices = [(uid, {"hints": [read, hint] if moved else [hint]})]
        if moved:
            notices += [(s, {"hints": [read]}) for s in self.groups.senders_between(uid, gid, before, read_mid)
                        if s != uid]
        self.notifier.publish_many(notices)
        return {"unread": unread, "total_unread": total, "read_mid": read_mid}

    @contextmanager
    def _change(self, gid: int, uid: int):
        """Lock the group for a change by uid, a current member (else 403 for a former one, 404)."""
        try:
            with self.groups.change(gid) as group:
                if uid not in group.members:
                    raise Forbidden(f"you are no longer a member of group {gid}", "not_a_member") \
                        if group.was_member(uid) else NotFound(f"no group {gid}", "no_such_group")
                yield group
        except UnknownGroup:
            raise NotFound(f"no group {gid}", "no_such_group") from None

    def _require_member(self, gid: int, uid: int, state: bool | None) -> None:
        if state is None:
            raise NotFound(f"no group {gid}", "no_such_group")
        if state is False:
            raise Forbidden(f"you are no longer a member of group {gid}", "not_a_member")

    def _gid(self, gid) -> int:
        return checks.integer(gid, "gid", 1)

    def _uids(self, uids, name: str, exclude: int | None = None) -> list[int]:
        """A list of distinct known uids (404 for an unknown one), without exclude."""
        if not isinstance(uids, list):
            raise BadInput(f"{name} must be a list of uids", "invalid_" + name)
        if len(uids) > self.max_members:
            raise BadInput(f"a group has at most {self.max_members} members", "group_too_large")
        found = list(dict.fromkeys(checks.integer(u, name, 1) for u in uids))
        found = [u for u in found if u != exclude]
        known = self.users.by_uids(found)
        missing = [u for u in found if u not in known]
        if missing:
            raise NotFound(f"no user with uid {missing[0]}", "no_such_user")
        return found

    def _fits(self, size: int) -> None:
        if size > self.max_members:
            raise BadInput(f"a group has at most {self.max_members} members", "group_too_large")

    def _names(self, uids: list[int]) -> dict[int, str]:
        return {u.uid: u.nickname or u.username for u in self.users.by_uids(uids).values()}


def _event(kind: str, by: int, uids: list[int], **extra) -> str:
    return json.dumps({"type": kind, "by": by, "uids": uids, **extra}, ensure_ascii=False, separators=(",", ":"))


def _list(uids: list[int], names: dict[int, str]) -> str:
    return " " + ", ".join(names.get(u, str(u)) for u in uids)


def _with(uids: list[int], names: dict[int, str]) -> str:
    return " with" + _list(uids, names) if uids else ""
