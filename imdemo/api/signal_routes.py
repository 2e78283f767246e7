"""API layer: the HTTP routes of signals (SPEC section 17): recall a message, edit one, say one is typing, in a
conversation named by its cid (`u1001`, `g7`, or a bare uid). Each parses its input and calls one service."""
from __future__ import annotations

import bottle

from ..services import Services
from ..services import conversations as named
from .requests import json_body


def add_signal_routes(app: bottle.Bottle, s: Services) -> None:
    """Recall, edit and typing by cid."""

    @app.post("/api/conversations/<cid>/messages/<mid>/recall")
    def recall(me, cid, mid):
        return s.signals.recall(me, named.named(cid), mid, json_body().get("client_msg_id"))

    @app.patch("/api/conversations/<cid>/messages/<mid>")
    def edit(me, cid, mid):
        body = json_body()
        return s.signals.edit(me, named.named(cid), mid, body.get("content"), body.get("client_msg_id"))

    @app.post("/api/conversations/<cid>/typing")
    def typing(me, cid):
        json_body()  # an empty object, or nothing: it refuses anything else
        s.typing.typing(me, named.named(cid))
