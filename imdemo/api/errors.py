"""API layer: map service errors to HTTP statuses and the JSON error shape, in one table."""
from __future__ import annotations

import json
import logging
import math

import bottle

from ..services import errors

log = logging.getLogger(__name__)

STATUS = {
    errors.BadInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Unprocessable: 422,
    errors.RateLimited: 429,
    errors.Unavailable: 503,
}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 413: "too_large", 422: "unprocessable", 500: "internal_error", 503: "unavailable"}


def json_response(body, status: int = 200, headers: dict | None = None) -> bottle.HTTPResponse:
    """Return body as a JSON response."""
    text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = bottle.HTTPResponse(text, status, headers)
    if body is not None:
        response.content_type = "application/json; charset=utf-8"
    return response


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def from_service_error(e: errors.ImdemoError) -> bottle.HTTPResponse:
    """Turn a service error into its status and JSON body."""
    status = next((s for kind, s in STATUS.items() if isinstance(e, kind)), 400)
    headers = {}
    if isinstance(e, errors.RateLimited):
        headers["Retry-After"] = str(max(1, math.ceil(e.retry_after)))
    return json_response(error_body(e.code, e.message), status, headers)


def from_http_error(e: bottle.HTTPError) -> str:
    """Render Bottle's own errors (no route, wrong method, a crash) as JSON, never a stack trace."""
    if e.status_code >= 500 and e.exception is not None:
        log.error("request failed: %s", e.exception, exc_info=e.exception)
    bottle.response.content_type = "application/json; charset=utf-8"
    message = {404: "no such route", 405: "method not allowed here"}.get(e.status_code, "")
    if e.status_code < 500 and not message:
        message = str(e.body or e.status_line)
    return json.dumps(error_body(CODES.get(e.status_code, "error"), message or "internal error"))
