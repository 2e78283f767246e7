"""API layer: uploads by tus 1.0 (core, creation and termination) under /api/uploads/, so any tus client
works (tuspy, tus-js-client, curl): OPTIONS says what the server supports; POST creates an upload from
Upload-Length and Upload-Metadata (filename, filetype, sha256: base64 values); HEAD answers its Upload-Offset;
PATCH appends the raw bytes of its body (application/offset+octet-stream) at Upload-Offset, streamed to the
database a chunk at a time; DELETE cancels it. GET answers JSON: how far it is and the file it became. Errors
keep the API's JSON shape, with the tus headers (a wrong offset: 409 with the server's Upload-Offset)."""
from __future__ import annotations

import base64
import binascii

import bottle

from ..services import Services
from ..services.errors import BadInput, ImdemoError
from ..services.uploads import OffsetMismatch
from .errors import error_body, from_service_error, json_response

VERSION = "1.0.0"
EXTENSIONS = "creation,termination"
OCTETS = "application/offset+octet-stream"
DRAIN_PIECE = 64 * 1024
DRAIN_SLACK = 1024 * 1024  # a refused chunk up to the largest upload and this much more is read and dropped


def add_upload_routes(app: bottle.Bottle, s: Services, max_bytes: int) -> None:
    """The tus endpoint and each upload's URL."""

    @app.route("/api/uploads/", method="OPTIONS", auth=False)
    def discover():
        return bottle.HTTPResponse(status=204, headers={"Tus-Resumable": VERSION, "Tus-Version": VERSION,
                                                         "Tus-Extension": EXTENSIONS, "Tus-Max-Size": str(max_bytes)})

    @app.post("/api/uploads/")
    def create(me):
        def call():
            upload = s.uploads.create(me, _header("Upload-Length"), metadata(_header("Upload-Metadata") or ""))
            return bottle.HTTPResponse(status=201, headers={"Location": f"/api/uploads/{upload.upload_id}",
                                                             "Upload-Offset": "0"})
        return _tus(call)

    @app.route("/api/uploads/<upload_id>", method="HEAD")
    def offset(me, upload_id):
        def call():
            upload = s.uploads.get(me, upload_id)
            return bottle.HTTPResponse(status=200, headers={"Upload-Offset": str(upload.offset),
                                                             "Upload-Length": str(upload.length)})
        return _tus(call)

    @app.route("/api/uploads/<upload_id>", method="PATCH")
    def append(me, upload_id):
        declared = bottle.request.environ.get("CONTENT_LENGTH")
        declared = int(declared) if declared not in (None, "") else None
        body = _body(declared)

        def call():
            if bottle.request.content_type.split(";")[0].strip() != OCTETS:
                return _refuse(415, "unsupported_media_type", f"a PATCH carries {OCTETS}")
            upload = s.uploads.append(me, upload_id, _header("Upload-Offset"), body, declared)
            return bottle.HTTPResponse(status=204, headers={"Upload-Offset": str(upload.offset)})
        response = _tus(call)
        if response.status_code >= 400 and declared is not None and declared <= max_bytes + DRAIN_SLACK:
            _drain(body)  # the client is still sending it: read it so the answer reaches the client
        return response

    @app.delete("/api/uploads/<upload_id>")
    def cancel(me, upload_id):
        def call():
            s.uploads.cancel(me, upload_id)
            return bottle.HTTPResponse(status=204)
        return _tus(call)

    @app.get("/api/uploads/<upload_id>")
    def status(me, upload_id):
        return s.uploads.status(me, upload_id)


def _tus(call) -> bottle.HTTPResponse:
    """Run a tus request: refuse another version (412), answer errors in the JSON shape with the tus headers."""
    try:
        if bottle.request.get_header("Tus-Resumable") != VERSION:
            response = _refuse(412, "unsupported_version", f"this server speaks tus {VERSION} (Tus-Resumable)")
            response.set_header("Tus-Version", VERSION)
        else:
            response = call()
    except ImdemoError as e:
        response = from_service_error(e)
        if isinstance(e, OffsetMismatch):
            response.set_header("Upload-Offset", str(e.offset))
    response.set_header("Tus-Resumable", VERSION)
    response.set_header("Cache-Control", "no-store")
    return response


def _refuse(status: int, code: str, message: str) -> bottle.HTTPResponse:
    return json_response(error_body(code, message), status)


def _header(name: str):
    value = bottle.request.get_header(name)
    return value.strip() if isinstance(value, str) else value


def metadata(header: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated pairs of a key and its value in base64 (a key alone has no value)."""
    pairs = {}
    for pair in filter(None, (p.strip() for p in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadInput(f"Upload-Metadata: the value of {key[:32]!a} is not base64 of UTF-8 text",
                           "invalid_metadata") from None
    return pairs


class _Limited:
    """The request body, read at most its declared length (a read past it would wait on the socket)."""

    def __init__(self, stream, length: int):
        self.stream, self.left = stream, length

    def read(self, size: int) -> bytes:
        data = self.stream.read(min(size, self.left)) if self.left > 0 else b""
        self.left -= len(data)
        return data


def _body(declared: int | None):
    stream = bottle.request.environ["wsgi.input"]
    body = _Limited(stream, declared) if declared is not None else stream
    return body


def _drain(body) -> None:
    """Read and drop the rest of a refused chunk, a piece at a time. Closing the connection with it unread would
    let the client's side reset before the answer (and the server's offset in it) is read; reading it whole at
    once, as cheroot would, would hold it in memory. Bigger ones close the connection (api/serve.py)."""
    try:
        while body.read(DRAIN_PIECE):
            pass
    except (OSError, ValueError):  # the client went away: nothing left to answer
        pass
