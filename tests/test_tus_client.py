"""Any tus client works (SPEC section 16): tuspy, a client that is not ours, uploads to a real server in chunks,
resumes from the server's offset after stopping midway, and the upload becomes a file that a message carries."""
from __future__ import annotations

import io

import pytest

from .media import image_bytes, sha256

tusclient = pytest.importorskip("tusclient.client")


def test_tuspy_uploads_in_chunks_resumes_from_the_servers_offset_and_the_file_is_sent(server):
    import requests

    app, http = server
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, token), (bob, _) = http.login("alice"), http.login("bob")
    photo = image_bytes("JPEG", (400, 300), gps=True, noise=True, quality=95)
    auth = {"Authorization": f"Bearer {token}"}
    client = tusclient.TusClient(http.base + "/api/uploads/", headers=auth)
    metadata = {"filename": "tus.jpg", "filetype": "image/jpeg", "sha256": sha256(photo)}
    first = client.uploader(file_stream=io.BytesIO(photo), chunk_size=20_000, metadata=metadata)
    first.upload(stop_at=40_000)  # then the client stops, as after a cut
    assert requests.head(first.url, headers={**auth, "Tus-Resumable": "1.0.0"}).headers["Upload-Offset"] == "40000"
    again = client.uploader(file_stream=io.BytesIO(photo), chunk_size=64_000, metadata=metadata, url=first.url)
    assert again.offset == 40_000  # asked the server (HEAD), not started from zero
    again.upload()
    file = requests.get(first.url, headers=auth).json()["file"]
    assert (file["kind"], file["mime"], file["width"]) == ("image", "image/jpeg", 400)
    sent = http.ok("POST", f"/api/conversations/u{bob}/messages", {"attachment": file["fid"]}, token)["message"]
    assert sent["attachment"]["fid"] == file["fid"]
    assert b"SecretCam" not in requests.get(http.base + sent["attachment"]["url"], headers=auth).content
