"""Services layer: the JSON shapes of a user and a message, as the API returns them."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from ..store.groups import GroupRow
from ..store.message_rows import SYSTEM, Message
from ..store.users import UserRow


def user_view(user: UserRow) -> dict:
    return {"uid": user.uid, "username": user.username, "nickname": user.nickname, "avatar": user.avatar}


def group_view(group: GroupRow) -> dict:
    return {"gid": group.gid, "name": group.name, "owner": group.owner, "member_count": group.member_count,
            "created_at": iso_time(group.created_ms)}


def iso_time(ms: int) -> str:
    """Format epoch milliseconds as ISO 8601 UTC."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_view(m: Message) -> dict:
    """A 1:1 message names its recipient (to); a group message its group, its place in the group's one
    order (gseq) and its kind: text, or system with the structured event of a membership change."""
    if m.gid is None:
        return {"mid": m.mid, "from": m.sender, "to": m.recipient, "kind": "text", "content": m.content,
                "created_at": iso_time(m.created_ms), "client_msg_id": m.client_msg_id}
    view = {"mid": m.mid, "from": m.sender, "group": m.gid, "gseq": m.gseq,
            "kind": "system" if m.kind == SYSTEM else "text", "content": m.content,
            "created_at": iso_time(m.created_ms), "client_msg_id": m.client_msg_id}
    if m.event is not None:
        view["event"] = json.loads(m.event)
    return view


def message_event(seq: int, m: Message) -> dict:
    return {"type": "message", "seq": seq, "message": message_view(m)}
