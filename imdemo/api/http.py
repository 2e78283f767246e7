"""API layer: build the Bottle application: routes, the API plugin, JSON errors, pages and headers."""
from __future__ import annotations

import os

import bottle

from ..config import Config
from ..metrics import Metrics
from ..services import Services
from ..services.typing import MOST_MEMBERS as TYPING_MOST_MEMBERS
from .conversation_routes import add_conversation_routes
from .errors import from_http_error
from .file_routes import add_file_routes
from .group_routes import add_group_routes
from .inspect import add_inspect_routes
from .openapi import add_openapi_route
from .plugin import ApiPlugin
from .routes import add_account_routes, add_sync_routes
from .search_routes import add_search_routes
from .signal_routes import add_signal_routes
from .upload_routes import add_upload_routes

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
               "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def build_http_app(services: Services, config: Config, health: dict) -> bottle.Bottle:
    """Return the WSGI application of the HTTP API and the pages."""
    app = bottle.Bottle(catchall=True)
    app.install(ApiPlugin(services.auth, services.inspector))
    app.default_error_handler = from_http_error
    add_account_routes(app, services, config.trust_proxy)
    add_conversation_routes(app, services)
    add_signal_routes(app, services)
    add_sync_routes(app, services)
    add_group_routes(app, services)
    add_search_routes(app, services)
    add_upload_routes(app, services, config.max_upload_mb * 1024 * 1024)
    add_file_routes(app, services)
    add_meta_routes(app, config, health, services.auth.demo_password_works())  # checked once, at start
    add_openapi_route(app)
    if services.watch.metrics.enabled:
        add_metrics_route(app, services.watch.metrics)
    add_page_routes(app, config.web_root)
    if services.inspector is not None:
        add_inspect_routes(app, services.inspector, config.web_root, config.host)
    app.add_hook("after_request", _security_headers)
    return app


def add_meta_routes(app: bottle.Bottle, config: Config, health: dict, demo_accounts: bool) -> None:
    @app.get("/api/config", auth=False)
    def client_config():
        return {"ws_url": _ws_url(config), "heartbeat": config.heartbeat, "ack_timeout": config.ack_timeout,
                "ack_retries": config.ack_retries, "poll_interval": config.poll_interval,
                "recall_window": config.recall_window, "demo_accounts": demo_accounts,
                "inspector": config.inspector_enabled, "max_upload_mb": config.max_upload_mb,
                "typing_most_members": TYPING_MOST_MEMBERS}

    @app.get("/healthz", auth=False)
    def healthz():
        return {"status": "ok", **health}


def add_metrics_route(app: bottle.Bottle, metrics: Metrics) -> None:
    """GET /metrics: this process's metrics for Prometheus (deploy/ keeps it off the public side)."""

    @app.get("/metrics", auth=False, trace=False)
    def metrics_text():
        body, content_type = metrics.exposition()
        return bottle.HTTPResponse(body, 200, {"Content-Type": content_type})


def _ws_url(config: Config) -> str:
    """Where pages open the WebSocket: the configured public URL (a bare path is taken on the host the
    page came from, as behind a proxy), or else the WebSocket port on that host."""
    scheme, netloc = bottle.request.urlparts.scheme, bottle.request.urlparts.netloc
    ws_scheme = "wss" if scheme == "https" else "ws"
    if config.public_ws_url.startswith("/"):
        return f"{ws_scheme}://{netloc}{config.public_ws_url}"
    if config.public_ws_url:
        return config.public_ws_url
    host = bottle.request.urlparts.hostname or config.host
    return f"{ws_scheme}://{f'[{host}]' if ':' in host else host}:{config.websocket_port}/"


def add_page_routes(app: bottle.Bottle, web_root: str) -> None:
    root = os.path.abspath(web_root)

    @app.get("/", auth=False, trace=False)
    def index():
        return bottle.static_file("index.html", root=root)

    @app.get("/static/<path:path>", auth=False, trace=False)
    def static(path):
        return bottle.static_file(path, root=root)


def _security_headers() -> None:
    headers = bottle.response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if not bottle.request.path.startswith("/api/"):
        headers["Content-Security-Policy"] = PAGE_POLICY
        headers["X-Frame-Options"] = "DENY"
        headers["Cache-Control"] = "no-cache"  # revalidate: an updated page is never served stale
    elif "Cache-Control" not in headers:  # a file's bytes say how long they may be kept (file_routes.py)
        headers["Cache-Control"] = "no-store"
