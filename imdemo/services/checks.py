"""Services layer: checks of input values shared by the services; each failure is a BadInput."""
from __future__ import annotations

import re

from .errors import BadInput

MAX_CONTENT = 1000
USERNAME = re.compile(r"[a-z0-9_]{3,32}")
CLIENT_MSG_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def integer(value, name: str, low: int = 0, high: int = 2**62) -> int:
    """Return value as an int within [low, high], accepting digit strings from query strings."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value.strip()):  # ASCII digits only
        value = int(value)
    elif isinstance(value, float) and value.is_integer():  # JSON has one number type: 2.0 is the integer 2
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a whole number", "invalid_" + name)
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}", "invalid_" + name)
    return value


def number(value, name: str, low: float, high: float) -> float:
    """Return value as a float within [low, high]."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise BadInput(f"{name} must be a number", "invalid_" + name) from None
    if isinstance(value, bool) or not low <= result <= high:
        raise BadInput(f"{name} must be between {low:g} and {high:g}", "invalid_" + name)
    return result


def text(value, name: str, low: int, high: int, strip: bool = True) -> str:
    """Return value as a string of low..high characters (after trimming when strip)."""
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string", "invalid_" + name)
    if strip:
        value = value.strip()
    if "\x00" in value:
        raise BadInput(f"{name} must not contain NUL characters", "invalid_" + name)
    encodable(value, name)
    if not low <= len(value) <= high:
        raise BadInput(f"{name} must have {low} to {high} characters", "invalid_" + name)
    return value


def content(value) -> str:
    """Return a message's text: 1..1000 characters after trimming."""
    return text(value, "content", 1, MAX_CONTENT)


def caption(value) -> str:
    """Return the text sent with an image or file: none, or up to 1000 characters after trimming."""
    return "" if value is None else text(value, "content", 0, MAX_CONTENT)


def client_msg_id(value) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not CLIENT_MSG_ID.fullmatch(value):
        raise BadInput("client_msg_id must be 1-64 letters, digits or _.:-", "invalid_client_msg_id")
    return value


def username(value) -> str:
    if not isinstance(value, str) or not USERNAME.fullmatch(value):
        raise BadInput("username must be 3-32 lowercase letters, digits or _", "invalid_username")
    return value


def encodable(value: str, name: str) -> str:
    """Refuse a string that cannot be stored as UTF-8 (a lone surrogate from a JSON escape like \\ud800)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{name} is not valid Unicode text", "invalid_" + name) from None
    return value
