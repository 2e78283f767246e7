"""Services layer: the JSON shapes of a user and a message, as the API returns them."""
from __future__ import annotations

from datetime import datetime, timezone

from ..store.message_rows import Message
from ..store.users import UserRow


def user_view(user: UserRow) -> dict:
    return {"uid": user.uid, "username": user.username, "nickname": user.nickname, "avatar": user.avatar}


def iso_time(ms: int) -> str:
    """Format epoch milliseconds as ISO 8601 UTC."""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_view(m: Message) -> dict:
    return {"mid": m.mid, "from": m.sender, "to": m.recipient, "content": m.content,
            "created_at": iso_time(m.created_ms), "client_msg_id": m.client_msg_id}


def message_event(seq: int, m: Message) -> dict:
    return {"type": "message", "seq": seq, "message": message_view(m)}
