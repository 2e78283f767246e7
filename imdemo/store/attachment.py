"""Store layer: the file an image or file message carries, as the message shows it: the file's own fields
(fid, name, size, mime, kind, and an image's width and height), kept with the message as JSON since a file
never changes, and the API's URLs of its bytes and thumbnail. Those URLs need the caller's token; a page's
<img> asks for short-lived signed ones (POST /api/files/links)."""
from __future__ import annotations

import json

IMAGE_KIND, FILE_KIND = "image", "file"
FIELDS = ("fid", "name", "size", "mime", "kind", "width", "height")


def attachment_json(file: dict) -> str:
    """The JSON kept with a message for the file it carries."""
    return json.dumps({name: file[name] for name in FIELDS if file.get(name) is not None}, ensure_ascii=False,
                      separators=(",", ":"))


def attachment_view(text: str) -> dict:
    """The attachment of a message: the file and the URLs of its bytes (and of its thumbnail, for an image)."""
    file = json.loads(text)
    urls = {"url": f"/api/files/{file['fid']}"}
    if file["kind"] == IMAGE_KIND:
        urls["thumb_url"] = f"/api/files/{file['fid']}/thumb"
    return {**file, **urls}
