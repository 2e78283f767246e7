"""Uploads by tus 1.0 (SPEC section 16): created with their length and sha256, appended chunk by chunk at the
server's offset, resumed from HEAD's offset after a cut, checked whole at the end; every refusal is the JSON
error with the tus headers, stores nothing and leaves the server serving."""
from __future__ import annotations

import pytest
import webtest

from .media import OCTETS, TUS, create, image_bytes, patch, sha256, upload


@pytest.fixture
def alice(chat):
    return chat.register("alice")


@pytest.fixture
def bob(chat):
    return chat.register("bob")


def _rows(app, table: str) -> int:
    return app.db.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_options_says_the_version_extensions_and_the_largest_upload(client):
    answer = client.options("/api/uploads/", status=204)
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert set(answer.headers["Tus-Extension"].split(",")) == {"creation", "termination"}
    assert answer.headers["Tus-Max-Size"] == str(25 * 1024 * 1024)


def test_an_upload_in_chunks_becomes_a_file_and_head_tells_the_offset(client, alice):
    data = b"hello, this is a plain text file\n" * 5000
    location = create(client, alice, data, "notes.txt", filetype="text/plain").headers["Location"]
    assert location.startswith("/api/uploads/")
    head = client.head(location, headers={**TUS, **alice.headers}, status=200)
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("0", str(len(data)))
    answer = patch(client, alice, location, 0, data[:70_000])
    assert answer.headers["Upload-Offset"] == "70000" and answer.headers["Tus-Resumable"] == "1.0.0"
    assert client.head(location, headers={**TUS, **alice.headers}).headers["Upload-Offset"] == "70000"
    patch(client, alice, location, 70_000, data[70_000:])
    done = client.get(location, headers=alice.headers).json
    assert done["upload"]["offset"] == len(data)
    assert done["file"] == {"fid": done["file"]["fid"], "name": "notes.txt", "size": len(data), "mime": "text/plain",
                            "kind": "file"}


def test_a_wrong_offset_is_409_with_the_servers_offset_and_stores_nothing(app, client, alice):
    data = b"x" * 1000
    location = create(client, alice, data, "x.bin").headers["Location"]
    patch(client, alice, location, 0, data[:400])
    chunks = _rows(app, "im_blob_chunk")
    for wrong in (0, 300, 500):
        refused = patch(client, alice, location, wrong, data[wrong:wrong + 100], status=409)
        assert refused.json["error"]["code"] == "offset_mismatch"
        assert refused.headers["Upload-Offset"] == "400" and refused.headers["Tus-Resumable"] == "1.0.0"
    assert _rows(app, "im_blob_chunk") == chunks
    patch(client, alice, location, 400, data[400:])  # and it goes on from the server's offset


def test_a_chunk_past_the_declared_size_is_413_and_stores_nothing(client, alice):
    data = b"y" * 1000
    location = create(client, alice, data, "y.bin").headers["Location"]
    refused = patch(client, alice, location, 0, data + b"more", status=413)
    assert refused.json["error"]["code"] == "past_upload_length"
    assert client.head(location, headers={**TUS, **alice.headers}).headers["Upload-Offset"] == "0"
    patch(client, alice, location, 0, data)


def test_an_upload_above_max_upload_mb_is_413_and_nothing_is_made(make_config):
    from imdemo.app import create_app

    from .conftest import Chat
    app = create_app(make_config(max_upload_mb=1))
    client = webtest.TestApp(app.wsgi)
    alice = Chat(client).register("alice")
    refused = create(client, alice, b"", "big.bin", length=1024 * 1024 + 1, status=413)
    assert refused.json["error"]["code"] == "upload_too_large"
    assert _rows(app, "im_upload") == 0
    create(client, alice, b"", "ok.bin", length=1024 * 1024)  # at the limit: taken
    app.close()


def test_a_sha256_mismatch_is_422_and_the_upload_is_discarded(app, client, alice):
    data = b"the real bytes" * 100
    location = create(client, alice, data, "z.txt", digest=sha256(b"other bytes")).headers["Location"]
    refused = patch(client, alice, location, 0, data, status=422)
    assert refused.json["error"]["code"] == "checksum_mismatch"
    client.head(location, headers={**TUS, **alice.headers}, status=404)
    assert [_rows(app, t) for t in ("im_upload", "im_file", "im_blob_chunk")] == [0, 0, 0]


