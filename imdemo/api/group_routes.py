"""API layer: the HTTP routes of groups (SPEC section 11): make one, list them, read and change one. (Sending
to a group, its history and marking it read are a conversation's: conversation_routes.py.) Each parses its
input and calls one service."""
from __future__ import annotations

import bottle

from ..services import Services
from .requests import json_body, query


def add_group_routes(app: bottle.Bottle, s: Services) -> None:
    """Make, list, read and change groups."""

    @app.post("/api/groups", status=201)
    def create(me):
        body = json_body()
        return {"group": s.groups.create(me, body.get("name"), body.get("members", []), body.get("large", False))}

    @app.get("/api/groups")
    def mine(me):
        return s.groups.list(me)

    @app.get("/api/groups/<gid>")
    def one(me, gid):
        return s.groups.get(me, gid)

    @app.route("/api/groups/<gid>", method="PATCH")
    def rename(me, gid):
        return s.groups.rename(me, gid, json_body().get("name"))

    @app.get("/api/groups/<gid>/members")
    def members(me, gid):
        return s.groups.members_page(me, gid, query("after"), query("limit", 50), query("q"))

    @app.post("/api/groups/<gid>/members")
    def add(me, gid):
        return s.groups.add(me, gid, json_body().get("uids"))

    @app.delete("/api/groups/<gid>/members/<uid>")
    def remove(me, gid, uid):
        s.groups.remove(me, gid, uid)
