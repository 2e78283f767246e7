"""API layer: the HTTP API as an OpenAPI 3.1 document, served at /api/openapi.json.

Every input states the constraints the services enforce (FIELDS), so a request valid by the document is
one the server accepts; tests/test_openapi.py sends requests generated from the document to check it.
"""
from __future__ import annotations

import re

import bottle

from ..config import Config
from ..services import checks


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _obj(required: list[str], **properties) -> dict:
    return {"type": "object", "required": required, "properties": properties}


INT, STR = {"type": "integer"}, {"type": "string"}
MAX_ID = 2**62  # what checks.integer accepts by default
DEFAULT_MAX_MEMBERS = Config.max_group_members
NO_NUL = "^[^\\u0000]*$"
# At least one character left after trimming (str.strip; \\s alone differs between regex dialects), no NUL.
VISIBLE = "^[^\\u0000]*[^\\s\\u0000\\u001c-\\u001f\\u0085][^\\u0000]*$"
# The constraints the services check (services/checks.py and the calls to it), stated once for the document.
FIELDS = {
    "uid": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "mid": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    "seq": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
    "username": {"type": "string", "pattern": f"^{checks.USERNAME.pattern}$"},
    "password": {"type": "string", "minLength": 4, "maxLength": 128, "pattern": NO_NUL},
    "nickname": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": VISIBLE,
                 "description": "1 to 64 characters after trimming"},
    "login_username": {"type": "string", "maxLength": 32},
    "login_password": {"type": "string", "maxLength": 128},
    "content": {"type": "string", "minLength": 1, "maxLength": checks.MAX_CONTENT, "pattern": VISIBLE,
                "description": f"1 to {checks.MAX_CONTENT} characters after trimming"},
    "client_msg_id": {"type": ["string", "null"], "pattern": f"^{checks.CLIENT_MSG_ID.pattern}$",
                      "description": "the sender's id for this send: the same again stores nothing"},
    "to": {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": "the recipient; not the caller"},
    "history_limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
    "sync_limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200},
    "timeout": {"type": "number", "minimum": 0, "maximum": 30, "default": 0},
    "hints_since": {"type": "string", "pattern": "^[0-9]{1,19}-[0-9]{1,19}$", "description": "a hints_next"},
    "gid": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "muted": {"type": "boolean"},
    "target_mid": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "mentions": {"oneOf": [{"const": "all"}, {"type": "array", "maxItems": 100, "items": {
        "type": "integer", "minimum": 1, "maximum": MAX_ID}}], "description": (
        "a group message's mentions: members' uids (anyone else: 400 mention_not_member), or \"all\" (the "
        "group's owner only: 403 not_owner); a 1:1 chat takes none (400 mentions_in_group_only)")},
    "group_name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": VISIBLE,
                   "description": "1 to 64 characters after trimming"},
    "uids": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
             "maxItems": DEFAULT_MAX_MEMBERS,
             "description": "users (repeats and present members are ignored); a group has at most "
                            "--max-group-members (default 500) members: 400 group_too_large beyond"},
}
CID = {"name": "cid", "in": "path", "required": True, "description": (
    "the conversation: u<uid> (the 1:1 chat with that user), g<gid> (a group), or a bare uid (as before cids)"),
    "schema": {"oneOf": [{"type": "string", "pattern": "^[ug][1-9][0-9]{0,17}$"}, FIELDS["uid"]]}}
ERROR = {"description": "error", "content": {"application/json": {"schema": _ref("Error")}}}
ERRORS = {code: ERROR for code in ("400", "401", "403", "404", "413", "429", "503")}


def _op(summary: str, responses: dict, body: dict | None = None, params: list | None = None,
        auth: bool = True, description: str = "") -> dict:
    op = {"summary": summary, "responses": {**responses, **ERRORS}}
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    if not auth:
        op["security"] = []
    return op


def _param(name: str, where: str = "query", schema: str = "mid", required: bool = False,
           description: str = "") -> dict:
    param = {"name": name, "in": where, "required": required or where == "path", "schema": FIELDS[schema]}
    return {**param, "description": description} if description else param


def _body(required: list[str], **fields: str) -> dict:
    """A request body: a JSON object of FIELDS; properties it does not name are not part of the API."""
    return {**_obj(required, **{name: FIELDS[field] for name, field in fields.items()}),
            "additionalProperties": False}


