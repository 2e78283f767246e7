"""API layer: the inspector's page and its two read-only endpoints, registered only when it is on."""
from __future__ import annotations

import os

import bottle

from ..services.inspect import Inspector
from .requests import query


def add_inspect_routes(app: bottle.Bottle, inspector: Inspector, web_root: str) -> None:
    """Serve /inspect and /api/inspect/*; no token: it is a local teaching tool, off unless on loopback."""
    root = os.path.abspath(web_root)

    @app.get("/inspect", auth=False, trace=False)
    def page():
        return bottle.static_file("inspect.html", root=root)

    @app.get("/api/inspect/actions", auth=False, trace=False)
    def actions():
        return inspector.actions_after(query("after", 0))

    @app.get("/api/inspect/state", auth=False, trace=False)
    def state():
        return inspector.pair(query("a"), query("b"))
