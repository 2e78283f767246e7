"""API layer: the HTTP API as an OpenAPI 3.1 document, served at /api/openapi.json."""
from __future__ import annotations

import bottle


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _obj(required: list[str], **properties) -> dict:
    return {"type": "object", "required": required, "properties": properties}


INT, STR = {"type": "integer"}, {"type": "string"}
ERROR = {"description": "error", "content": {"application/json": {"schema": _ref("Error")}}}
ERRORS = {code: ERROR for code in ("400", "401", "403", "404", "413", "429", "503")}


def _op(summary: str, responses: dict, body: dict | None = None, params: list | None = None,
        auth: bool = True) -> dict:
    op = {"summary": summary, "responses": {**responses, **ERRORS}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    if not auth:
        op["security"] = []
    return op


def _param(name: str, where: str = "query", schema: dict = INT, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema}


SCHEMAS = {
    "Error": _obj(["error"], error=_obj(["code", "message"], code=STR, message=STR)),
    "User": _obj(["uid", "username", "nickname", "avatar"], uid=INT, username=STR, nickname=STR, avatar=STR),
    "Message": _obj(["mid", "from", "content", "created_at", "kind"], mid=INT, **{"from": INT},
                    to={**INT, "description": "a 1:1 message's recipient"},
                    group={**INT, "description": "a group message's group"},
                    gseq={**INT, "description": "a group message's place in the group's one order"},
                    kind={"enum": ["text", "system"]}, content=STR,
                    created_at={"type": "string", "format": "date-time"}, client_msg_id={"type": ["string", "null"]},
                    event={**_obj(["type", "by", "uids"], type={"enum": ["created", "renamed", "added", "removed",
                                                                         "left", "owner"]},
                                  by=INT, uids={"type": "array", "items": INT}, name=STR),
                           "description": "a system message's membership change"}),
    "Event": {"type": "object", "required": ["type"], "properties": {
        "type": {"enum": ["message", "read", "delivered", "unread"]}, "seq": INT,
        "message": _ref("Message")}},
    "Group": _obj(["gid", "name", "owner", "member_count", "created_at"], gid=INT, name=STR, owner=INT,
                  member_count=INT, created_at={"type": "string", "format": "date-time"}),
}
GID = _param("gid", "path", {"type": "integer", "minimum": 1})
GROUP = _obj(["group"], group=_ref("Group"))
NAME = {"type": "string", "minLength": 1, "maxLength": 64, "description": "1-64 characters after trimming"}
UIDS = {"type": "array", "items": {"type": "integer", "minimum": 1}}
PAGE = [_param("before", schema={"type": "integer", "minimum": 0}), _param("after", schema={"type": "integer",
                                                                                           "minimum": 0}),
        _param("limit", schema={"type": "integer", "minimum": 1, "maximum": 100})]
GROUP_PATHS = {
    "/api/groups": {
        "post": _op("Make a group; the caller is its owner and a member", {"201": _json(GROUP, "created")},
                    _obj(["name"], name=NAME, members=UIDS)),
        "get": _op("The caller's current groups", {"200": _json(_obj(["groups"], groups={
            "type": "array", "items": _ref("Group")}))})},
    "/api/groups/{gid}": {
        "get": _op("A group and its members (members only)", {"200": _json(_obj(["group", "members"], group=_ref(
            "Group"), members={"type": "array", "items": _obj(["user", "role", "read_mid"], user=_ref("User"),
                                                              role={"enum": ["owner", "member"]}, read_mid=INT)}))},
                   params=[GID]),
        "patch": _op("Rename a group (its owner only)", {"200": _json(GROUP)}, _obj(["name"], name=NAME),
                     params=[GID])},
    "/api/groups/{gid}/members": {"post": _op("Add members (any member; present members are ignored)", {
        "200": _json(GROUP)}, _obj(["uids"], uids=UIDS), params=[GID])},
    "/api/groups/{gid}/members/{uid}": {"delete": _op(
        "Remove a member (the owner), or leave (anyone, themself)", {"204": {"description": "removed"}},
        params=[GID, _param("uid", "path", {"type": "integer", "minimum": 1})])},
    "/api/groups/{gid}/messages": {
        "post": _op("Send a message to a group", {
            "201": _json(_obj(["message"], message=_ref("Message")), "stored"),
            "200": _json(_obj(["message"], message=_ref("Message")), "already stored with this client_msg_id")},
            _obj(["content"], content={"type": "string", "minLength": 1, "maxLength": 1000},
                 client_msg_id={"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"}), params=[GID]),
        "get": _op("A page of a group as the caller received it, ascending, with the members' read markers", {
            "200": _json(_obj(["messages", "has_more", "read_marks"], messages={
                "type": "array", "items": _ref("Message")}, has_more={"type": "boolean"}, read_marks={
                "type": "object", "additionalProperties": INT}))}, params=[GID, *PAGE])},
    "/api/groups/{gid}/read": {"post": _op("Mark a group read", {"200": _json(_obj(
        ["unread", "total_unread", "read_mid"], unread=INT, total_unread=INT, read_mid=INT))},
        _obj([], up_to={"type": "integer", "minimum": 0}), params=[GID])},
}
USER = _obj(["user"], user=_ref("User"))
PATHS = {
    "/api/register": {"post": _op("Create an account", {"201": _json(USER, "created")}, _obj(
        ["username", "password"], username=STR, password=STR, nickname=STR), auth=False)},
    "/api/login": {"post": _op("Log in", {"200": _json(_obj(["token", "user"], token=STR, user=_ref("User")))},
                               _obj(["username", "password"], username=STR, password=STR), auth=False)},
    "/api/logout": {"post": _op("End this session", {"204": {"description": "logged out"}})},
    "/api/me": {"get": _op("The caller", {"200": _json(USER)})},
    "/api/users": {"get": _op("Everyone but the caller", {"200": _json(
        _obj(["users"], users={"type": "array", "items": _ref("User")}))})},
    "/api/contacts": {"get": _op("Recent contacts, 1:1 conversations and groups in one list, newest first", {
        "200": _json(_obj(["total_unread", "contacts"], total_unread=INT, contacts={"type": "array", "items": {
            "oneOf": [_obj(["user", "last_message", "unread"], user=_ref("User"), last_message=_ref("Message"),
                           unread=INT, peer_read_mid=INT),
                      _obj(["group", "last_message", "unread", "member"], group=_ref("Group"),
                           last_message=_ref("Message"), unread=INT, member={"type": "boolean"})]}},
            seq=INT))})},
    "/api/unread": {"get": _op("Unread counts", {"200": _json(_obj(
        ["total", "conversations", "groups"], total=INT,
        conversations={"type": "object", "additionalProperties": INT},
        groups={"type": "object", "additionalProperties": INT}))})},
    "/api/messages": {"post": _op("Send a message", {
        "201": _json(_obj(["message"], message=_ref("Message")), "stored"),
        "200": _json(_obj(["message"], message=_ref("Message")), "already stored with this client_msg_id")},
        _obj(["to", "content"], to=INT, content=STR, client_msg_id=STR))},
    "/api/conversations/{other}/messages": {"get": _op("A page of a conversation, ascending", {"200": _json(
        _obj(["messages", "has_more"], messages={"type": "array", "items": _ref("Message")},
             has_more={"type": "boolean"}, peer_read_mid=INT))},
        params=[_param("other", "path"), _param("before"), _param("after"), _param("limit")])},
    "/api/conversations/{other}/read": {"post": _op("Mark a conversation read", {"200": _json(_obj(
        ["unread", "total_unread"], unread=INT, total_unread=INT, read_mid=INT))}, _obj([], up_to=INT),
        params=[_param("other", "path")])},
    "/api/sync": {"get": _op("Events after a seq; waits up to timeout seconds", {"200": _json(_obj(
        ["events", "next", "hints_next"], events={"type": "array", "items": _ref("Event")}, next=INT,
        hints_next=STR, has_more={"type": "boolean"}))},
        params=[_param("since"), _param("timeout", schema={"type": "number"}), _param("limit"),
                _param("hints_since", schema=STR)])},
    "/api/config": {"get": _op("What a client needs to connect", {"200": _json(_obj(
        ["ws_url", "heartbeat", "ack_timeout", "ack_retries", "poll_interval", "demo_accounts", "inspector"],
        ws_url=STR, heartbeat={"type": "number"}, ack_timeout={"type": "number"}, ack_retries=INT,
        poll_interval={"type": "number"}, demo_accounts={"type": "boolean"}, inspector={"type": "boolean"}))},
        auth=False)},
    "/healthz": {"get": _op("Liveness", {"200": _json(_obj(["status"], status=STR))}, auth=False)},
    "/api/inspect/actions": {"get": _op("The inspector: actions after an id, each with its SQL and Redis steps "
                                        "(only when the inspector is on)", {"200": _json(_obj(
        ["actions", "next"], actions={"type": "array", "items": {"type": "object"}}, next=INT))},
        params=[_param("after")], auth=False)},
    "/api/inspect/connections": {"get": _op("The inspector: each open WebSocket connection with its pending ACKs "
                                            "(seq, age, times sent; only when the inspector is on)", {"200": _json(
        _obj(["connections"], connections={"type": "array", "items": {"type": "object"}}))}, auth=False)},
    "/api/inspect/state": {"get": _op("The inspector: two users' rows and unread keys, with differences "
                                      "between Redis and the database (only when the inspector is on)",
                                      {"200": _json({"type": "object"})},
                                      params=[_param("a", required=True), _param("b", required=True)], auth=False)},
    "/api/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"})}, auth=False)},
}
DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "imdemo", "version": "1", "description": "The HTTP API of imdemo (SPEC section 4)."},
    "paths": {**PATHS, **GROUP_PATHS},
    "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
}


def add_openapi_route(app: bottle.Bottle) -> None:
    @app.get("/api/openapi.json", auth=False)
    def openapi():
        return DOCUMENT
