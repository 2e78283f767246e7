"""API layer: the HTTP routes of a conversation (SPEC section 14): send to it, read a page of it, mark it read,
whatever its kind, named by its cid (`u1001`, `g7`). The older routes, which name a user (`to`, a path's uid)
or a group (`/api/groups/<gid>/...`), are thin aliases of the same calls. Each parses its input and calls
one service."""
from __future__ import annotations

import bottle

from ..services import Services
from ..services import conversations as named
from .requests import json_body, query


def add_conversation_routes(app: bottle.Bottle, s: Services) -> None:
    """Send, history, mark-read and settings by cid, and the aliases."""

    def send(me, conversation):
        body = json_body()
        message, created = s.messages.send(me, conversation, body.get("content"), body.get("client_msg_id"),
                                           body.get("attachment"), body.get("mentions"))
        return {"message": message}, 201 if created else 200

    def history(me, conversation):
        return s.messages.history(me, conversation, query("before"), query("after"), query("limit", 30))

    def mark_read(me, conversation):
        return s.messages.mark_read(me, conversation, json_body().get("up_to"))

    @app.post("/api/conversations/<cid>/messages")
    def send_to_conversation(me, cid):
        return send(me, named.named(cid))

    @app.get("/api/conversations/<cid>/messages")
    def conversation_history(me, cid):
        return history(me, named.named(cid))

    @app.post("/api/conversations/<cid>/read")
    def conversation_read(me, cid):
        return mark_read(me, named.named(cid))

    @app.put("/api/conversations/<cid>/settings")
    def conversation_settings(me, cid):
        return s.contacts.set_muted(me, named.named(cid), json_body().get("muted"))

    @app.post("/api/messages")
    def send_to_user(me):
        return send(me, named.direct(json_body().get("to"), "to"))

    @app.post("/api/groups/<gid>/messages")
    def send_to_group(me, gid):
        return send(me, named.group(gid))

    @app.get("/api/groups/<gid>/messages")
    def group_history(me, gid):
        return history(me, named.group(gid))

    @app.post("/api/groups/<gid>/read")
    def group_read(me, gid):
        return mark_read(me, named.group(gid))
