"""API layer: the OpenAPI document's part for media (SPEC section 16): the tus endpoint and uploads (their
input is in headers and raw bytes, as the tus protocol says), files, signed links and 秒传. openapi.py merges it
into the one document."""
from __future__ import annotations

MAX_ID = 2**62
FID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 in lowercase hex"}
INT, STR = {"type": "integer"}, {"type": "string"}
ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
TUS_HEADERS = {name: {"schema": STR} for name in ("Tus-Resumable",)}
FILE = {"type": "object", "required": ["fid", "name", "size", "mime", "kind"], "properties": {
    "fid": INT, "name": STR, "size": {**INT, "description": "bytes, as served (an image as re-encoded)"},
    "mime": {**STR, "description": "the server's finding from the bytes, never the client's word"},
    "kind": {"enum": ["image", "file"], "description": "an image is shown inline; a file only downloads"},
    "width": INT, "height": INT}}
ATTACHMENT = {**FILE, "required": [*FILE["required"], "url"], "properties": {
    **FILE["properties"], "url": {**STR, "description": "the bytes (needs the token; pages use a signed link)"},
    "thumb_url": {**STR, "description": "an image's thumbnail (WebP)"}}}
SCHEMAS = {"File": FILE, "Attachment": ATTACHMENT}


def _header(name: str, description: str, schema: dict | None = None, required: bool = True) -> dict:
    return {"name": name, "in": "header", "required": required, "schema": schema or STR, "description": description}


TOKEN_OR_LINK = [{"bearer": []}, {}]  # the token, or none with a signed link (expires and sig)


def _op(summary: str, responses: dict, *, params=(), body=None, auth=True, description="") -> dict:
    op = {"summary": summary, "responses": {**{c: ERROR for c in ("400", "401", "403", "404", "413", "429", "503")},
                                            **responses}}
    if params:
        op["parameters"] = list(params)
    if TUS_VERSION in params:
        op["responses"]["412"] = {**ERROR, "description": "unsupported_version: Tus-Resumable is not 1.0.0"}
    if body is not None:
        op["requestBody"] = body
    if auth is not True:
        op["security"] = auth or []
    if description:
        op["description"] = description
    return op


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(required: list[str], **properties) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": required, "properties": properties, "additionalProperties": False}}}}


TUS_VERSION = _header("Tus-Resumable", "the tus version: 1.0.0 (412 for another)", {"const": "1.0.0"})
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,32}$"}}
FID_PATH = {"name": "fid", "in": "path", "required": True, "schema": FID}
SIGNED = [{"name": "expires", "in": "query", "required": False, "schema": {**INT, "minimum": 0, "maximum": MAX_ID},
           "description": "a signed link's expiry (Unix seconds); with sig, no token is needed"},
          {"name": "sig", "in": "query", "required": False, "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
           "description": "a signed link's signature (POST /api/files/links)"}]
RANGE = {"name": "Range", "in": "header", "required": False, "schema": {"type": "string"}, "description": (
    "one byte range (bytes=a-b, bytes=a-, bytes=-n): 206 with those bytes, so a broken download resumes; several "
    "ranges, or one not understood, get the whole file (200)")}
