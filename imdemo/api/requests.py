"""API layer: read what a request carries (JSON body, query values, bearer token, address)."""
from __future__ import annotations

import json

import bottle

from ..services.errors import BadInput, TooLarge
from .openapi import body_properties

MAX_BODY = 16 * 1024


def json_body() -> dict:
    """Return the request's JSON object; 413 past 16 KiB, 400 when it is not a JSON object or has a property
    the API document does not give this route (a typo such as "contnet" is refused, not silently dropped)."""
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
    allowed = body_properties(request.route.rule, request.method)
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise BadInput(f"unknown field {unknown[0][:64]!a}: this body takes {', '.join(sorted(allowed)) or 'nothing'}",
                       "unknown_field")
    return data


def query(name: str, default=None):
    """Return one query-string value, or default when it is absent; 400 when it is empty or not UTF-8."""
    raw = bottle.request.query.get(name)  # bottle keeps query values as latin-1 decoded bytes
    if raw is None:
        return default
    if raw == "":  # not taken for absent: `hints_since=` would quietly lose the hints between two polls
        raise BadInput(f"the query value {name} is empty; leave {name} out instead", "invalid_" + name)
    try:
        return raw.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise BadInput(f"the query value {name} is not UTF-8", "invalid_" + name) from None


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header; None when absent or unreadable (then: 401)."""
    try:
        header = bottle.request.get_header("Authorization", "")
    except UnicodeError:  # bottle decodes header bytes as UTF-8 on access
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def client_address(trust_proxy: bool = False) -> str:
    """The peer's address. X-Forwarded-For is taken only behind a proxy the operator trusts, and then only
    its last entry: the one that proxy appended (anything before it the client could have written)."""
    peer = bottle.request.environ.get("REMOTE_ADDR") or "unknown"
    if trust_proxy:
        forwarded = bottle.request.environ.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        return last[:64] or peer
    return peer
