"""API layer: files (lecture 15): download one or its thumbnail, by the caller's token or by a signed link (an
<img> sends no header); ask for signed links; 秒传 (send a file already stored without its bytes). A file's
bytes are streamed from the database a chunk at a time, with the server's own type, nosniff and a sandboxing
CSP; an image is shown inline, any other file only downloads (an SVG or an HTML page never runs here)."""
from __future__ import annotations

from urllib.parse import quote

import bottle

from ..services import Services
from ..store.files import FileRow
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
        length, chunks = s.files.content(file, variant)
        return bottle.HTTPResponse(chunks, 200, _headers(file, variant, length))

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
            "Content-Security-Policy": FILE_POLICY, "Cache-Control": "private, max-age=600"}
