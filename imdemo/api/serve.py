"""API layer: serve an app's HTTP side on cheroot (multi-threaded) and its WebSocket side beside it."""
from __future__ import annotations

import io
import threading

from cheroot import wsgi

from .requests import MAX_BODY
from .ws_server import WebSocketGateway


class HttpServer:
    """Cheroot serving one WSGI app in a background thread; every held long poll holds one thread."""

    def __init__(self, app, host: str, port: int, threads: int = 300):
        self.server = wsgi.Server((host, port), _dechunked(app), numthreads=threads, request_queue_size=1024,
                                  server_name="imdemo")
        self.server.prepare()  # binds now, so a busy port fails here with a clear error
        self.thread = threading.Thread(target=self.server.serve, name="imdemo-http", daemon=True)

    @property
    def port(self) -> int:
        return self.server.bind_addr[1]

    def start(self) -> HttpServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.thread.join(timeout=10)


def _dechunked(app):
    """Cheroot hands the app a chunked body already decoded, with no length. Bottle would decode it a
    second time (and refuse it), so read it here, at most one byte past the limit (that answers 413),
    and hand it on with its length."""
    def wsgi_app(environ, start_response):
        if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(MAX_BODY + 1)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return app(environ, start_response)
    return wsgi_app


class Servers:
    """Both listening sides of one app: HTTP on config.port, WebSocket on config.websocket_port."""

    def __init__(self, app):
        self.app = app
        c = app.config
        self.http = HttpServer(app.wsgi, c.host, c.port, c.threads)
        try:
            self.ws = WebSocketGateway(app.services, c).start(c.host, c.websocket_port)
        except OSError:
            self.http.server.stop()
            raise
        self.http.start()

    def stop(self) -> None:
        self.app.services.sync.shut_down()  # held long polls answer now instead of at their timeout
        self.ws.stop()
        self.http.stop()
