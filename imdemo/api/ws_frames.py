"""API layer: the client's frames of the WebSocket protocol (SPEC sections 6, 11 and 14): parse one, name the
conversation a send or a read frame is for, and word the error frame answering one that was refused."""
from __future__ import annotations

import json
from collections.abc import Callable

from ..services import Services
from ..services import conversations as named
from ..services.errors import BadInput, ImdemoError
from ..store.conversation import Conversation

CLOSE_TIMEOUT = 4408  # heartbeat or ACK timeout: the client resumes from the seq it holds
CLOSE_UNAUTHORIZED = 4401  # no valid hello, a logout, an ended session


def encode(frame: dict | list) -> str:
    """A server frame's text: compact JSON, non-ASCII as itself."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def parse(raw) -> dict:
    """Return a client frame as a dict, or raise BadInput."""
    if not isinstance(raw, str):
        raise BadInput("frames are JSON text, not binary", "binary_frame")
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadInput("the frame is not valid JSON", "malformed_frame") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise BadInput("a frame is a JSON object with a string type", "malformed_frame")
    return frame


def conversation_of(frame: dict, uid_field: str) -> Conversation:
    """The conversation a frame names: "conversation" (a cid), "group" (a gid), or a user (uid_field: a send's
    "to", a read's "with")."""
    if "conversation" in frame:
        return named.named(frame["conversation"])
    if "group" in frame:
        return named.group(frame["group"])
    return named.direct(frame.get(uid_field), "uid" if uid_field == "with" else uid_field)


def send_call(services: Services, frame: dict) -> tuple[Callable, Conversation]:
    """The service that stores a send frame, and the conversation it goes to."""
    return services.messages.send, conversation_of(frame, "to")


def read_call(services: Services, frame: dict) -> tuple[Callable, Conversation]:
    """The service that marks a read frame's conversation read, and the conversation."""
    return services.messages.mark_read, conversation_of(frame, "with")


def error_frame(frame: dict | None, e: ImdemoError) -> dict:
    """The error frame answering a refused frame; for a send (a recall, an edit), naming its client_msg_id
    (which of several in flight failed)."""
    reply = {"type": "error", "code": e.code, "message": e.message}
    named = frame is not None and isinstance(frame.get("client_msg_id"), str)
    if named and frame["type"] in ("send", "recall", "edit"):
        reply["client_msg_id"] = frame["client_msg_id"]
    return reply
