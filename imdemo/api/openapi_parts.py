"""API layer: the parts the OpenAPI document (openapi.py) is made of: the constraints the services enforce
on each input field, stated once (FIELDS), the schemas of what the API answers, and the small builders of an
operation, a parameter and a body."""
from __future__ import annotations

from ..config import Config
from ..services import checks, search
from . import openapi_media as media


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_of(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def obj(required: list[str], **properties) -> dict:
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
    "group_cursors": {"type": "string", "maxLength": 4096,
                      "pattern": "^[1-9][0-9]{0,18}:[0-9]{1,19}(,[1-9][0-9]{0,18}:[0-9]{1,19})*$",
                      "description": "gid:gseq,...: the gseq the client holds of each large group (groups_next); a "
                                     "group it has left is followed up to the message that removed it, a group "
                                     "it was never in is ignored, a gseq past the newest taken as the newest"},
    "gid": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "muted": {"type": "boolean"},
    "large": {"type": "boolean", "default": False},
    "target_mid": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "mentions": {"oneOf": [{"const": "all"}, {"type": "array", "maxItems": 100, "items": {
        "type": "integer", "minimum": 1, "maximum": MAX_ID}}], "description": (
        "a group message's mentions: members' uids (anyone else: 400 mention_not_member), or \"all\" (the "
        "group's owner only: 403 not_owner); a 1:1 chat takes none (400 mentions_in_group_only)")},
    "attachment": {**media.FID, "description": "a file the caller may read (theirs, or one in a message they see): "
                                               "the message is an image or a file, content its optional caption"},
    "search_query": {"type": "string", "minLength": 1, "maxLength": search.MAX_QUERY, "pattern": VISIBLE,
                     "description": f"1 to {search.MAX_QUERY} characters after trimming"},
    "search_limit": {"type": "integer", "minimum": 1, "maximum": search.MAX_LIMIT, "default": 20},
    "member_limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    "member_after": {"type": "string", "pattern": "^[0-9]{1,18}\\.[0-9]{1,18}$", "description": "a page's next"},
    "member_query": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": VISIBLE,
                     "description": "only those whose username or nickname holds it (any case); 1 to 64 characters "
                                    "after trimming"},
    "user_limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "default 1000, with q 50"},
    "cid": {"type": "string", "pattern": "^[ug][1-9][0-9]{0,17}$"},
    "group_name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": VISIBLE,
                   "description": "1 to 64 characters after trimming"},
    "uids": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
             "maxItems": DEFAULT_MAX_MEMBERS,
             "description": "users (repeats and present members are ignored); a group has at most "
                            f"--max-group-members (default {DEFAULT_MAX_MEMBERS}) members: 400 group_too_large "
                            "beyond"},
}
CID = {"name": "cid", "in": "path", "required": True, "description": (
    "the conversation: u<uid> (the 1:1 chat with that user), g<gid> (a group), or a bare uid (as before cids)"),
    "schema": {"oneOf": [{"type": "string", "pattern": "^[ug][1-9][0-9]{0,17}$"}, FIELDS["uid"]]}}
ERROR = {"description": "error", "content": {"application/json": {"schema": ref("Error")}}}
ERRORS = {code: ERROR for code in ("400", "401", "403", "404", "413", "429", "503")}


def op(summary: str, responses: dict, body: dict | None = None, params: list | None = None,
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


def param(name: str, where: str = "query", schema: str = "mid", required: bool = False,
           description: str = "") -> dict:
    param = {"name": name, "in": where, "required": required or where == "path", "schema": FIELDS[schema]}
    return {**param, "description": description} if description else param


def body(required: list[str], **fields: str) -> dict:
    """A request body: a JSON object of FIELDS; properties it does not name are not part of the API."""
    return {**obj(required, **{name: FIELDS[field] for name, field in fields.items()}),
            "additionalProperties": False}


def send_body(required: list[str], **fields: str) -> dict:
    """A message to send: its content, or an attachment with an optional caption in content."""
    return {**body(required, **fields), "anyOf": [{"required": ["content"]}, {"required": ["attachment"]}]}


# A history page takes before or after, never both. OpenAPI 3.1 cannot relate two query parameters in a
# schema (short of one exploded object parameter, which clients and generators handle poorly), so the
# operation and both parameters say it in words; tests/test_openapi.py checks the server refuses the pair.
PAGE_RULE = "Give `before` or `after`, not both: 400 bad_cursor."
PAGE_PARAMS = [
    param("before", description="the page of messages just before this mid; not with after (400 bad_cursor)"),
    param("after", description="the page of messages just after this mid; not with before (400 bad_cursor)"),
    param("limit", schema="history_limit"),
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
    "Error": obj(["error"], error=obj(["code", "message"], code=STR, message=STR)),
    "User": obj(["uid", "username", "nickname", "avatar"], uid=INT, username=STR, nickname=STR, avatar=STR),
    "Message": obj(["mid", "from", "content", "created_at", "kind"], mid=INT, **{"from": INT},
                    to={**INT, "description": "a 1:1 message's recipient"},
                    group={**INT, "description": "a group message's group"},
                    gseq={**INT, "description": "a group message's place in the group's one order"},
                    kind={"enum": ["text", "system", "image", "file", "recall", "edit"]}, content=STR,
                    attachment={**ref("Attachment"), "description": "an image or file message's file"},
                    created_at={"type": "string", "format": "date-time"}, client_msg_id={"type": ["string", "null"]},
                    mentions={"oneOf": [{"const": "all"}, {"type": "array", "items": INT}],
                              "description": "whom a group message mentions"},
                    recalled_by={**INT, "description": "who recalled it (撤回): its content is gone"},
                    edited_at={"type": "string", "format": "date-time", "description": "when it was last edited"},
                    target={"type": "object", "description": "a recall's or an edit's message (signals appear as "
                                                             "events, never in history)"},
                    event={**obj(["type", "by", "uids"], type={"enum": ["created", "renamed", "added", "removed",
                                                                         "left", "owner", "large"]},
                                  by=INT, uids={"type": "array", "items": INT}, name=STR),
                           "description": "a system message's membership change"}),
    "Event": {"type": "object", "required": ["type"], "properties": {
        "type": {"enum": ["message", "recalled", "edited", "read", "delivered", "unread", "settings", "typing",
                          "gap"]},
        "seq": INT, "group": INT, "gseq": INT, "message": ref("Message"),
        "conversation": {**STR, "description": "a cid, as the caller names it"},
        "mid": {**INT, "description": "recalled: the message recalled"}, "by": {**INT, "description": (
            "recalled: who recalled it; typing: who types")}},
        "description": ("message, recalled and edited events have a seq (durable, replayed on resume), or in a large "
                        "group a group and a gseq; the others are live hints; typing reaches WebSocket connections "
                        "only")},
    "Group": obj(["gid", "name", "owner", "member_count", "created_at", "storage"], gid=INT, name=STR, owner=INT,
                  member_count=INT, created_at={"type": "string", "format": "date-time"},
                  storage={"enum": ["write", "read"], "description": (
                      "how its messages are stored: write diffusion (a row in each member's timeline) or read "
                      "diffusion (one row in the group's own timeline: a large group, SPEC 15)")}),
    **media.SCHEMAS,
}
