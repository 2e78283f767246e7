"""A file's bytes in ranges (RFC 9110 Range, 206 Partial Content): a download that broke off resumes where it
stopped instead of from the start, and a range can span the chunks the file is stored in. One range is served;
several, or one not understood, get the whole file (a server may ignore Range); a range past the end is 416 with
the file's length. Who may not read the file learns nothing more by asking for a range."""
from __future__ import annotations

import hashlib
import os

import pytest

from .media import image_bytes, upload

SIZE = 300_000  # uploaded in PATCHes of 100,000 bytes, stored in rows of 256 KiB (store/blobs.py)


@pytest.fixture
def sent(chat, client):
    """alice's file of SIZE random bytes, sent to bob: (alice, bob, carol, its fid, its bytes)."""
    alice, bob, carol = (chat.register(name) for name in ("alice", "bob", "carol"))
    data = os.urandom(SIZE)
    fid = upload(client, alice, data, "big.bin", filetype="application/octet-stream")["file"]["fid"]
    chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"attachment": fid}, 201)
    return alice, bob, carol, fid, data


def get(client, user, path: str, wanted: str | None, status: int):
    headers = {**user.headers, **({"Range": wanted} if wanted else {})}
    return client.get(path, headers=headers, status=status)


@pytest.mark.parametrize("wanted, start, end", [
    ("bytes=0-99", 0, 100),
    ("bytes=99990-100009", 99_990, 100_010),  # across the end of an uploaded PATCH
    ("bytes=262140-262149", 262_140, 262_150),  # across the end of a stored row
    ("bytes=250000-", 250_000, SIZE),
    ("bytes=-10", SIZE - 10, SIZE),
    ("bytes=-400000", 0, SIZE),  # a suffix longer than the file: all of it
    ("bytes=299999-400000", SIZE - 1, SIZE),  # an end past the file's: to its end
    ("bytes = 5 - 9", 5, 10),
])
def test_one_range_is_206_with_exactly_those_bytes(client, sent, wanted, start, end):
    alice, bob, carol, fid, data = sent
    response = get(client, bob, f"/api/files/{fid}", wanted, 206)
    assert response.body == data[start:end]
    assert response.headers["Content-Range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response.headers["Content-Length"] == str(end - start)
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Type"] == "application/octet-stream"  # still only a download


def test_a_download_broken_off_resumes_from_where_it_stopped(client, sent):
    alice, bob, carol, fid, data = sent
    whole = get(client, bob, f"/api/files/{fid}", None, 200)
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.body == data  # says a resume may be asked
    first = whole.body[:123_457]  # what arrived before the connection broke
    rest = get(client, bob, f"/api/files/{fid}", f"bytes={len(first)}-", 206).body
    assert hashlib.sha256(first + rest).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("wanted", ["bytes=0-1,5-6", "bytes=abc", "items=0-1", "bytes=9-2", "bytes=-", "bytes="])
def test_several_ranges_or_one_not_understood_get_the_whole_file(client, sent, wanted):
    alice, bob, carol, fid, data = sent
    response = get(client, bob, f"/api/files/{fid}", wanted, 200)
    assert response.body == data and "Content-Range" not in response.headers


@pytest.mark.parametrize("wanted", [f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 9}", "bytes=-0"])
def test_a_range_past_the_end_is_416_with_the_files_length(client, sent, wanted):
    alice, bob, carol, fid, data = sent
    response = get(client, bob, f"/api/files/{fid}", wanted, 416)
    assert response.json["error"]["code"] == "range_not_satisfiable"
    assert response.headers["Content-Range"] == f"bytes */{SIZE}"


def test_who_may_not_read_the_file_learns_nothing_by_a_range(client, sent):
    alice, bob, carol, fid, data = sent
    for wanted in ("bytes=0-9", f"bytes={SIZE}-"):
        assert get(client, carol, f"/api/files/{fid}", wanted, 404).json["error"]["code"] == "no_such_file"
    assert client.get(f"/api/files/{fid}", headers={"Range": "bytes=0-9"}, status=401)


def test_a_thumbnail_and_a_signed_link_serve_ranges_too(chat, client):
    alice, bob = chat.register("alice"), chat.register("bob")
    photo = image_bytes("PNG", (800, 600))
    fid = upload(client, alice, photo, "cat.png")["file"]["fid"]
    chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"attachment": fid}, 201)
    thumb = get(client, bob, f"/api/files/{fid}/thumb", None, 200).body
    part = get(client, bob, f"/api/files/{fid}/thumb", "bytes=4-11", 206)
    assert part.body == thumb[4:12] and part.headers["Content-Range"] == f"bytes 4-11/{len(thumb)}"
    link = chat.post(bob, "/api/files/links", {"fids": [fid]})["links"][str(fid)]
    signed = client.get(link["url"], headers={"Range": "bytes=-16"}, status=206)
    assert signed.body == photo[-16:]
