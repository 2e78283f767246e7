"""Test helpers for media: images made by Pillow (one with EXIF and a GPS position), and a tus upload through
WebTest (create, PATCH in chunks, the file it became)."""
from __future__ import annotations

import base64
import hashlib
import io
import os

from PIL import Image

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"
GPS_IFD = 0x8825


def image_bytes(fmt: str = "JPEG", size=(640, 480), color=(200, 40, 40), gps: bool = False, noise: bool = False,
                **save) -> bytes:
    """An image in fmt; with gps, EXIF that places it (and names the camera), as a phone photo's does; with
    noise, random pixels (a photo's size, where one colour compresses to nothing)."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, color)
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "SecretCam"  # Make
        exif[0x0112] = 1  # Orientation
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)})
        save["exif"] = exif
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def metadata(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(client, user, data: bytes, name: str = "photo.jpg", digest: str | None = None, status: int = 201,
           filetype: str = "image/jpeg", length: int | None = None):
    """POST /api/uploads/: return the response (its Location names the upload)."""
    headers = {**TUS, **user.headers, "Upload-Length": str(len(data) if length is None else length),
               "Upload-Metadata": metadata(filename=name, filetype=filetype, sha256=digest or sha256(data))}
    return client.post("/api/uploads/", headers=headers, status=status)


def patch(client, user, location: str, offset: int, chunk: bytes, status: int = 204):
    headers = {**TUS, **user.headers, "Upload-Offset": str(offset), "Content-Type": OCTETS}
    return client.request(location, method="PATCH", body=chunk, headers=headers, status=status)


def upload(client, user, data: bytes, name: str = "photo.jpg", chunk: int = 100_000, **create_args) -> dict:
    """Upload data in chunks; return GET /api/uploads/<id> ({upload, file})."""
    location = create(client, user, data, name, **create_args).headers["Location"]
    for offset in range(0, len(data), chunk):
        patch(client, user, location, offset, data[offset:offset + chunk])
    if not data:
        patch(client, user, location, 0, b"")
    return client.get(location, headers=user.headers).json
