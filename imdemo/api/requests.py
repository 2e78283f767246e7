"""API layer: read what a request carries (JSON body, query values, bearer token, address)."""
from __future__ import annotations

import json

import bottle

from ..services.errors import BadInput, TooLarge

MAX_BODY = 16 * 1024


def json_body() -> dict:
    """Return the request's JSON object; 413 past 16 KiB, 400 when it is not a JSON object."""
    request = bottle.request
    if request.content_length > MAX_BODY:
        raise TooLarge(f"the body must be at most {MAX_BODY} bytes", "body_too_large")
    raw = request.body.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise TooLarge(f"the body must be at most {MAX_BODY} bytes", "body_too_large")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        raise BadInput("the body is not valid JSON in UTF-8", "malformed_json") from None
    if not isinstance(data, dict):
        raise BadInput("the body must be a JSON object", "malformed_json")
    return data


def query(name: str, default=None):
    """Return one query-string value, or default when it is absent."""
    value = bottle.request.query.getunicode(name)
    return default if value is None or value == "" else value


def bearer_token() -> str | None:
    header = bottle.request.get_header("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def client_address() -> str:
    """The peer's address. X-Forwarded-For is not trusted: any client can write it."""
    return bottle.request.environ.get("REMOTE_ADDR") or "unknown"
