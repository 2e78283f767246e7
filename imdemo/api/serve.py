"""API layer: serve an app's HTTP side on cheroot (multi-threaded) and its WebSocket side beside it."""
from __future__ import annotations

import io
import json
import os
import re
import threading

from cheroot import server, wsgi

from .errors import error_body
from .requests import MAX_BODY
from .ws_server import WebSocketGateway


class HttpServer:
    """Cheroot serving one WSGI app in a background thread; every held long poll holds one thread."""

    def __init__(self, app, host: str, port: int, threads: int = 300):
        self.server = wsgi.Server((host, port), _dechunked(app), numthreads=threads, request_queue_size=1024,
                                  server_name="imdemo")
        self.server.ConnectionClass = _Connection
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


LEFTOVER = 64 * 1024  # bytes of an unread request body still worth reading to keep a connection
UPLOADS = "/api/uploads/"  # tus PATCH bodies are streamed by the route itself, whatever their framing
_ERROR_HEADERS = (("Content-Type", "application/json; charset=utf-8"), ("X-Content-Type-Options", "nosniff"),
                  ("Cache-Control", "no-store"))


class _FramedRequest(server.HTTPRequest):
    """Cheroot's request, strict about where a body ends (RFC 9112 section 6.1).

    A request with both Content-Length and Transfer-Encoding (or Transfer-Encoding on HTTP/1.0) is refused
    with 400 and its connection closed: a proxy in front could read the body by the other header, and
    what one of them takes for body the other would take for a second request (request smuggling).
    After a chunked body the connection is closed too: cheroot reads neither trailers nor a body the app
    left unread, so nothing after it may be parsed as a request.
    """

    def read_request_headers(self):
        if not super().read_request_headers():
            return False
        headers = self.inheaders
        if b"Transfer-Encoding" in headers and (b"Content-Length" in headers or self.response_protocol != "HTTP/1.1"):
            self._refuse("ambiguous_framing", "send either Content-Length or Transfer-Encoding: chunked, not both")
            return False
        if self.chunked_read:
            self.close_connection = True
        return True

    def send_headers(self):
        """Close the connection rather than read a large body the app left unread (a refused upload chunk):
        cheroot would read all of it at once, into memory, to keep the connection alive."""
        if getattr(self.rfile, "remaining", 0) > LEFTOVER:
            self.close_connection = True
        return super().send_headers()

    def _refuse(self, code: str, message: str) -> None:
        """Answer 400 in the JSON error shape and close: the framing of what follows is unknown."""
        self.close_connection = True
        body = json.dumps(error_body(code, message)).encode()
        head = [f"{self.server.protocol} 400 Bad Request", *(f"{k}: {v}" for k, v in _ERROR_HEADERS),
                f"Content-Length: {len(body)}", "Connection: close", "", ""]
        self.conn.wfile.write("\r\n".join(head).encode("ascii") + body)


class _Connection(server.HTTPConnection):
    RequestHandlerClass = _FramedRequest


def _dechunked(app):
    """Cheroot hands the app a chunked body already decoded, with no length. Bottle would decode it a
    second time (and refuse it), so read it here, at most one byte past the limit (that answers 413),
    and hand it on with its length. A malformed chunk is bad input: 400, and the app never runs. An upload's
    chunk (tus PATCH) is the exception: its route streams it to the database, up to the upload's length."""
    def wsgi_app(environ, start_response):
        if environ.get("HTTP_TRANSFER_ENCODING") is not None and environ.get("PATH_INFO", "").startswith(UPLOADS):
            del environ["HTTP_TRANSFER_ENCODING"]  # decoded by cheroot as it is read: no length, read to its end
            return app(environ, start_response)
        if environ.pop("HTTP_TRANSFER_ENCODING", None) is not None:
            try:
                body = environ["wsgi.input"].read(MAX_BODY + 1)
            except ValueError:  # from cheroot: a chunk size that is not hex, or a chunk without its CRLF
                return _bad_request(start_response, "malformed_chunked_body", "the chunked body is malformed")
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return app(environ, start_response)
    return wsgi_app


def _bad_request(start_response, code: str, message: str) -> list[bytes]:
    body = json.dumps(error_body(code, message)).encode()
    start_response("400 Bad Request", [*_ERROR_HEADERS, ("Content-Length", str(len(body)))])
    return [body]


class CannotListen(OSError):
    """A side of the app could not listen on its port (often: another process has it)."""

    def __init__(self, side: str, setting: str, host: str, port: int, cause: OSError):
        # cheroot and asyncio wrap the system's error in sentences of their own: say the system's words
        found = re.search(r"\[Errno (\d+)\]", str(cause))
        number = cause.errno or (int(found[1]) if found else 0)
        reason = f"[Errno {number}] {os.strerror(number)}" if number else str(cause)
        super().__init__(f"cannot listen for {side} on {host}:{port}: {reason}")
        self.side, self.setting, self.port = side, setting, port  # setting: the Config field that picks the port


class Servers:
    """Both listening sides of one app: HTTP on config.port, WebSocket on config.websocket_port."""

    def __init__(self, app):
        self.app = app
        c = app.config
        try:
            self.http = HttpServer(app.wsgi, c.host, c.port, c.threads)
        except OSError as e:
            raise CannotListen("HTTP", "port", c.host, c.port, e) from e
        try:
            self.ws = WebSocketGateway(app.services, c).start(c.host, c.websocket_port)
        except OSError as e:
            self.http.server.stop()
            raise CannotListen("the WebSocket", "ws_port", c.host, c.websocket_port, e) from e
        self.http.start()

    def stop(self) -> None:
        self.app.services.sync.shut_down()  # held long polls answer now instead of at their timeout
        self.ws.stop()
        self.http.stop()
