"""API layer: files (lecture 15): download one or its thumbnail, by the caller's token or by a signed link (an
<img> sends no header); ask for signed links; 秒传 (send a file already stored without its bytes). A file's
bytes are streamed from the database a chunk at a time, with the server's own type, nosniff and a sandboxing
CSP; an image is shown inline, any other file only downloads (an SVG or an HTML page never runs here). One byte
range may be asked (Range: 206 Partial Content), so a broken download resumes where it stopped."""
from __future__ import annotations

import re
from urllib.parse import quote

import bottle

from ..services import Services
from ..store.files import FileRow
from .errors import error_body, json_response
from .requests import bearer_token, json_body, query

# A file opened on its own runs nothing and loads nothing (GitHub serves user content the same way)
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def add_file_routes(app: bottle.Bottle, s: Services) -> None:
    """Download, thumbnail, signed links, 秒传."""

    def serve(fid, variant: str):
        if query("sig") is not None or query("expires") is not None:
            file = s.files.signed(fid, variant, query("expires"), query("sig"))
        else:
            file = s.files.readable(s.auth.authenticate(bearer_token()), fid)
        length = s.files.length(file, variant)
        wanted = byte_range(bottle.request.get_header("Range"), length)
        if wanted is None:
            return bottle.HTTPResponse(s.files.content(file, variant), 200, _headers(file, variant, length))
        if wanted == UNSATISFIABLE:
            return json_response(error_body("range_not_satisfiable", f"the file has {length} bytes"), 416,
                                 {"Content-Range": f"bytes */{length}", "Accept-Ranges": "bytes"})
        start, end = wanted
        headers = {**_headers(file, variant, end - start), "Content-Range": f"bytes {start}-{end - 1}/{length}"}
        return bottle.HTTPResponse(s.files.content(file, variant, start, end), 206, headers)

    @app.get("/api/files/<fid>", auth=False)
    def download(fid):
        return serve(fid, "file")

    @app.get("/api/files/<fid>/thumb", auth=False)
    def thumbnail(fid):
        return serve(fid, "thumb")

    @app.post("/api/files/check")
    def instant(me):
        body = json_body()
        return s.files.check(me, body.get("sha256"), body.get("size"))

    @app.post("/api/files/links")
    def links(me):
        return s.files.links(me, json_body().get("fids"))


UNSATISFIABLE = (-1, -1)
RANGE = re.compile(r"bytes=(?:([0-9]{1,19})-([0-9]{0,19})|-([0-9]{1,19}))")


def byte_range(header: str | None, length: int) -> tuple[int, int] | None:
    """The (start, end) bytes of one range a Range header asks of length bytes (end exclusive); None to send
    them all (no header, one not understood, or several ranges: RFC 9110 lets a server ignore Range), or
    UNSATISFIABLE (416) when the range starts past the end. A resumed download and a seek both ask one."""
    match = RANGE.fullmatch((header or "").replace(" ", ""))
    if match is None:
        return None
    first, last, suffix = match.groups()
    if suffix is not None:
        start, end = max(0, length - int(suffix)), length
        return (start, end) if int(suffix) > 0 and length > 0 else UNSATISFIABLE
    start = int(first)
    end = length if not last else min(length, int(last) + 1)
    if last and int(last) < start:
        return None  # not a valid range: ignored
    return (start, end) if start < length else UNSATISFIABLE


def _headers(file: FileRow, variant: str, length: int) -> dict:
    if variant == "thumb":
        kind, disposition = "image/webp", "inline"
    elif file.is_image:
        kind, disposition = file.mime, "inline"
    else:  # served as bytes to save, whatever they are: never rendered, never sniffed
        kind, disposition = "application/octet-stream", "attachment"
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in file.name)
    return {"Content-Type": kind, "Content-Length": str(length), "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file.name)}",
            "Content-Security-Policy": FILE_POLICY, "Cache-Control": "private, max-age=600", "Accept-Ranges": "bytes"}
