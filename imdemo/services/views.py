"""Services layer: the JSON shapes of a user and a group, as the API returns them (a message's is the
store's, store/message.py: the same body travels in notices and answers)."""
from __future__ import annotations

from ..store.group_reads import GroupRow
from ..store.message import iso_time
from ..store.users import UserRow


def user_view(user: UserRow) -> dict:
    return {"uid": user.uid, "username": user.username, "nickname": user.nickname, "avatar": user.avatar}


STORAGE = {0: "write", 1: "read"}  # how a group stores its messages: write diffusion, read diffusion (SPEC 15)


def group_view(group: GroupRow) -> dict:
    return {"gid": group.gid, "name": group.name, "owner": group.owner, "member_count": group.member_count,
            "created_at": iso_time(group.created_ms), "storage": STORAGE[group.storage]}
