"""Store layer: files (im_file): what the server found each upload to be, where its bytes and thumbnail are,
and the messages that carry one (im_msg_content.fid), which is who may read it."""
from __future__ import annotations

import time
from dataclasses import dataclass

import peewee

from .attachment import FILE_KIND, IMAGE_KIND
from .database import write_transaction
from .uploads import UploadRow

COLUMNS = ("fid, uploader_uid, name, size, mime, kind, width, height, sha256, upload_size, blob_id, thumb_blob_id,"
           " created_at")
IMAGE, OTHER = 1, 0  # im_file.kind
SQL = {
    "insert": f"INSERT INTO im_file ({COLUMNS.split(', ', 1)[1]}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
              " RETURNING fid",
    "get": f"SELECT {COLUMNS} FROM im_file WHERE fid = ?",
    "became": "UPDATE im_upload SET fid = ?, blob_id = ?, updated_at = ? WHERE upload_id = ? AND fid = 0",
    "same_content": f"SELECT {COLUMNS} FROM im_file WHERE sha256 = ? AND upload_size = ? ORDER BY fid",
    # Write diffusion (1:1 chats, small groups): a user sees a message if it is in their own timeline, which holds
    # exactly what reached them while they were in the conversation (join bounds by construction).
    "in_timeline": "SELECT r.mid, r.other_uid FROM im_msg_content c JOIN im_msg_relation r ON r.mid = c.mid"
                   " AND r.owner_uid = ? WHERE c.fid = ? ORDER BY r.mid LIMIT 1",
    "carrying": "SELECT mid, sender_id, recipient_id, msg_type, content, create_time FROM im_msg_content"
                " WHERE fid = ? ORDER BY mid DESC LIMIT ?",
}


@dataclass(frozen=True)
class FileRow:
    fid: int
    uploader: int
    name: str
    size: int
    mime: str
    kind: int
    width: int | None
    height: int | None
    sha256: str
    upload_size: int
    blob_id: int
    thumb_blob_id: int | None
    created_ms: int

    @classmethod
    def from_row(cls, r) -> FileRow:
        return cls(int(r[0]), int(r[1]), r[2], int(r[3]), r[4], int(r[5]), _int(r[6]), _int(r[7]), r[8], int(r[9]),
                   int(r[10]), _int(r[11]), int(r[12]))

    @property
    def is_image(self) -> bool:
        return self.kind == IMAGE

    def view(self) -> dict:
        """The file as the API shows it: {fid, name, size, mime, kind, width?, height?}."""
        view = {"fid": self.fid, "name": self.name, "size": self.size, "mime": self.mime,
                "kind": IMAGE_KIND if self.is_image else FILE_KIND}
        if self.is_image:
            view.update(width=self.width, height=self.height)
        return view


def _int(value) -> int | None:
    return None if value is None else int(value)


class Files:
    """Files, and which messages carry them."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _run(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params)

    def record(self, upload: UploadRow, found: dict) -> FileRow:
        """Record the file an upload became, in one transaction with the upload's pointer to it: found holds the
        server's findings (size, mime, kind, width, height, blob_id, thumb_blob_id)."""
        now = int(time.time() * 1000)
        values = (upload.uid, upload.name, found["size"], found["mime"], found["kind"], found.get("width"),
                  found.get("height"), upload.sha256, upload.length, found["blob_id"], found.get("thumb_blob_id"), now)
        with write_transaction(self.db, many_rows=False):
            fid = int(self._run("insert", *values).fetchone()[0])
            self._run("became", fid, found["blob_id"], now, upload.upload_id)
        return FileRow(fid, *values)

    def get(self, fid: int) -> FileRow | None:
        row = self._run("get", fid).fetchone()
        return FileRow.from_row(row) if row else None

    def same_content(self, sha256: str, size: int) -> list[FileRow]:
        """Every file uploaded as these bytes (by anyone)."""
        return [FileRow.from_row(r) for r in self._run("same_content", sha256, size).fetchall()]

    def in_timeline(self, uid: int, fid: int) -> tuple[int, int] | None:
        """(mid, peer) of the first message in uid's own timeline carrying fid, or None."""
        row = self._run("in_timeline", uid, fid).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def carrying(self, fid: int, limit: int = 20) -> list[dict]:
        """The newest messages carrying fid, as rows (the inspector shows them)."""
        cursor = self._run("carrying", fid, limit)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