def test_someone_elses_or_an_unknown_upload_is_404(client, alice, bob):
    data = b"alice's bytes"
    location = create(client, alice, data, "a.txt").headers["Location"]
    for who, where in ((bob, location), (alice, "/api/uploads/nosuchupload")):
        assert client.head(where, headers={**TUS, **who.headers}, status=404)
        assert patch(client, who, where, 0, data, status=404).json["error"]["code"] == "no_such_upload"
        client.get(where, headers=who.headers, status=404)
        client.delete(where, headers={**TUS, **who.headers}, status=404)
    assert client.head(location, headers={**TUS, **alice.headers}).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("headers, status, code", [
    ({"Tus-Resumable": "0.2.2"}, 412, "unsupported_version"),
    ({"Content-Type": "application/octet-stream"}, 415, "unsupported_media_type"),
    ({"Upload-Offset": "-1"}, 400, "invalid_upload_offset"),
])
def test_a_patch_the_protocol_refuses_stores_nothing(client, alice, headers, status, code):
    location = create(client, alice, b"abc", "a.txt").headers["Location"]
    base = {**TUS, **alice.headers, "Upload-Offset": "0", "Content-Type": OCTETS}
    refused = client.request(location, method="PATCH", body=b"abc", headers={**base, **headers}, status=status)
    assert refused.json["error"]["code"] == code
    assert client.head(location, headers={**TUS, **alice.headers}).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("metadata, code", [
    ("filename YS50eHQ=", "invalid_hash"),
    ("filename YS50eHQ=,sha256 " + "QUJD" * 10, "invalid_hash"),
    ("sha256 !!!", "invalid_metadata"),
])
def test_creation_needs_a_name_and_a_lowercase_sha256(client, alice, metadata, code):
    headers = {**TUS, **alice.headers, "Upload-Length": "3", "Upload-Metadata": metadata}
    assert client.post("/api/uploads/", headers=headers, status=400).json["error"]["code"] == code


def test_a_cancelled_upload_is_gone_with_its_bytes(app, client, alice):
    location = create(client, alice, b"q" * 500_000, "q.bin").headers["Location"]
    patch(client, alice, location, 0, b"q" * 300_000)
    client.delete(location, headers={**TUS, **alice.headers}, status=204)
    client.head(location, headers={**TUS, **alice.headers}, status=404)
    assert _rows(app, "im_blob_chunk") == 0


def test_an_image_is_re_encoded_without_its_gps_and_gets_a_thumbnail(client, alice):
    photo = image_bytes("JPEG", (1200, 900), gps=True)
    assert b"SecretCam" in photo
    file = upload(client, alice, photo, "holiday.jpg")["file"]
    assert {k: file[k] for k in ("kind", "mime", "width", "height")} == {
        "kind": "image", "mime": "image/jpeg", "width": 1200, "height": 900}
    served = client.get(f"/api/files/{file['fid']}", headers=alice.headers)
    assert served.content_type == "image/jpeg" and served.body[:3] == b"\xff\xd8\xff"
    assert b"SecretCam" not in served.body and b"Exif" not in served.body
    thumb = client.get(f"/api/files/{file['fid']}/thumb", headers=alice.headers)
    assert thumb.content_type == "image/webp" and len(thumb.body) < len(served.body)


def test_a_question_while_the_last_chunk_is_checked_waits_for_the_one_file(app, client, alice, monkeypatch):
    """A client whose last chunk's answer was lost asks how it went while the server still checks the whole:
    it gets the file that request makes, and no second file is made."""
    import threading

    data = image_bytes("PNG", (200, 100))
    location = create(client, alice, data, "slow.png").headers["Location"]
    completion = app.services.uploads.completion
    checking, go_on = threading.Event(), threading.Event()
    real = completion.complete

    def slow(upload):
        checking.set()
        go_on.wait(10)
        return real(upload)
    monkeypatch.setattr(completion, "complete", slow)
    last = threading.Thread(target=patch, args=(client, alice, location, 0, data))
    last.start()
    assert checking.wait(10)
    answers = []
    asking = threading.Thread(target=lambda: answers.append(client.get(location, headers=alice.headers).json))
    asking.start()
    threading.Timer(0.3, go_on.set).start()
    last.join(10)
    asking.join(10)
    assert answers[0]["file"]["kind"] == "image"
    assert _rows(app, "im_file") == 1