PARTS = {"206": {"description": "the range asked, Content-Range saying which of how many bytes",
                 "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
         "416": {**ERROR, "description": "range_not_satisfiable: it starts past the end (Content-Range: bytes */n)"}}
NO_CONTENT = {"description": "done"}
FILE_BYTES = {"description": "the bytes, with the server's type, nosniff, a sandboxing CSP; a file that is not an "
                             "image as an attachment (application/octet-stream)",
              "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
LINK = {"type": "object", "required": ["url", "expires_at"], "properties": {"url": STR, "thumb_url": STR,
                                                                              "expires_at": INT}}
PATHS = {
    "/api/uploads/": {
        "options": _op("tus: what this server supports (Tus-Version, Tus-Extension, Tus-Max-Size)",
                       {"204": NO_CONTENT}, auth=False),
        "post": _op("tus creation: start an upload", {
            "201": {"description": "created: Location names the upload", "headers": {"Location": {"schema": STR}}},
            "413": {**ERROR, "description": "upload_too_large: above --max-upload-mb"}},
            params=[TUS_VERSION, _header("Upload-Length", "the whole file's bytes", {**INT, "minimum": 0}),
                    _header("Upload-Metadata", "filename, filetype, sha256 (lowercase hex): each `key base64value`, "
                                               "comma-separated; filename and sha256 are required")])},
    "/api/uploads/{upload_id}": {
        "head": _op("tus: how far the upload is (Upload-Offset, Upload-Length)", {"200": NO_CONTENT},
                    params=[UPLOAD_ID, TUS_VERSION]),
        "patch": _op("tus: append bytes at Upload-Offset; the last chunk completes the upload (its sha256 "
                     "checked, an image re-encoded)", {
                         "204": {"description": "appended: Upload-Offset is the new offset"},
                         "409": {**ERROR, "description": "offset_mismatch: Upload-Offset is the server's offset"},
                         "413": {**ERROR, "description": "past_upload_length: the chunk ends past the upload"},
                         "415": {**ERROR, "description": "the body is not application/offset+octet-stream"},
                         "422": {**ERROR, "description": "checksum_mismatch, corrupt_image or image_too_large: "
                                                         "the upload is discarded"}},
                     params=[UPLOAD_ID, TUS_VERSION, _header("Upload-Offset", "where these bytes go",
                                                             {**INT, "minimum": 0})],
                     body={"required": True, "content": {"application/offset+octet-stream": {
                         "schema": {"type": "string", "format": "binary"}}}}),
        "delete": _op("tus termination: cancel an upload (a complete one is a file already: kept)",
                      {"204": NO_CONTENT}, params=[UPLOAD_ID, TUS_VERSION]),
        "get": _op("How far the upload is, and the file it became once complete", {"200": _json({
            "type": "object", "required": ["upload", "file"], "properties": {
                "upload": {"type": "object"}, "file": {"oneOf": [{"$ref": "#/components/schemas/File"},
                                                                 {"type": "null"}]}}})}, params=[UPLOAD_ID])},
    "/api/files/{fid}": {"get": _op(
        "A file's bytes, to its uploader or whoever may see a message carrying it (else 404); by token or signed "
        "link", {"200": FILE_BYTES, **PARTS}, params=[FID_PATH, *SIGNED, RANGE], auth=TOKEN_OR_LINK,
        description="Without `sig`: the token's user must be allowed. With `expires` and `sig`: the link is "
                    "checked (403 invalid_link or link_expired), no token is needed.")},
    "/api/files/{fid}/thumb": {"get": _op("An image's thumbnail (WebP); 404 for a file that is not an image",
                                          {"200": FILE_BYTES, **PARTS}, params=[FID_PATH, *SIGNED, RANGE],
                                          auth=TOKEN_OR_LINK)},
    "/api/files/check": {"post": _op(
        "秒传: the file with these bytes, if the caller may already read one; else null (send the bytes)",
        {"200": _json({"type": "object", "required": ["file"], "properties": {"file": {
            "oneOf": [{"$ref": "#/components/schemas/File"}, {"type": "null"}]}}})},
        body=_body(["sha256", "size"], sha256=SHA256, size={**INT, "minimum": 0, "maximum": MAX_ID}))},
    "/api/files/links": {"post": _op(
        "Short-lived signed links to files the caller may read (404 if any is not one), for <img> and downloads",
        {"200": _json({"type": "object", "required": ["links"], "properties": {"links": {
            "type": "object", "additionalProperties": LINK}}})},
        body=_body(["fids"], fids={"type": "array", "items": FID, "minItems": 1, "maxItems": 100}))},
}