# A history page takes before or after, never both. OpenAPI 3.1 cannot relate two query parameters in a
# schema (short of one exploded object parameter, which clients and generators handle poorly), so the
# operation and both parameters say it in words; tests/test_openapi.py checks the server refuses the pair.
PAGE_RULE = "Give `before` or `after`, not both: 400 bad_cursor."
PAGE_PARAMS = [
    _param("before", description="the page of messages just before this mid; not with after (400 bad_cursor)"),
    _param("after", description="the page of messages just after this mid; not with before (400 bad_cursor)"),
    _param("limit", schema="history_limit"),
]
TAKEN = {"409": {**ERROR, "description": "username_taken: someone has this username"}}
MID = {"name": "mid", "in": "path", "required": True, "schema": FIELDS["target_mid"], "description": "the message"}
CHANGE_ERRORS = {"409": {**ERROR, "description": "already_recalled; or client_msg_id_taken: used for another message"}}
RECALL_RULE = ("Its sender within --recall-window seconds (120), a group's owner any message at any time; someone "
               "else's message: 403 not_your_message; too late: 403 too_late; a system message: 403 not_changeable; "
               "no such message the caller sees here: 404 no_such_message.")
EDIT_RULE = ("Its sender within 24 hours, to 1..1000 characters after trimming; someone else's message: 403 "
             "not_your_message; too late: 403 too_late; recalled: 409 already_recalled; no such message the caller "
             "sees here: 404 no_such_message.")

