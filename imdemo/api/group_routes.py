"""API layer: the HTTP routes of groups (SPEC section 11). Each parses its input and calls one service."""
from __future__ import annotations

import bottle

from ..services import Services
from .requests import json_body, query


def add_group_routes(app: bottle.Bottle, s: Services) -> None:
    """Make, list, read and change groups; send to, read and mark read a group's messages."""

    @app.post("/api/groups", status=201)
    def create(me):
        body = json_body()
        return {"group": s.groups.create(me, body.get("name"), body.get("members", []))}

    @app.get("/api/groups")
    def mine(me):
        return s.groups.list(me)

    @app.get("/api/groups/<gid>")
    def one(me, gid):
        return s.groups.get(me, gid)

    @app.route("/api/groups/<gid>", method="PATCH")
    def rename(me, gid):
        return s.groups.rename(me, gid, json_body().get("name"))

    @app.post("/api/groups/<gid>/members")
    def add(me, gid):
        return s.groups.add(me, gid, json_body().get("uids"))

    @app.delete("/api/groups/<gid>/members/<uid>")
    def remove(me, gid, uid):
        s.groups.remove(me, gid, uid)

    @app.post("/api/groups/<gid>/messages")
    def send(me, gid):
        body = json_body()
        message, created = s.messages.send_to_group(me, gid, body.get("content"), body.get("client_msg_id"))
        return {"message": message}, 201 if created else 200

    @app.get("/api/groups/<gid>/messages")
    def history(me, gid):
        return s.groups.history(me, gid, query("before"), query("after"), query("limit", 30))

    @app.post("/api/groups/<gid>/read")
    def mark_read(me, gid):
        return s.groups.mark_read(me, gid, json_body().get("up_to"))
