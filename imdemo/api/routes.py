"""API layer: the HTTP routes of SPEC section 4. Each parses its input and calls one service."""
from __future__ import annotations

import bottle

from ..services import Services
from .requests import bearer_token, client_address, json_body, query


def add_account_routes(app: bottle.Bottle, s: Services, trust_proxy: bool = False) -> None:
    """Register, log in and out, who am I, everyone."""

    @app.post("/api/register", auth=False, status=201)
    def register():
        body = json_body()
        return {"user": s.auth.register(body.get("username"), body.get("password"), body.get("nickname"),
                                        client_address(trust_proxy))}

    @app.post("/api/login", auth=False)
    def login():
        body = json_body()
        return s.auth.login(body.get("username"), body.get("password"), client_address(trust_proxy))

    @app.post("/api/logout")
    def logout(me):
        s.auth.logout(me, bearer_token())

    @app.get("/api/me")
    def who_am_i(me):
        return {"user": s.auth.me(me)}

    @app.get("/api/users")
    def all_users(me):
        return s.auth.everyone_but(me, query("q"), query("limit"))


def add_sync_routes(app: bottle.Bottle, s: Services) -> None:
    """Recent contacts, unread, sync."""

    @app.get("/api/contacts")
    def contacts(me):
        return s.contacts.contacts(me)

    @app.get("/api/unread")
    def unread(me):
        return s.contacts.unread(me)

    @app.get("/api/sync")
    def sync(me):
        return s.sync.sync(me, query("since", 0), query("timeout", 0), query("limit", 200), query("hints_since"),
                           query("groups"))
