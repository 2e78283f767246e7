"""API layer: the client's frames of the WebSocket protocol (SPEC sections 6 and 11): parse one, name the
service call a send or a read makes (to a user, or to a group), and word the error frame answering one
that was refused."""
from __future__ import annotations

import json
from collections.abc import Callable

from ..services import Services
from ..services.errors import BadInput, ImdemoError


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


def send_call(services: Services, frame: dict) -> tuple[Callable, object]:
    """The service that stores a send frame, and where it goes: a user ("to") or a group ("group")."""
    if "group" in frame:
        return services.messages.send_to_group, frame["group"]
    return services.messages.send_message, frame.get("to")


def read_call(services: Services, frame: dict) -> tuple[Callable, object]:
    """The service that marks a read frame's conversation read: with a user ("with") or a group ("group")."""
    if "group" in frame:
        return services.groups.mark_read, frame["group"]
    return services.contacts.mark_read, frame.get("with")


def error_frame(frame: dict | None, e: ImdemoError) -> dict:
    """The error frame answering a refused frame; for a send, naming its client_msg_id (which of several
    sends in flight failed)."""
    reply = {"type": "error", "code": e.code, "message": e.message}
    if frame is not None and frame["type"] == "send" and isinstance(frame.get("client_msg_id"), str):
        reply["client_msg_id"] = frame["client_msg_id"]
    return reply
