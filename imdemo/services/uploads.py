"""Services layer: uploads by the tus protocol's rules (lecture 14's 分片上传): an upload is created with its
whole length and its name and sha256, its bytes are appended at the server's offset (a client that lost an
answer asks the offset and goes on from there, so each byte is sent once), and once complete its sha256 is
checked and it becomes a file (completion.py). The HTTP side of the protocol is api/upload_routes.py."""
from __future__ import annotations

import re
import time
from collections.abc import Callable

from ..store.blobs import CHUNK, Blobs
from ..store.files import Files
from ..store.uploads import FINISHING, OffsetMoved, UploadRow, Uploads
from . import checks
from .completion import Completion
from .errors import BadInput, Conflict, NotFound, TooLarge
from .media import Media

SHA256 = re.compile(r"[0-9a-f]{64}")
ABANDONED = 24 * 3600  # seconds after its last chunk an unfinished upload is discarded
FINISHING_WAIT = 60.0  # seconds a status question waits for another request's check of the whole


class OffsetMismatch(Conflict):
    """A PATCH at an offset that is not the server's: 409, with the server's offset."""

    def __init__(self, offset: int):
        super().__init__(f"the upload is at offset {offset}: ask with HEAD and send from there", "offset_mismatch")
        self.offset = offset


class UploadService:
    """Create, append to, ask about and cancel uploads; turn a complete one into a file."""

    def __init__(self, uploads: Uploads, blobs: Blobs, files: Files, media: Media, *, max_bytes: int,
                 note: Callable[..., None] = lambda **info: None):
        self.uploads, self.files, self.max_bytes, self.note = uploads, files, max_bytes, note
        self.completion = Completion(uploads, blobs, files, media, note)

    def create(self, uid: int, length, metadata: dict[str, str]) -> UploadRow:
        """Start an upload of length bytes; 413 above --max-upload-mb."""
        length = checks.integer(length, "upload_length", 0)
        if length > self.max_bytes:
            raise TooLarge(f"a file may have at most {self.max_bytes} bytes", "upload_too_large")
        name = file_name(metadata.get("filename"))
        sha256 = metadata.get("sha256")
        if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
            raise BadInput("Upload-Metadata needs sha256: the whole file's SHA-256 in lowercase hex", "invalid_hash")
        filetype = checks.text(metadata.get("filetype") or "", "filetype", 0, 128)
        return self.uploads.create(uid, length, name, filetype, sha256)

    def get(self, uid: int, upload_id: str) -> UploadRow:
        """The caller's upload; 404 for an unknown one and for anyone else's (not shown to exist)."""
        upload = self.uploads.get(upload_id) if isinstance(upload_id, str) and len(upload_id) <= 32 else None
        if upload is None or upload.uid != uid:
            raise NotFound("no such upload", "no_such_upload")
        return upload

    def append(self, uid: int, upload_id: str, offset, body, declared: int | None) -> UploadRow:
        """Append the bytes of body (declared: its length, when the request said it) at offset, a chunk at a time,
        each committed as it arrives; a complete upload becomes a file. 409 (with the server's offset) for any
        other offset, 413 for bytes past the upload's length."""
        upload = self.get(uid, upload_id)
        offset = checks.integer(offset, "upload_offset", 0)
        if offset != upload.offset or upload.fid is not None:
            raise OffsetMismatch(upload.offset)
        if declared is not None and offset + declared > upload.length:
            raise TooLarge(f"the upload has {upload.length} bytes; this chunk ends at {offset + declared}",
                           "past_upload_length")
        for piece in _pieces(body, CHUNK, upload.length - offset):
            try:
                offset = self.uploads.append(upload, offset, piece)
            except OffsetMoved:  # another request (a retry) got there first: the bytes it sent stand
                raise OffsetMismatch(self.get(uid, upload_id).offset) from None
        self.note(upload=upload_id, offset=offset, length=upload.length)
        upload = self.get(uid, upload_id)
        if upload.offset == upload.length and upload.fid is None:
            self.completion.finish(upload)
            upload = self.get(uid, upload_id)
        return upload

    def purge_abandoned(self) -> int:
        """Discard the uploads nobody has added to for a day (housekeeping)."""
        return self.uploads.purge_stale(int((time.time() - ABANDONED) * 1000))

    def cancel(self, uid: int, upload_id: str) -> None:
        """Discard an upload not yet complete (tus termination); a complete one is (or is becoming) a file: kept."""
        upload = self.get(uid, upload_id)
        if upload.fid is None:
            self.uploads.discard(upload)

    def status(self, uid: int, upload_id: str) -> dict:
        """How far the upload is, and the file it became (waiting while another request makes it one: a client
        whose last chunk's answer was lost asks while the server still checks it)."""
        upload = self.get(uid, upload_id)
        if upload.offset == upload.length and upload.fid is None:  # completed by a process that stopped midway
            self.completion.finish(upload)
        deadline = time.monotonic() + FINISHING_WAIT
        while upload.fid == FINISHING and time.monotonic() < deadline:
            time.sleep(0.05)
            upload = self.get(uid, upload_id)  # 404 if it was refused (its PATCH was told why)
        file = self.files.get(upload.fid) if upload.fid else None
        return {"upload": {"id": upload.upload_id, "offset": upload.offset, "length": upload.length,
                           "name": upload.name}, "file": file.view() if file else None}

def _pieces(body, size: int, room: int):
    """The request body in pieces of size bytes; 413 if it has more than room bytes (known before the piece
    that would fill the upload is handed on: an overlong body never completes it). A body cut short (the client
    went away) ends the pieces: what came whole is kept, and the client resumes from the offset."""
    while True:
        try:
            piece = body.read(min(size, room))
            if len(piece) == room and body.read(1):
                raise TooLarge("the chunk goes past the upload's length", "past_upload_length")
        except (OSError, ValueError):  # the connection broke, or a malformed chunked body
            return
        if not piece:
            return
        room -= len(piece)
        yield piece


def file_name(value) -> str:
    """A file's name as shown: the last part of any path, 1..255 characters, no control characters."""
    if not isinstance(value, str):
        raise BadInput("Upload-Metadata needs filename", "invalid_filename")
    name = re.split(r"[/\\]", value)[-1].strip()
    if not name or len(name) > 255 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadInput("filename must be 1 to 255 characters, without control characters", "invalid_filename")
    return checks.encodable(name, "filename")