SCHEMAS = {
    "Error": _obj(["error"], error=_obj(["code", "message"], code=STR, message=STR)),
    "User": _obj(["uid", "username", "nickname", "avatar"], uid=INT, username=STR, nickname=STR, avatar=STR),
    "Message": _obj(["mid", "from", "content", "created_at", "kind"], mid=INT, **{"from": INT},
                    to={**INT, "description": "a 1:1 message's recipient"},
                    group={**INT, "description": "a group message's group"},
                    gseq={**INT, "description": "a group message's place in the group's one order"},
                    kind={"enum": ["text", "system", "recall", "edit"]}, content=STR,
                    created_at={"type": "string", "format": "date-time"}, client_msg_id={"type": ["string", "null"]},
                    mentions={"oneOf": [{"const": "all"}, {"type": "array", "items": INT}],
                              "description": "whom a group message mentions"},
                    recalled_by={**INT, "description": "who recalled it (撤回): its content is gone"},
                    edited_at={"type": "string", "format": "date-time", "description": "when it was last edited"},
                    target={"type": "object", "description": "a recall's or an edit's message (signals appear as "
                                                             "events, never in history)"},
                    event={**_obj(["type", "by", "uids"], type={"enum": ["created", "renamed", "added", "removed",
                                                                         "left", "owner"]},
                                  by=INT, uids={"type": "array", "items": INT}, name=STR),
                           "description": "a system message's membership change"}),
    "Event": {"type": "object", "required": ["type"], "properties": {
        "type": {"enum": ["message", "recalled", "edited", "read", "delivered", "unread", "settings", "typing"]},
        "seq": INT, "message": _ref("Message"), "conversation": {**STR, "description": "a cid, as the caller names it"},
        "mid": {**INT, "description": "recalled: the message recalled"}, "by": {**INT, "description": (
            "recalled: who recalled it; typing: who types")}},
        "description": ("message, recalled and edited events have a seq (durable, replayed on resume); the others "
                        "are live hints; typing reaches WebSocket connections only")},
    "Group": _obj(["gid", "name", "owner", "member_count", "created_at"], gid=INT, name=STR, owner=INT,
                  member_count=INT, created_at={"type": "string", "format": "date-time"}),
}
GROUP = _obj(["group"], group=_ref("Group"))
GID = _param("gid", "path", "gid")
GROUP_PATHS = {
    "/api/groups": {
        "post": _op("Make a group; the caller is its owner and a member", {"201": _json(GROUP, "created")},
                    _body(["name"], name="group_name", members="uids")),
        "get": _op("The caller's current groups", {"200": _json(_obj(["groups"], groups={
            "type": "array", "items": _ref("Group")}))})},
    "/api/groups/{gid}": {
        "get": _op("A group and its members (members only)", {"200": _json(_obj(["group", "members"], group=_ref(
            "Group"), members={"type": "array", "items": _obj(["user", "role", "read_mid"], user=_ref("User"),
                                                              role={"enum": ["owner", "member"]}, read_mid=INT)}))},
                   params=[GID]),
        "patch": _op("Rename a group (its owner only)", {"200": _json(GROUP)}, _body(["name"], name="group_name"),
                     params=[GID])},
    "/api/groups/{gid}/members": {"post": _op("Add members (any member; present members are ignored)", {
        "200": _json(GROUP)}, _body(["uids"], uids="uids"), params=[GID])},
    "/api/groups/{gid}/members/{uid}": {"delete": _op(
        "Remove a member (the owner), or leave (anyone, themself)", {"204": {"description": "removed"}},
        params=[GID, _param("uid", "path", "uid")])},
    "/api/groups/{gid}/messages": {
        "post": _op("Send a message to a group", {
            "201": _json(_obj(["message"], message=_ref("Message")), "stored"),
            "200": _json(_obj(["message"], message=_ref("Message")), "already stored with this client_msg_id")},
            _body(["content"], content="content", client_msg_id="client_msg_id", mentions="mentions"), params=[GID]),
        "get": _op("A page of a group as the caller received it, ascending, with the members' read markers", {
            "200": _json(_obj(["messages", "has_more", "read_marks"], messages={
                "type": "array", "items": _ref("Message")}, has_more={"type": "boolean"}, read_marks={
                "type": "object", "additionalProperties": INT, "description": (
                    "{\"<uid>\": read_mid}: how far each member has read. For a current member, the current "
                    "members. For a former member, the members they left behind (themself included), each "
                    "only as far as the message that removed them: their own messages keep the marks they had, "
                    "and nothing of what came after shows (not later members, not reads past it).")}))},
            params=[GID, *PAGE_PARAMS], description=PAGE_RULE)},
    "/api/groups/{gid}/read": {"post": _op("Mark a group read", {"200": _json(_obj(
        ["unread", "total_unread", "read_mid"], unread=INT, total_unread=INT, read_mid=INT))},
        _body([], up_to="mid"), params=[GID])},
}
USER = _obj(["user"], user=_ref("User"))
PATHS = {
    "/api/register": {"post": _op("Create an account", {"201": _json(USER, "created"), **TAKEN}, _body(
        ["username", "password"], username="username", password="password", nickname="nickname"), auth=False)},
    "/api/login": {"post": _op("Log in", {"200": _json(_obj(["token", "user"], token=STR, user=_ref("User")))},
                               _body(["username", "password"], username="login_username",
                                     password="login_password"), auth=False)},
    "/api/logout": {"post": _op("End this session", {"204": {"description": "logged out"}})},
    "/api/me": {"get": _op("The caller", {"200": _json(USER)})},
    "/api/users": {"get": _op("Everyone but the caller", {"200": _json(
        _obj(["users"], users={"type": "array", "items": _ref("User")}))})},
    "/api/contacts": {"get": _op("Recent contacts, 1:1 conversations and groups in one list, newest first", {
        "200": _json(_obj(["total_unread", "contacts"], total_unread=INT, contacts={"type": "array", "items": {
            "oneOf": [_obj(["user", "last_message", "unread"], user=_ref("User"), last_message=_ref("Message"),
                           unread=INT, peer_read_mid=INT, peer_delivered_mid=INT, muted={"type": "boolean"},
                           read_mid={**INT, "description": "how far the caller has read"}),
                      _obj(["group", "last_message", "unread", "member"], group=_ref("Group"),
                           last_message=_ref("Message"), unread=INT, member={"type": "boolean"},
                           muted={"type": "boolean"}, read_mid={**INT, "description": "how far the caller has read"},
                           mentioned={"type": "boolean", "description": (
                               "someone mentioned the caller (or everyone) in a message past read_mid")})]}},
            seq=INT))})},
    "/api/unread": {"get": _op("Unread counts", {"200": _json(_obj(
        ["total", "conversations", "groups"], total=INT,
        conversations={"type": "object", "additionalProperties": INT},
        groups={"type": "object", "additionalProperties": INT}))})},
    "/api/messages": {"post": _op("Send a message", {
        "201": _json(_obj(["message"], message=_ref("Message")), "stored"),
        "200": _json(_obj(["message"], message=_ref("Message")), "already stored with this client_msg_id")},
        _body(["to", "content"], to="to", content="content", client_msg_id="client_msg_id"))},
    "/api/conversations/{cid}/messages": {
        "get": _op("A page of a conversation, ascending: a 1:1 chat (with the other user's read and delivered "
                   "marks) or a group (with its members' read marks)", {"200": _json(
            _obj(["messages", "has_more"], messages={"type": "array", "items": _ref("Message")},
                 has_more={"type": "boolean"}, peer_read_mid=INT, peer_delivered_mid=INT,
                 read_marks={"type": "object", "additionalProperties": INT}))},
            params=[CID, *PAGE_PARAMS], description=PAGE_RULE),
        "post": _op("Send a message to a conversation (a 1:1 chat or a group)", {
            "201": _json(_obj(["message"], message=_ref("Message")), "stored"),
            "200": _json(_obj(["message"], message=_ref("Message")), "already stored with this client_msg_id")},
            _body(["content"], content="content", client_msg_id="client_msg_id", mentions="mentions"), params=[CID])},
    "/api/conversations/{cid}/messages/{mid}/recall": {"post": _op(
        "Recall a message (撤回): its content is erased on the server; every member's stream gets a recalled event",
        {"200": _json(_obj(["message"], message=_ref("Message")), "recalled (or already, by this client_msg_id)"),
         **CHANGE_ERRORS}, _body([], client_msg_id="client_msg_id"), params=[CID, MID], description=RECALL_RULE)},
    "/api/conversations/{cid}/messages/{mid}": {"patch": _op(
        "Edit a message: every member's stream gets an edited event with the new text",
        {"200": _json(_obj(["message"], message=_ref("Message")), "edited (or already, by this client_msg_id)"),
         **CHANGE_ERRORS}, _body(["content"], content="content", client_msg_id="client_msg_id"), params=[CID, MID],
        description=EDIT_RULE)},
    "/api/conversations/{cid}/typing": {"post": _op(
        "Say the caller is typing: relayed live to the other members' WebSocket connections, never stored, not in "
        "a group of more than 100 members; at most once every 2 s per conversation (429 typing_too_often)",
        {"204": {"description": "relayed"}}, params=[CID])},
    "/api/conversations/{cid}/read": {"post": _op("Mark a conversation read", {"200": _json(_obj(
        ["unread", "total_unread"], unread=INT, total_unread=INT, read_mid=INT))}, _body([], up_to="mid"),
        params=[CID])},
    "/api/conversations/{cid}/settings": {"put": _op(
        "Set the caller's settings of a conversation: muted (no notifications, not in the title's count)",
        {"200": _json(_obj(["conversation", "muted"], conversation=STR, muted={"type": "boolean"}))},
        _body(["muted"], muted="muted"), params=[CID])},
    "/api/sync": {"get": _op("Events after a seq; waits up to timeout seconds", {"200": _json(_obj(
        ["events", "next", "hints_next"], events={"type": "array", "items": _ref("Event")}, next=INT,
        hints_next=STR, has_more={"type": "boolean"}))},
        params=[_param("since", schema="seq"), _param("timeout", schema="timeout"),
                _param("limit", schema="sync_limit"), _param("hints_since", schema="hints_since")])},
    "/api/config": {"get": _op("What a client needs to connect", {"200": _json(_obj(
        ["ws_url", "heartbeat", "ack_timeout", "ack_retries", "poll_interval", "recall_window", "demo_accounts",
         "inspector"],
        ws_url=STR, heartbeat={"type": "number"}, ack_timeout={"type": "number"}, ack_retries=INT,
        poll_interval={"type": "number"}, recall_window={"type": "number", "description": (
            "seconds after sending during which its sender may recall a message")},
        demo_accounts={"type": "boolean"}, inspector={"type": "boolean"}))},
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
                                      params=[_param("a", schema="uid", required=True),
                                              _param("b", schema="uid", required=True)], auth=False)},
    "/api/inspect/group": {"get": _op("The inspector: a group's rows and each member's unread field beside the "
                                      "database's count and the changes waiting for the merge window, with the uids "
                                      "whose counts differ by more than what waits (only when the inspector is on)",
                                      {"200": _json({"type": "object"})},
                                      params=[_param("gid", schema="gid", required=True)], auth=False)},
    "/api/openapi.json": {"get": _op("This document", {"200": _json({"type": "object"})}, auth=False)},
}
DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "imdemo", "version": "1", "description": (
        "The HTTP API of imdemo (SPEC sections 4 and 11). Each input states what the server checks; besides: a "
        "body is at most 16 KiB (413 beyond) and has no property its schema does not list (400 unknown_field); "
        "a query value is never empty: leave the parameter out instead (400 invalid_<name>); the caller is "
        "whoever the token says; a message's `to` is not the caller (400 self_message); a history page takes "
        "`before` or `after`, not both (400 bad_cursor); a uid that names nobody is 404 no_such_user; a group "
        "the caller never belonged to is 404 no_such_group, one they left 403 not_a_member, and renaming or "
        "removing others needs its owner (403 not_owner). A path not listed here answers 404, a method a path "
        "does not list 405, both in the error shape.")},
    "paths": {**PATHS, **GROUP_PATHS},
    "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
}


# {(Bottle's rule, method): the properties its JSON body may have}: the server refuses any other (json_body)
BODIES = {(re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper()):
          frozenset(op["requestBody"]["content"]["application/json"]["schema"]["properties"])
          for path, ops in DOCUMENT["paths"].items() for method, op in ops.items() if "requestBody" in op}


def body_properties(rule: str, method: str) -> frozenset[str]:
    """The properties the document gives a route's JSON body (none for a route it gives no body)."""
    return BODIES.get((rule, method), frozenset())


def add_openapi_route(app: bottle.Bottle) -> None:
    @app.get("/api/openapi.json", auth=False)
    def openapi():
        return DOCUMENT
