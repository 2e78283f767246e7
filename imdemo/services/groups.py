"""Services layer: groups (SPEC section 11): make one, change its name and members, read its members. Every
membership change is a durable system message in the group's timeline, written by the one writer like any
message: its rules below run on the group locked in its commit (store/group_changes.py). Sending, history
and marking read are the conversation's, the same for every kind (messages.py).
"""
from __future__ import annotations

import json

from ..store.conversation import Conversation
from ..store.group_changes import ChangingGroup, GroupChange
from ..store.group_reads import OWNER
from ..store.groups import GroupStorage
from ..store.users import UserStore
from ..store.writer import MessageWriter
from . import checks
from .conversations import REFUSALS, GroupRules
from .errors import BadInput, Forbidden, NotFound
from .views import group_view, user_view


class GroupService:
    """The rules of groups; each change is checked and made on the group its commit holds locked."""

    def __init__(self, groups: GroupStorage, users: UserStore, writer: MessageWriter, *, max_members: int,
                 large_at: int):
        self.groups, self.users, self.writer, self.max_members = groups, users, writer, max_members
        self.large_at = large_at  # more members than this: the group is stored by read diffusion (SPEC 15)
        self.rules = GroupRules(groups)

    def create(self, owner: int, name, members, large=False) -> dict:
        """Make a group of owner and members, owner its owner; return the group. It is stored by read
        diffusion from its start when asked (large) or when it is made with more than large_at members."""
        name = checks.text(name, "name", 1, 64)
        uids = self._uids(members, "members", exclude=owner)
        if not isinstance(large, bool):
            raise BadInput("large must be true or false", "invalid_large")
        self._fits(1 + len(uids))
        names = self._names([owner, *uids])
        large = large or 1 + len(uids) > self.large_at

        def made(group: ChangingGroup) -> dict:
            group.made(uids, _event("created", owner, uids, name=name),
                       f"{names[owner]} created the group {name}" + _with(uids, names, limit=20))
            return group_view(group.row)
        return self.writer.change(GroupChange(owner, None, made, name, large))

    def list(self, uid: int) -> dict:
        """The caller's current groups."""
        return {"groups": [group_view(g) for g in self.groups.groups_of(uid)]}

    def get(self, uid: int, gid) -> dict:
        """The group and its members, each with role and read marker (members only)."""
        conversation = Conversation.group(self._gid(gid))
        self.rules.member(uid, conversation)
        members = self.groups.members(conversation.id)
        return {"group": group_view(self.groups.group(conversation.id)), "members": self._members_view(members)}

    def members_page(self, uid: int, gid, after=None, limit=50, holding=None) -> dict:
        """A page of the group's members in get()'s order, after the cursor of the page before (its "next"),
        optionally only those whose username or nickname holds a text: {group, members, next}, next None on
        the last page. A 万人群's page shows its first members without its ten thousand (members only)."""
        conversation = Conversation.group(self._gid(gid))
        limit = checks.integer(limit, "limit", 1, 200)
        start = _cursor(after)
        holding = "" if holding is None else checks.text(holding, "q", 1, 64)
        self.rules.member(uid, conversation)
        members = self.groups.member_page(conversation.id, start, limit + 1, holding)
        more = len(members) > limit
        members = members[:limit]
        last = members[-1] if more else None
        return {"group": group_view(self.groups.group(conversation.id)), "members": self._members_view(members),
                "next": f"{last.joined_mid}.{last.uid}" if last else None}

    def _members_view(self, members) -> list[dict]:
        people = self.users.by_uids([m.uid for m in members])
        return [{"user": user_view(people[m.uid]), "role": "owner" if m.role == OWNER else "member",
                 "read_mid": m.read_mid} for m in members if m.uid in people]

    def rename(self, uid: int, gid, name) -> dict:
        """Give the group a new name (its owner only)."""
        gid, name = self._gid(gid), checks.text(name, "name", 1, 64)

        def renamed(group: ChangingGroup) -> dict:
            if group.row.owner != uid:
                raise Forbidden("only the group's owner can rename it", "not_owner")
            if name != group.row.name:
                group.rename(uid, name, _event("renamed", uid, [], name=name),
                             f"{self._names([uid])[uid]} renamed the group to {name}")
            return {"group": group_view(group.row)}
        return self._change(uid, gid, renamed)

    def add(self, uid: int, gid, uids) -> dict:
        """Add users (any member may); those already in are ignored."""
        gid = self._gid(gid)
        uids = self._uids(uids, "uids")
        names = self._names([uid, *uids])

        def added(group: ChangingGroup) -> dict:
            new = [u for u in uids if u not in group.members]
            self._fits(len(group.members) + len(new))
            if new:
                group.add(uid, new, _event("added", uid, new), f"{names[uid]} added" + _list(new, names, limit=20))
            if not group.large and len(group.members) > self.large_at:  # grown large: switch, once, for good
                group.switch_to_read(uid, _event("large", uid, [], size=len(group.members)),
                                     f"The group has {len(group.members)} members: from here on it is stored "
                                     "once for everyone (read diffusion)")
            return {"group": group_view(group.row)}
        return self._change(uid, gid, added)

    def remove(self, uid: int, gid, member) -> None:
        """Remove a member (the owner may), or leave (anyone, themself). The owner leaving passes ownership
        to the longest-standing member; the last member leaving makes the group gone."""
        gid, member = self._gid(gid), checks.integer(member, "uid", 1)

        def removed(group: ChangingGroup) -> None:
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
        self._change(uid, gid, removed)

    def _change(self, uid: int, gid: int, apply):
        """Make a change to group gid as uid, a current member (else 403 for a former one, 404)."""
        try:
            return self.writer.change(GroupChange(uid, gid, apply))
        except REFUSALS as e:
            raise self.rules.refused(Conversation.group(gid), e) from None

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


def _cursor(after) -> tuple[int, int]:
    """A page's start: (0, 0) for the first, else the "joined_mid.uid" of the member before it."""
    if after is None:
        return 0, 0
    joined, dot, uid = str(after).partition(".")
    if not all(part.isascii() and part.isdigit() and len(part) < 19 for part in (joined, uid)) or not dot:
        raise BadInput("after must be the next of the page before", "invalid_after")
    return int(joined), int(uid)


def _event(kind: str, by: int, uids: list[int], **extra) -> str:
    return json.dumps({"type": kind, "by": by, "uids": uids, **extra}, ensure_ascii=False, separators=(",", ":"))


def _list(uids: list[int], names: dict[int, str], limit: int | None = None) -> str:
    shown = uids if limit is None or len(uids) <= limit else uids[:limit]
    more = f" and {len(uids) - len(shown)} more" if len(shown) < len(uids) else ""
    return " " + ", ".join(names.get(u, str(u)) for u in shown) + more


def _with(uids: list[int], names: dict[int, str], limit: int | None = None) -> str:
    return " with" + _list(uids, names, limit) if uids else ""
