"""Services layer: what a complete upload becomes. Its bytes are checked against the sha256 it was created with
(a mismatch discards it: 422); bytes stored before are kept once; otherwise media.py says what they are: an image
is re-encoded (the original, with its metadata, is not kept) with a thumbnail, anything else is a file as it
came. One request turns an upload into a file: it claims the upload first, so a client asking meanwhile (its
last chunk's answer lost) waits for that file instead of making a second one."""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from ..store.blobs import Blobs
from ..store.files import IMAGE, OTHER, FileRow, Files
from ..store.uploads import UploadRow, Uploads
from .errors import Unprocessable
from .media import CorruptImage, ImageTooLarge, Media


class Completion:
    """Turn complete uploads into files."""

    def __init__(self, uploads: Uploads, blobs: Blobs, files: Files, media: Media, note: Callable[..., None]):
        self.uploads, self.blobs, self.files, self.media, self.note = uploads, blobs, files, media, note

    def finish(self, upload: UploadRow) -> FileRow | None:
        """Make the upload a file, unless another request is already doing it (None)."""
        if not self.uploads.claim(upload):
            return None
        try:
            return self.complete(upload)
        except Unprocessable:
            raise  # the upload is discarded
        except BaseException:
            self.uploads.unclaim(upload)  # a failure of ours: the next question tries again
            raise

    def complete(self, upload: UploadRow) -> FileRow:
        """Check the whole's sha256 (discarded on a mismatch: 422), then find what it is and record the file."""
        digest = hashlib.sha256()
        for piece in self.blobs.chunks(upload.blob_id):
            digest.update(piece)
        if digest.hexdigest() != upload.sha256:
            self.uploads.discard(upload)
            self.note(sha256="mismatch: upload discarded")
            raise Unprocessable("the bytes received do not have the sha256 the upload was created with; "
                                "the upload is discarded", "checksum_mismatch")
        same = self.files.same_content(upload.sha256, upload.length)
        if same:  # these very bytes were stored before: keep one copy of them (the new file is this uploader's)
            self.note(stored_once=f"same bytes as file {same[0].fid}: its blobs are shared, this upload's dropped")
            file = self.files.record(upload, _findings_of(same[0]))
            self.blobs.drop(upload.blob_id)
            return file
        return self._store(upload)

    def _store(self, upload: UploadRow) -> FileRow:
        try:
            found = self.media.examine(self.blobs.reader(upload.blob_id, upload.length))
        except (CorruptImage, ImageTooLarge) as e:
            self._refuse(upload, e, "an image")
        if found.kind != "image":
            self.note(found=f"a file ({found.mime}): served only as a download")
            return self.files.record(upload, {"size": upload.length, "mime": found.mime, "kind": OTHER,
                                              "blob_id": upload.blob_id})
        blob_id, thumb_id = self.blobs.new(), self.blobs.new()
        out, thumb = self.blobs.writer(blob_id), self.blobs.writer(thumb_id)
        try:
            width, height = self.media.reencode(self.blobs.reader(upload.blob_id, upload.length), found, out, thumb)
        except (CorruptImage, ImageTooLarge) as e:
            for blob in (blob_id, thumb_id):
                self.blobs.drop(blob)
            self._refuse(upload, e, f"a {found.format} image")
        size = out.finish()
        thumb.finish()
        self.note(found=f"an image ({found.mime}, {width} x {height}): re-encoded without its metadata, "
                        f"{upload.length} -> {size} bytes, with a thumbnail")
        file = self.files.record(upload, {"size": size, "mime": found.mime, "kind": IMAGE, "width": width,
                                          "height": height, "blob_id": blob_id, "thumb_blob_id": thumb_id})
        self.blobs.drop(upload.blob_id)  # the original with its EXIF is not kept
        return file

    def _refuse(self, upload: UploadRow, e: Exception, looks_like: str) -> None:
        """Discard an upload whose bytes start as an image and do not decode (or would decode too big): 422."""
        self.uploads.discard(upload)
        self.note(found=f"refused: {e}")
        if isinstance(e, ImageTooLarge):
            raise Unprocessable("the image has too many pixels to decode here; the upload is discarded",
                                "image_too_large") from None
        raise Unprocessable(f"the file starts as {looks_like} but does not decode; the upload is discarded",
                            "corrupt_image") from None


def _findings_of(file: FileRow) -> dict:
    return {"size": file.size, "mime": file.mime, "kind": file.kind, "width": file.width, "height": file.height,
            "blob_id": file.blob_id, "thumb_blob_id": file.thumb_blob_id}


