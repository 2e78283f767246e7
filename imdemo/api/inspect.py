"""API layer: the inspector's page and its read-only endpoints, registered only when it is on."""
from __future__ import annotations

import os

import bottle

from ..services.errors import NotFound
from ..services.inspect import Inspector
from .requests import query


def add_inspect_routes(app: bottle.Bottle, inspector: Inspector, web_root: str, host: str) -> None:
    """Serve /inspect and /api/inspect/*; no token: it is a local teaching tool, off unless on loopback.

    A request must name this server's own host: a hostile page whose name was rebound to 127.0.0.1
    (DNS rebinding) arrives with its own name in Host and finds nothing here.
    """
    root = os.path.abspath(web_root)
    hosts = {"127.0.0.1", "localhost", "::1", host}

    def ours() -> None:
        if bottle.request.urlparts.hostname not in hosts:
            raise NotFound("no such route", "not_found")

    @app.get("/inspect", auth=False, trace=False)
    def page():
        ours()
        return bottle.static_file("inspect.html", root=root)

    @app.get("/api/inspect/actions", auth=False, trace=False)
    def actions():
        ours()
        return inspector.actions_after(query("after", 0))

    @app.get("/api/inspect/connections", auth=False, trace=False)
    def connections():
        ours()
        return inspector.connections()

    @app.get("/api/inspect/traces", auth=False, trace=False)
    def traces():
        ours()
        return inspector.message_traces()

    @app.get("/api/inspect/state", auth=False, trace=False)
    def state():
        ours()
        return inspector.pair(query("a"), query("b"))

    @app.get("/api/inspect/uploads", auth=False, trace=False)
    def uploads():
        ours()
        return inspector.uploads()

    @app.get("/api/inspect/group", auth=False, trace=False)
    def group():
        ours()
        return inspector.group(query("gid"))
