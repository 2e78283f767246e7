"""API layer: GET /api/search (SPEC section 17): parse the query string and call the search service."""
from __future__ import annotations

import bottle

from ..services import Services
from .requests import query


def add_search_routes(app: bottle.Bottle, s: Services) -> None:
    """Search the caller's messages."""

    @app.get("/api/search")
    def search(me):
        return s.search.search(me, query("q"), query("conversation"), query("before"), query("limit", 20))
