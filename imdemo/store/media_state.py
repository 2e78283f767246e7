"""Store layer: the inspector's view of uploads and files: each recent upload's row, the chunk rows holding its
bytes (or, once it became a file, the file's), the file the server found it to be, and the messages carrying
that file (who may read it follows from them)."""
from __future__ import annotations

from .blobs import Blobs
from .files import Files
from .uploads import Uploads


class MediaState:
    """Raw rows of uploads, chunks and files, as stored (never the bytes themselves)."""

    def __init__(self, uploads: Uploads, blobs: Blobs, files: Files):
        self.uploads, self.blobs, self.files = uploads, blobs, files

    def recent(self, limit: int = 8) -> list[dict]:
        """The most recently touched uploads, newest first, each with its chunks, file and messages."""
        return [self._one(upload) for upload in self.uploads.recent(limit)]

    def _one(self, upload) -> dict:
        file = self.files.get(upload.fid) if upload.fid else None
        blob_id = file.blob_id if file else upload.blob_id
        shown = {"upload_id": upload.upload_id, "uid": upload.uid, "name": upload.name,
                 "filetype": upload.filetype, "length": upload.length, "offset": upload.offset,
                 "sha256": upload.sha256, "fid": upload.fid}
        chunks = [{"blob_id": blob_id, "pos": pos, "length": n} for pos, n in self.blobs.layout(blob_id)]
        found = [{**file.view(), "uploader_uid": file.uploader, "sha256": file.sha256, "blob_id": file.blob_id,
                  "thumb_blob_id": file.thumb_blob_id}] if file else []
        return {"im_upload": [shown], "im_blob_chunk": chunks, "im_file": found,
                "im_msg_content": self.files.carrying(file.fid) if file else []}
