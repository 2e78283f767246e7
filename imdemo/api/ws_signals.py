"""API layer: the WebSocket frames of signals (SPEC section 17): `recall` {conversation, mid, client_msg_id?} and
`edit` {conversation, mid, content, client_msg_id?}, each answered `changed` {of, client_msg_id, message} (the
message as it stands now; the events follow in every member's stream), and `typing` {conversation}, answered
by nothing (over the rate it is dropped in silence: a hint, not a request)."""
from __future__ import annotations

from collections.abc import Callable

from ..services import Services
from .ws_frames import conversation_of

FRAMES = ("recall", "edit", "typing")


def signal_call(services: Services, frame: dict) -> tuple[Callable, tuple]:
    """The service a signal frame calls, and what it passes after the caller."""
    conversation = conversation_of(frame, "with")
    if frame["type"] == "recall":
        return services.signals.recall, (conversation, frame.get("mid"), frame.get("client_msg_id"))
    if frame["type"] == "edit":
        return services.signals.edit, (conversation, frame.get("mid"), frame.get("content"),
                                       frame.get("client_msg_id"))
    return services.typing.typing, (conversation, True)


def signal_reply(frame: dict, answer: dict | None) -> dict | None:
    """The frame answering a signal frame (none for typing)."""
    if answer is None:
        return None
    return {"type": "changed", "of": frame["type"], "client_msg_id": frame.get("client_msg_id"), **answer}
