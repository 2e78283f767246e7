"""Store layer: tus uploads (im_upload): created with their declared length, appended to a chunk at a time at
their offset, and finished as the file they became (or discarded). The offset moves only by compare-and-set in
the same transaction as the chunk it counts, so two requests racing for one upload (a client's retry while its
first PATCH still streams, on any process) never write a byte twice: the loser finds the offset moved."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import peewee

from .blobs import Blobs
from .database import write_transaction

COLUMNS = "upload_id, uid, blob_id, length, \"offset\", name, filetype, sha256, fid, created_at, updated_at"
SQL = {
    "insert": f"INSERT INTO im_upload ({COLUMNS}) VALUES (?, ?, ?, ?, 0, ?, ?, ?, NULL, ?, ?)",
    "get": f"SELECT {COLUMNS} FROM im_upload WHERE upload_id = ?",
    "advance": "UPDATE im_upload SET \"offset\" = ?, updated_at = ? WHERE upload_id = ? AND \"offset\" = ?"
               " AND fid IS NULL",
    "delete": "DELETE FROM im_upload WHERE upload_id = ?",
    # one request turns a complete upload into a file; a claim older than CLAIM_STALE was a process that stopped
    "claim": "UPDATE im_upload SET fid = 0, updated_at = ? WHERE upload_id = ? AND \"offset\" = length"
             " AND (fid IS NULL OR (fid = 0 AND updated_at < ?))",
    "unclaim": "UPDATE im_upload SET fid = NULL WHERE upload_id = ? AND fid = 0",
    "recent": f"SELECT {COLUMNS} FROM im_upload ORDER BY updated_at DESC LIMIT ?",
    "stale": "SELECT upload_id, blob_id FROM im_upload WHERE (fid IS NULL OR fid = 0) AND updated_at < ?",
}


@dataclass(frozen=True)
class UploadRow:
    upload_id: str
    uid: int
    blob_id: int
    length: int
    offset: int
    name: str
    filetype: str
    sha256: str
    fid: int | None
    created_ms: int
    updated_ms: int

    @classmethod
    def from_row(cls, r) -> UploadRow:
        return cls(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5], r[6], r[7],
                   None if r[8] is None else int(r[8]), int(r[9]), int(r[10]))


FINISHING = 0  # im_upload.fid while one request turns the upload into a file (fids start at 1)
CLAIM_STALE = 300_000  # ms after which a claim is taken again (the process holding it stopped)


class OffsetMoved(Exception):
    """Another request appended to the upload first (or finished it)."""


class Uploads:
    """The uploads in progress, and the ones that became files."""

    def __init__(self, db: peewee.Database, blobs: Blobs):
        self.db, self.blobs = db, blobs
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _run(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params)

    def create(self, uid: int, length: int, name: str, filetype: str, sha256: str) -> UploadRow:
        """Start an upload of length bytes; its id is random (it names the upload in URLs)."""
        upload_id, now = secrets.token_urlsafe(16), int(time.time() * 1000)
        with write_transaction(self.db, many_rows=False):
            blob_id = self.blobs.new()
            self._run("insert", upload_id, uid, blob_id, length, name, filetype, sha256, now, now)
        return UploadRow(upload_id, uid, blob_id, length, 0, name, filetype, sha256, None, now, now)

    def get(self, upload_id: str) -> UploadRow | None:
        row = self._run("get", upload_id).fetchone()
        return UploadRow.from_row(row) if row else None

    def append(self, upload: UploadRow, offset: int, data: bytes) -> int:
        """Write data at offset as one chunk and move the offset past it, in one transaction; return the new
        offset. OffsetMoved when the offset is no longer what the caller saw."""
        with write_transaction(self.db, many_rows=False):
            moved = self._run("advance", offset + len(data), int(time.time() * 1000), upload.upload_id, offset)
            if moved.rowcount != 1:
                raise OffsetMoved(upload.upload_id)
            self.blobs.append(upload.blob_id, offset, data)
        return offset + len(data)

    def claim(self, upload: UploadRow) -> bool:
        """Take the complete upload to turn it into a file; False when another request has it."""
        now = int(time.time() * 1000)
        with write_transaction(self.db, many_rows=False):
            return self._run("claim", now, upload.upload_id, now - CLAIM_STALE).rowcount == 1

    def unclaim(self, upload: UploadRow) -> None:
        with write_transaction(self.db, many_rows=False):
            self._run("unclaim", upload.upload_id)

    def discard(self, upload: UploadRow) -> None:
        """Delete an upload and the bytes it received."""
        with write_transaction(self.db, many_rows=False):
            self._run("delete", upload.upload_id)
        self.blobs.drop(upload.blob_id)

    def recent(self, limit: int) -> list[UploadRow]:
        return [UploadRow.from_row(r) for r in self._run("recent", limit).fetchall()]

    def purge_stale(self, older_than_ms: int) -> int:
        """Discard the unfinished uploads untouched since older_than_ms (abandoned); return how many."""
        stale = self._run("stale", older_than_ms).fetchall()
        for upload_id, blob_id in stale:
            with write_transaction(self.db, many_rows=False):
                self._run("delete", upload_id)
            self.blobs.drop(int(blob_id))
        return len(stale)
