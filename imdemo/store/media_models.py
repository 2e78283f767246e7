"""Store layer: the tables of media (lectures 14 and 15), GridFS's pattern in SQL: a file's bytes are rows of
im_blob_chunk (bytea on PostgreSQL, BLOB on SQLite), so every process of a scaled-out deployment serves every
file with nothing but the database, and the embedded default needs nothing more either."""
from __future__ import annotations

import peewee as pw


def declare_media_models(base: type[pw.Model]) -> dict[str, type[pw.Model]]:
    """Return the media model classes, on base (models.py binds it to a database)."""

    class Blob(base):
        """One stored byte string (GridFS's fs.files): an upload's bytes, an image as re-encoded, a thumbnail."""

        blob_id = pw.BigAutoField()
        length = pw.BigIntegerField(default=0)
        created_at = pw.BigIntegerField()

        class Meta:
            table_name = "im_blob"

    class BlobChunk(base):
        """A piece of a blob (GridFS's fs.chunks), at its byte offset: read in order, a few at a time."""

        blob_id = pw.BigIntegerField()
        pos = pw.BigIntegerField()  # the offset of its first byte in the blob
        data = pw.BlobField()

        class Meta:
            table_name = "im_blob_chunk"
            primary_key = pw.CompositeKey("blob_id", "pos")

    class Upload(base):
        """A tus upload: whose, how long it will be, how far it has come; the file it became once complete."""

        upload_id = pw.CharField(max_length=32, primary_key=True)
        uid = pw.IntegerField(index=True)
        blob_id = pw.BigIntegerField()
        length = pw.BigIntegerField()  # Upload-Length: the whole, declared at creation
        offset = pw.BigIntegerField(default=0)  # Upload-Offset: the bytes received, each once
        name = pw.CharField(max_length=255)
        filetype = pw.CharField(max_length=128, default="")  # the client's word, kept for the inspector only
        sha256 = pw.CharField(max_length=64)  # what the whole must hash to
        fid = pw.BigIntegerField(null=True)
        created_at = pw.BigIntegerField()
        updated_at = pw.BigIntegerField()

        class Meta:
            table_name = "im_upload"

    class File(base):
        """A file as the server found it: its type, an image's size, its bytes and thumbnail (blobs). Several
        uploads of the same bytes are several files (each its uploader's) sharing one blob."""

        fid = pw.BigAutoField()
        uploader_uid = pw.IntegerField()
        name = pw.CharField(max_length=255)
        size = pw.BigIntegerField()  # of the bytes served
        mime = pw.CharField(max_length=128)  # the server's finding, never the client's word
        kind = pw.SmallIntegerField()  # 1 an image (shown inline), 0 any other file (a download)
        width = pw.IntegerField(null=True)
        height = pw.IntegerField(null=True)
        sha256 = pw.CharField(max_length=64)  # of the bytes uploaded: what 秒传 compares
        upload_size = pw.BigIntegerField()
        blob_id = pw.BigIntegerField()
        thumb_blob_id = pw.BigIntegerField(null=True)
        created_at = pw.BigIntegerField()

        class Meta:
            table_name = "im_file"
            indexes = ((("sha256", "upload_size"), False),)

    class Secret(base):
        """A secret every process of the app shares (the key that signs file links), made at first start."""

        name = pw.CharField(max_length=32, primary_key=True)
        value = pw.CharField(max_length=128)

        class Meta:
            table_name = "im_secret"

    return {"Blob": Blob, "BlobChunk": BlobChunk, "Upload": Upload, "File": File, "Secret": Secret}
