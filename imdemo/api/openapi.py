"""API layer: the HTTP API as an OpenAPI 3.1 document, served at /api/openapi.json.

Every input states the constraints the services enforce (openapi_parts.py's FIELDS), so a request valid by
the document is one the server accepts; tests/test_openapi.py sends requests generated from the document to
check it, and api/requests.py refuses a body property the document does not list.
"""
from __future__ import annotations

import re

import bottle

from . import openapi_media as media
from .openapi_parts import (
    CHANGE_ERRORS,
    CID,
    EDIT_RULE,
    INT,
    MID,
    PAGE_PARAMS,
    PAGE_RULE,
    RECALL_RULE,
    SCHEMAS,
    STR,
    TAKEN,
    body,
    json_of,
    obj,
    op,
    param,
    ref,
    send_body,
)

GROUP = obj(["group"], group=ref("Group"))
GID = param("gid", "path", "gid")
MEMBERS = {"type": "array", "items": obj(["user", "role", "read_mid"], user=ref("User"),
                                         role={"enum": ["owner", "member"]}, read_mid=INT)}
GROUP_PATHS = {
    "/api/groups": {
        "post": op("Make a group; the caller is its owner and a member. large: stored by read diffusion from its "
                    "start (so is a group made with more than --large-group-at members)",
                    {"201": json_of(GROUP, "created")},
                    body(["name"], name="group_name", members="uids", large="large")),
        "get": op("The caller's current groups", {"200": json_of(obj(["groups"], groups={
            "type": "array", "items": ref("Group")}))})},
    "/api/groups/{gid}": {
        "get": op("A group and all its members (members only; GET /api/groups/{gid}/members pages them)", {
            "200": json_of(obj(["group", "members"], group=ref("Group"), members=MEMBERS))}, params=[GID]),
        "patch": op("Rename a group (its owner only)", {"200": json_of(GROUP)}, body(["name"], name="group_name"),
                     params=[GID])},
    "/api/groups/{gid}/members": {
        "post": op("Add members (any member; present members are ignored)", {
            "200": json_of(GROUP)}, body(["uids"], uids="uids"), params=[GID]),
        "get": op("A page of a group's members, in the order of GET /api/groups/{gid} (members only)", {
            "200": json_of(obj(["group", "members", "next"], group=ref("Group"), members=MEMBERS, next={
                "type": ["string", "null"], "description": "the after of the next page; null on the last"}))},
            params=[GID, param("after", schema="member_after"), param("limit", schema="member_limit"),
                    param("q", schema="member_query")],
            description="A 万人群's page reads a page of its ten thousand members at a time, and finds one by name.")},
    "/api/groups/{gid}/members/{uid}": {"delete": op(
        "Remove a member (the owner), or leave (anyone, themself)", {"204": {"description": "removed"}},
        params=[GID, param("uid", "path", "uid")])},
    "/api/groups/{gid}/messages": {
        "post": op("Send a message to a group", {
            "201": json_of(obj(["message"], message=ref("Message")), "stored"),
            "200": json_of(obj(["message"], message=ref("Message")), "already stored with this client_msg_id")},
            send_body([], content="content", client_msg_id="client_msg_id", attachment="attachment",
                      mentions="mentions"), params=[GID]),
        "get": op("A page of a group as the caller received it, ascending, with the members' read markers", {
            "200": json_of(obj(["messages", "has_more", "read_marks"], messages={
                "type": "array", "items": ref("Message")}, has_more={"type": "boolean"}, read_marks={
                "type": "object", "additionalProperties": INT, "description": (
                    "{\"<uid>\": read_mid}: how far each member has read. For a current member, the current "
                    "members. For a former member, the members they left behind (themself included), each "
                    "only as far as the message that removed them: their own messages keep the marks they had, "
                    "and nothing of what came after shows (not later members, not reads past it).")}))},
            params=[GID, *PAGE_PARAMS], description=PAGE_RULE)},
    "/api/groups/{gid}/read": {"post": op("Mark a group read", {"200": json_of(obj(
        ["unread", "total_unread", "read_mid"], unread=INT, total_unread=INT, read_mid=INT))},
        body([], up_to="mid"), params=[GID])},
}
USER = obj(["user"], user=ref("User"))
PATHS = {
    "/api/register": {"post": op("Create an account", {"201": json_of(USER, "created"), **TAKEN}, body(
        ["username", "password"], username="username", password="password", nickname="nickname"), auth=False)},
    "/api/login": {"post": op("Log in", {"200": json_of(obj(["token", "user"], token=STR, user=ref("User")))},
                               body(["username", "password"], username="login_username",
                                     password="login_password"), auth=False)},
    "/api/logout": {"post": op("End this session", {"204": {"description": "logged out"}})},
    "/api/me": {"get": op("The caller", {"200": json_of(USER)})},
    "/api/users": {"get": op("Everyone but the caller: the first limit by uid, or those a search finds", {
        "200": json_of(obj(["users", "total"], users={"type": "array", "items": ref("User")}, total={
            **INT, "description": "how many users there are but the caller, whatever limit and q"}))},
        params=[param("q", schema="member_query"), param("limit", schema="user_limit")])},
    "/api/contacts": {"get": op("Recent contacts, 1:1 conversations and groups in one list, newest first", {
        "200": json_of(obj(["total_unread", "contacts"], total_unread=INT, contacts={"type": "array", "items": {
            "oneOf": [obj(["user", "last_message", "unread"], user=ref("User"), last_message=ref("Message"),
                           unread=INT, peer_read_mid=INT, peer_delivered_mid=INT, muted={"type": "boolean"},
                           read_mid={**INT, "description": "how far the caller has read"}),
                      obj(["group", "last_message", "unread", "member"], group=ref("Group"),
                           last_message=ref("Message"), unread=INT, member={"type": "boolean"},
                           muted={"type": "boolean"}, read_mid={**INT, "description": "how far the caller has read"},
                           mentioned={"type": "boolean", "description": (
                               "someone mentioned the caller (or everyone) in a message past read_mid")})]}},
            seq=INT, groups_seq={"type": "object", "additionalProperties": INT, "description": (
                "{gid: newest gseq} of each large group: where a client starts following it (sync's groups)")}))})},
    "/api/unread": {"get": op("Unread counts", {"200": json_of(obj(
        ["total", "conversations", "groups"], total=INT,
        conversations={"type": "object", "additionalProperties": INT},
        groups={"type": "object", "additionalProperties": INT}))})},
    "/api/messages": {"post": op("Send a message", {
        "201": json_of(obj(["message"], message=ref("Message")), "stored"),
        "200": json_of(obj(["message"], message=ref("Message")), "already stored with this client_msg_id")},
        send_body(["to"], to="to", content="content", client_msg_id="client_msg_id", attachment="attachment"))},
    "/api/conversations/{cid}/messages": {
        "get": op("A page of a conversation, ascending: a 1:1 chat (with the other user's read and delivered "
                   "marks) or a group (with its members' read marks)", {"200": json_of(
            obj(["messages", "has_more"], messages={"type": "array", "items": ref("Message")},
                 has_more={"type": "boolean"}, peer_read_mid=INT, peer_delivered_mid=INT,
                 read_marks={"type": "object", "additionalProperties": INT}))},
            params=[CID, *PAGE_PARAMS], description=PAGE_RULE),
        "post": op("Send a message to a conversation (a 1:1 chat or a group)", {
            "201": json_of(obj(["message"], message=ref("Message")), "stored"),
            "200": json_of(obj(["message"], message=ref("Message")), "already stored with this client_msg_id")},
            send_body([], content="content", client_msg_id="client_msg_id", attachment="attachment",
                      mentions="mentions"),
            params=[CID])},
    "/api/conversations/{cid}/messages/{mid}/recall": {"post": op(
        "Recall a message (撤回): its content is erased on the server; every member's stream gets a recalled event",
        {"200": json_of(obj(["message"], message=ref("Message")), "recalled (or already, by this client_msg_id)"),
         **CHANGE_ERRORS}, body([], client_msg_id="client_msg_id"), params=[CID, MID], description=RECALL_RULE)},
    "/api/conversations/{cid}/messages/{mid}": {"patch": op(
        "Edit a message: every member's stream gets an edited event with the new text",
        {"200": json_of(obj(["message"], message=ref("Message")), "edited (or already, by this client_msg_id)"),
         **CHANGE_ERRORS}, body(["content"], content="content", client_msg_id="client_msg_id"), params=[CID, MID],
        description=EDIT_RULE)},
    "/api/conversations/{cid}/typing": {"post": op(
        "Say the caller is typing: relayed live to the other members' WebSocket connections, never stored, not in "
        "a group of more than 100 members; at most once every 2 s per conversation (429 typing_too_often)",
        {"204": {"description": "relayed"}}, params=[CID])},
    "/api/conversations/{cid}/read": {"post": op("Mark a conversation read", {"200": json_of(obj(
        ["unread", "total_unread"], unread=INT, total_unread=INT, read_mid=INT))}, body([], up_to="mid"),
        params=[CID])},
    "/api/conversations/{cid}/settings": {"put": op(
        "Set the caller's settings of a conversation: muted (no notifications, not in the title's count)",
        {"200": json_of(obj(["conversation", "muted"], conversation=STR, muted={"type": "boolean"}))},
        body(["muted"], muted="muted"), params=[CID])},
    "/api/sync": {"get": op("Events after a seq; waits up to timeout seconds", {"200": json_of(obj(
        ["events", "next", "hints_next"], events={"type": "array", "items": ref("Event")}, next=INT,
        hints_next=STR, has_more={"type": "boolean"}, groups_next={
            "type": "object", "additionalProperties": INT, "description": "{gid: gseq}: what to ask from next"}))},
        params=[param("since", schema="seq"), param("timeout", schema="timeout"),
                param("limit", schema="sync_limit"), param("hints_since", schema="hints_since"),
                param("groups", schema="group_cursors")])},
    "/api/search": {"get": op(
        "Search the messages the caller may see, newest first", {"200": json_of(obj(
            ["terms", "results", "has_more", "next_before"],
            terms={"type": "array", "items": STR, "description": "the terms q was cut into (none: nothing matches)"},
            results={"type": "array", "items": obj(
                ["conversation", "message", "snippet"], conversation={**STR, "description": "its cid, as the "
                                                                      "caller names it (u<uid> or g<gid>)"},
                message=ref("Message"), snippet={"type": "array", "items": obj(
                    ["text", "match"], text=STR, match={"type": "boolean"}), "description": (
                    "up to 80 characters around the first match, in parts; the matched ones have match: true")})},
            has_more={"type": "boolean"},
            next_before={"type": ["integer", "null"], "description": "before= for the next, older page"}))},
        params=[param("q", schema="search_query", required=True, description=(
                    "text: a word matches whole words, Chinese (or Japanese, Korean) any substring; every term "
                    "must be in a message; nothing in it is query syntax")),
                param("conversation", schema="cid", description=(
                    "only this conversation; one the caller cannot see is 404, as its history is")),
                param("before", description="only messages older than this mid (a next_before)"),
                param("limit", schema="search_limit")],
        description="Text messages only, as far as the caller may see them: a group from when they joined, "
                    "what a former member had, their own 1:1 chats.")},
    "/api/config": {"get": op("What a client needs to connect", {"200": json_of(obj(
        ["ws_url", "heartbeat", "ack_timeout", "ack_retries", "poll_interval", "recall_window", "demo_accounts",
         "inspector", "max_upload_mb", "typing_most_members"],
        ws_url=STR, heartbeat={"type": "number"}, ack_timeout={"type": "number"}, ack_retries=INT,
        poll_interval={"type": "number"}, recall_window={"type": "number", "description": (
            "seconds after sending during which its sender may recall a message")},
        demo_accounts={"type": "boolean"}, inspector={"type": "boolean"},
        max_upload_mb=INT, typing_most_members={**INT, "description": (
            "in a group of more members, typing is relayed to nobody: a client need not send it")}))},
        auth=False)},
    "/healthz": {"get": op("Liveness", {"200": json_of(obj(["status"], status=STR))}, auth=False)},
    "/api/inspect/actions": {"get": op("The inspector: actions after an id, each with its SQL and Redis steps "
                                        "(only when the inspector is on)", {"200": json_of(obj(
        ["actions", "next"], actions={"type": "array", "items": {"type": "object"}}, next=INT))},
        params=[param("after")], auth=False)},
    "/api/inspect/connections": {"get": op("The inspector: each open WebSocket connection with its pending ACKs "
                                            "(seq, age, times sent; only when the inspector is on)", {"200": json_of(
        obj(["connections"], connections={"type": "array", "items": {"type": "object"}}))}, auth=False)},
    "/api/inspect/traces": {"get": op("The inspector: the messages traced lately (sent while an inspector watched), "
                                      "newest first, each with its steps in every process: which process, when, "
                                      "what (only when the inspector is on)", {"200": json_of(obj(
        ["traces"], traces={"type": "array", "items": {"type": "object"}}))}, auth=False)},
    "/api/inspect/state": {"get": op("The inspector: two users' rows and unread keys, with differences "
                                      "between Redis and the database (only when the inspector is on)",
                                      {"200": json_of({"type": "object"})},
                                      params=[param("a", schema="uid", required=True),
                                              param("b", schema="uid", required=True)], auth=False)},
    "/api/inspect/group": {"get": op("The inspector: a group's rows and each member's unread field beside the "
                                      "database's count and the changes waiting for the merge window, with the uids "
                                      "whose counts differ by more than what waits (only when the inspector is on)",
                                      {"200": json_of({"type": "object"})},
                                      params=[param("gid", schema="gid", required=True)], auth=False)},
    "/api/inspect/uploads": {"get": op("The inspector: the recent uploads, each with its row, the chunk rows of its "
                                       "bytes (position and length), the file it became and the messages carrying "
                                       "it (only when the inspector is on)", {"200": json_of(obj(
        ["uploads"], uploads={"type": "array", "items": {"type": "object"}}))}, auth=False)},
    "/api/openapi.json": {"get": op("This document", {"200": json_of({"type": "object"})}, auth=False)},
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
    "paths": {**PATHS, **GROUP_PATHS, **media.PATHS},
    "components": {"schemas": SCHEMAS, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
}


# {(Bottle's rule, method): the properties its JSON body may have}: the server refuses any other (json_body)
BODIES = {(re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper()):
          frozenset(op["requestBody"]["content"]["application/json"]["schema"]["properties"])
          for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()
          if "application/json" in op.get("requestBody", {}).get("content", {})}


def body_properties(rule: str, method: str) -> frozenset[str]:
    """The properties the document gives a route's JSON body (none for a route it gives no body)."""
    return BODIES.get((rule, method), frozenset())


def add_openapi_route(app: bottle.Bottle) -> None:
    @app.get("/api/openapi.json", auth=False)
    def openapi():
        return DOCUMENT
