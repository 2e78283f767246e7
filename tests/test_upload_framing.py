"""Uploads on a real server (cheroot): a chunk sent with Transfer-Encoding: chunked (curl -T -, a stream) is
streamed to its upload past the 16 KiB limit of JSON bodies, and one past the upload's length is refused; a
chunk refused before it is read is read and dropped a piece at a time, so its 409 reaches the client; an upload
nobody has added to for a day is discarded by the housekeeping."""
from __future__ import annotations

import time
from http.client import HTTPConnection

from .media import TUS, metadata, sha256


def _create(http, token: str, data: bytes) -> str:
    conn = http_conn(http)
    conn.request("POST", "/api/uploads/", headers={**TUS, "Authorization": f"Bearer {token}",
                                                  "Upload-Length": str(len(data)),
                                                  "Upload-Metadata": metadata(filename="s.bin", sha256=sha256(data))})
    answer = conn.getresponse()
    answer.read()
    assert answer.status == 201
    return answer.getheader("Location")


def http_conn(http) -> HTTPConnection:
    host, port = http.base.rsplit("//", 1)[1].split(":")
    return HTTPConnection(host, int(port), timeout=30)


def _patch(conn, token: str, location: str, offset: int, body, chunked: bool = False):
    headers = {**TUS, "Authorization": f"Bearer {token}", "Upload-Offset": str(offset),
               "Content-Type": "application/offset+octet-stream"}
    conn.request("PATCH", location, body=body, headers=headers, encode_chunked=chunked)
    answer = conn.getresponse()
    answer.read()
    return answer


def _pieces(data: bytes, size: int = 50_000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_a_chunked_patch_streams_past_the_json_limit_and_one_past_the_length_is_413(server):
    _, http = server
    http.ok("POST", "/api/register", {"username": "alice", "password": "pw1234"})
    _, token = http.login("alice")
    data = bytes(range(256)) * 1200  # 300 KiB
    location = _create(http, token, data)
    answer = _patch(http_conn(http), token, location, 0, _pieces(data[:200_000]), chunked=True)
    assert (answer.status, answer.getheader("Upload-Offset")) == (204, "200000")
    refused = _patch(http_conn(http), token, location, 200_000, _pieces(data[200_000:] + b"too much"), chunked=True)
    assert refused.status == 413
    conn = http_conn(http)
    conn.request("HEAD", location, headers={**TUS, "Authorization": f"Bearer {token}"})
    assert conn.getresponse().getheader("Upload-Offset") == "200000"  # nothing of the refused chunk
    done = _patch(http_conn(http), token, location, 200_000, _pieces(data[200_000:]), chunked=True)
    assert done.status == 204
    assert http.ok("GET", location, token=token)["file"]["size"] == len(data)


def test_a_refused_chunk_is_read_and_dropped_so_its_answer_arrives_and_the_connection_goes_on(server):
    app, http = server
    http.ok("POST", "/api/register", {"username": "alice", "password": "pw1234"})
    _, token = http.login("alice")
    data = b"q" * 3_000_000
    location = _create(http, token, data)
    conn = http_conn(http)
    refused = _patch(conn, token, location, 5, data[:2_000_000])  # a wrong offset: 409, the chunk dropped
    assert (refused.status, refused.getheader("Upload-Offset")) == (409, "0")
    assert _patch(conn, token, location, 0, data).status == 204  # the same connection goes on
    assert http.ok("GET", location, token=token)["file"]["size"] == len(data)


def test_an_upload_abandoned_for_a_day_is_discarded(app):
    uploads = app.services.uploads
    uid = app.services.auth.register("alice", "pw1234", None, "127.0.0.1")["uid"]
    kept = uploads.create(uid, 10, {"filename": "a.bin", "sha256": sha256(b"0123456789")})
    old = uploads.create(uid, 10, {"filename": "b.bin", "sha256": sha256(b"0123456789")})
    uploads.append(uid, old.upload_id, 0, _Body(b"01234"), 5)
    day_ago = int((time.time() - 25 * 3600) * 1000)
    app.db.execute_sql(f"UPDATE im_upload SET updated_at = {day_ago} WHERE upload_id = '{old.upload_id}'")
    assert uploads.purge_abandoned() == 1
    assert uploads.uploads.get(old.upload_id) is None and uploads.uploads.get(kept.upload_id) is not None
    assert app.db.execute_sql("SELECT COUNT(*) FROM im_blob_chunk").fetchone()[0] == 0


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int) -> bytes:
        piece, self.data = self.data[:size], self.data[size:]
        return piece
