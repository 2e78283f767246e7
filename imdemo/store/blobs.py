"""Store layer: blobs kept as chunk rows (GridFS's pattern: im_blob and im_blob_chunk). A blob is written a chunk
at a time, each in a short transaction of its own (a message's commit never waits behind a slow upload), and read
back a few chunks at a time: no whole file is ever held in memory, on SQLite or PostgreSQL (whose driver would
fetch every row of one big SELECT at once)."""
from __future__ import annotations

import io
import time
from collections.abc import Iterator

import peewee

from .database import write_transaction

CHUNK = 256 * 1024  # bytes a row: GridFS's 255 KiB; SQLite keeps it in overflow pages, PostgreSQL in TOAST
READ_AHEAD = 4  # chunks fetched by one SELECT while streaming
SQL = {
    "new": "INSERT INTO im_blob (length, created_at) VALUES (0, ?) RETURNING blob_id",
    "append": "INSERT INTO im_blob_chunk (blob_id, pos, data) VALUES (?, ?, ?)",
    "grow": "UPDATE im_blob SET length = length + ? WHERE blob_id = ?",
    "chunks": "SELECT pos, data FROM im_blob_chunk WHERE blob_id = ? AND pos >= ? ORDER BY pos LIMIT ?",
    "at": "SELECT pos, data FROM im_blob_chunk WHERE blob_id = ? AND pos <= ? ORDER BY pos DESC LIMIT 1",
    "layout": "SELECT pos, length(data) FROM im_blob_chunk WHERE blob_id = ? ORDER BY pos",
    "length": "SELECT length FROM im_blob WHERE blob_id = ?",
    "drop_chunks": "DELETE FROM im_blob_chunk WHERE blob_id = ?",
    "drop": "DELETE FROM im_blob WHERE blob_id = ?",
}


class Blobs:
    """Byte strings in chunk rows."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _run(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params)

    def new(self) -> int:
        """Start an empty blob; return its id (in the caller's transaction, or in one of its own)."""
        with write_transaction(self.db, many_rows=False):
            return int(self._run("new", int(time.time() * 1000)).fetchone()[0])

    def append(self, blob_id: int, pos: int, data: bytes) -> None:
        """Add a chunk at pos (inside the caller's transaction)."""
        self._run("append", blob_id, pos, data)
        self._run("grow", len(data), blob_id)

    def chunks(self, blob_id: int, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The blob's bytes from start (to end, exclusive), a chunk at a time."""
        pos = start
        first = self._run("at", blob_id, start).fetchone()
        if first is None:
            return
        rows = [first]
        while rows:
            for at, data in rows:
                data = bytes(data)  # psycopg2 hands bytea as a memoryview
                piece = data[max(0, pos - int(at)):] if end is None else data[max(0, pos - int(at)):end - int(at)]
                if piece:
                    yield piece
                    pos += len(piece)
                if end is not None and pos >= end:
                    return
            rows = self._run("chunks", blob_id, int(rows[-1][0]) + 1, READ_AHEAD).fetchall()

    def layout(self, blob_id: int) -> list[tuple[int, int]]:
        """Each chunk's (pos, length): what the inspector shows of an upload."""
        return [(int(pos), int(n)) for pos, n in self._run("layout", blob_id).fetchall()]

    def length(self, blob_id: int) -> int:
        row = self._run("length", blob_id).fetchone()
        return int(row[0]) if row else 0

    def drop(self, blob_id: int) -> None:
        """Delete a blob and its chunks."""
        with write_transaction(self.db, many_rows=False):
            self._run("drop_chunks", blob_id)
            self._run("drop", blob_id)

    def writer(self, blob_id: int) -> BlobWriter:
        return BlobWriter(self, blob_id)

    def reader(self, blob_id: int, length: int) -> io.BufferedReader:
        """A seekable file object over the blob (Pillow reads an image through one)."""
        return io.BufferedReader(BlobReader(self, blob_id, length), CHUNK)


class BlobWriter(io.RawIOBase):
    """A file object that appends to a blob: each full chunk is written in a transaction of its own."""

    def __init__(self, blobs: Blobs, blob_id: int):
        self.blobs, self.blob_id = blobs, blob_id
        self.pending = bytearray()
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.pending += data
        while len(self.pending) >= CHUNK:
            self._flush(CHUNK)
        return len(data)

    def finish(self) -> int:
        """Write what is left; return the blob's length."""
        if self.pending:
            self._flush(len(self.pending))
        return self.written

    def _flush(self, n: int) -> None:
        with write_transaction(self.blobs.db, many_rows=False):
            self.blobs.append(self.blob_id, self.written, bytes(self.pending[:n]))
        del self.pending[:n]
        self.written += n


class BlobReader(io.RawIOBase):
    """A seekable, read-only file object over a blob, reading the chunk that holds each position."""

    def __init__(self, blobs: Blobs, blob_id: int, length: int):
        self.blobs, self.blob_id, self.length = blobs, blob_id, length
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        self.position = max(0, base + offset)
        return self.position

    def readinto(self, buffer) -> int:
        if self.position >= self.length:
            return 0
        want = min(len(buffer), self.length - self.position)
        got = 0
        for piece in self.blobs.chunks(self.blob_id, self.position, self.position + want):
            buffer[got:got + len(piece)] = piece
            got += len(piece)
        self.position += got
        return got
