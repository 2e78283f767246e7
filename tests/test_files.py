"""Files (SPEC section 16): a message carries one by its fid through every send route and frame; it may be read
by its uploader and by whoever may see a message carrying it (join bounds applied), by token or by a short-lived
signed link, and by nobody else (404, the thumbnail and links too); 秒传 gives a file by its hash only to who may
already read it; what is not an image is only ever a download."""
from __future__ import annotations

import pytest

from .media import create, image_bytes, patch, sha256, upload


@pytest.fixture
def people(chat):
    return [chat.register(name) for name in ("alice", "bob", "carol", "dave")]


def _photo_sent(chat, client, alice, bob, **extra) -> dict:
    photo = image_bytes("PNG", (800, 600))
    fid = upload(client, alice, photo, "cat.png")["file"]["fid"]
    return chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"attachment": fid, **extra}, 201)["message"]


def test_a_message_carries_an_image_to_the_other_users_history_and_sync(chat, client, people):
    alice, bob, *_ = people
    message = _photo_sent(chat, client, alice, bob, content="  look  ", client_msg_id="m1")
    fid = message["attachment"]["fid"]
    assert (message["kind"], message["content"]) == ("image", "look")
    assert message["attachment"] == {"fid": fid, "name": "cat.png", "size": message["attachment"]["size"],
                                     "mime": "image/png", "kind": "image", "width": 800, "height": 600,
                                     "url": f"/api/files/{fid}", "thumb_url": f"/api/files/{fid}/thumb"}
    assert chat.get(bob, f"/api/conversations/u{alice.uid}/messages")["messages"] == [message]
    events = chat.get(bob, "/api/sync", since=0)["events"]
    assert [e["message"] for e in events if e["type"] == "message"] == [message]
    assert chat.get(bob, "/api/unread")["total"] == 1  # a media message is unread like any other
    again = chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"attachment": fid, "client_msg_id": "m1"})
    assert again["message"] == message  # a retried send stores nothing
    assert client.get(f"/api/files/{fid}", headers=bob.headers).content_type == "image/png"
    assert client.get(f"/api/files/{fid}/thumb", headers=bob.headers).content_type == "image/webp"


def test_nobody_else_reads_a_file_not_by_id_thumbnail_link_or_attachment(chat, client, people):
    alice, bob, carol, _ = people
    fid = _photo_sent(chat, client, alice, bob)["attachment"]["fid"]
    for path in (f"/api/files/{fid}", f"/api/files/{fid}/thumb", "/api/files/999"):
        assert client.get(path, headers=carol.headers, status=404).json["error"]["code"] == "no_such_file"
    assert chat.post(carol, "/api/files/links", {"fids": [fid]}, 404)["error"]["code"] == "no_such_file"
    refused = chat.post(carol, f"/api/conversations/u{bob.uid}/messages", {"attachment": fid}, 404)
    assert refused["error"]["code"] == "no_such_file"
    assert chat.get(bob, f"/api/conversations/u{carol.uid}/messages")["messages"] == []
    client.get(f"/api/files/{fid}", status=401)  # no token, no link


def test_forwarding_a_file_one_may_read_lets_the_new_recipient_read_it(chat, client, people):
    alice, bob, carol, _ = people
    fid = _photo_sent(chat, client, alice, bob)["attachment"]["fid"]
    client.get(f"/api/files/{fid}", headers=carol.headers, status=404)
    chat.post(bob, f"/api/conversations/u{carol.uid}/messages", {"attachment": fid}, 201)
    assert client.get(f"/api/files/{fid}", headers=carol.headers).status_int == 200


@pytest.mark.parametrize("large", [False, True], ids=["write diffusion", "read diffusion"])
def test_a_group_member_reads_what_was_sent_after_they_joined_only(chat, client, people, large):
    """In a small group a member sees a message by their own timeline's row; in a large group (read diffusion)
    by the group's timeline within their join bounds: the same files either way."""
    alice, bob, carol, dave = people
    body = {"name": "g", "members": [bob.uid, carol.uid], "large": large}
    gid = chat.post(alice, "/api/groups", body, 201)["group"]["gid"]
    before = upload(client, alice, image_bytes("JPEG", (64, 64)), "before.jpg")["file"]["fid"]
    chat.post(alice, f"/api/conversations/g{gid}/messages", {"attachment": before}, 201)
    chat.post(alice, f"/api/groups/{gid}/members", {"uids": [dave.uid]})
    after = upload(client, alice, b"%PDF-1.4 minutes", "minutes.pdf")["file"]["fid"]
    chat.post(carol, f"/api/conversations/g{gid}/messages", {"attachment": after}, 404)  # not hers yet
    chat.post(alice, f"/api/conversations/g{gid}/messages", {"attachment": after, "content": "minutes"}, 201)
    assert client.get(f"/api/files/{before}", headers=carol.headers).status_int == 200
    client.get(f"/api/files/{before}", headers=dave.headers, status=404)  # before dave joined: not his
    client.get(f"/api/files/{before}/thumb", headers=dave.headers, status=404)
    assert client.get(f"/api/files/{after}", headers=dave.headers).status_int == 200
    client.delete(f"/api/groups/{gid}/members/{carol.uid}", headers=carol.headers, status=204)
    later = upload(client, alice, b"%PDF-1.4 later", "later.pdf")["file"]["fid"]
    chat.post(alice, f"/api/conversations/g{gid}/messages", {"attachment": later}, 201)
    assert client.get(f"/api/files/{after}", headers=carol.headers).status_int == 200  # what she had, she keeps
    client.get(f"/api/files/{later}", headers=carol.headers, status=404)  # after she left: not hers


def test_signed_links_need_no_header_and_refuse_tampering_and_expiry(app, chat, client, people):
    alice, bob, *_ = people
    fid = _photo_sent(chat, client, alice, bob)["attachment"]["fid"]
    link = chat.post(bob, "/api/files/links", {"fids": [fid]})["links"][str(fid)]
    assert client.get(link["url"]).content_type == "image/png"
    assert client.get(link["thumb_url"]).content_type == "image/webp"
    flipped = link["url"][:-1] + ("1" if link["url"].endswith("0") else "0")  # one hex digit of the signature
    tampered = [link["url"].replace(f"/files/{fid}?", f"/files/{fid + 1}?"), flipped,
                link["url"].replace("expires=", "expires=1"), link["thumb_url"].replace("/thumb", "")]
    for url in tampered:
        assert client.get(url, status=403).json["error"]["code"] == "invalid_link", url
    real_clock = app.services.files.clock
    app.services.files.clock = lambda: real_clock() - 3600
    old = chat.post(bob, "/api/files/links", {"fids": [fid]})["links"][str(fid)]
    app.services.files.clock = real_clock
    assert client.get(old["url"], status=403).json["error"]["code"] == "link_expired"


def test_instant_send_gives_a_file_only_to_who_may_already_read_it(app, chat, client, people):
    alice, bob, carol, _ = people
    photo = image_bytes("PNG", (800, 600))
    fid = upload(client, alice, photo, "cat.png")["file"]["fid"]
    content = {"sha256": sha256(photo), "size": len(photo)}
    assert chat.post(alice, "/api/files/check", content)["file"]["fid"] == fid  # she uploaded it
    assert chat.post(bob, "/api/files/check", content) == {"file": None}  # exists, but not his: send the bytes
    chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"attachment": fid}, 201)
    assert chat.post(bob, "/api/files/check", content)["file"]["fid"] == fid  # now he sees it in a message
    assert chat.post(carol, "/api/files/check", content) == {"file": None}
    assert chat.post(carol, "/api/files/check", {**content, "sha256": "0" * 64}) == {"file": None}
    chunks = app.db.execute_sql("SELECT COUNT(*) FROM im_blob_chunk").fetchone()[0]
    own = upload(client, carol, photo, "same.png")["file"]  # carol sends the bytes: a file of her own...
    assert own["fid"] != fid and own["size"] == chat.post(alice, "/api/files/check", content)["file"]["size"]
    assert app.db.execute_sql("SELECT COUNT(*) FROM im_blob_chunk").fetchone()[0] == chunks  # ...stored once


@pytest.mark.parametrize("data, mime", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "image/svg+xml"),
    (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "text/html"),
    (b"GIF89a<html><script>alert(1)</script></html>", "text/plain"),
])
def test_html_or_svg_posing_as_an_image_is_only_a_download(chat, client, people, data, mime):
    alice, bob, *_ = people
    file = upload(client, alice, data, "innocent.png", filetype="image/png")["file"]
    assert (file["kind"], file["mime"]) == ("file", mime)
    sent = chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"attachment": file["fid"]}, 201)["message"]
    assert sent["kind"] == "file" and "thumb_url" not in sent["attachment"]
    served = client.get(f"/api/files/{file['fid']}", headers=bob.headers)
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.body == data
    client.get(f"/api/files/{file['fid']}/thumb", headers=bob.headers, status=404)


def test_a_corrupt_image_is_422_and_nothing_is_stored(app, client, people):
    alice = people[0]
    broken = image_bytes("JPEG", (800, 600))[:2000]
    location = create(client, alice, broken, "broken.jpg").headers["Location"]
    refused = patch(client, alice, location, 0, broken, status=422)
    assert refused.json["error"]["code"] == "corrupt_image"
    counts = [app.db.execute_sql(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("im_upload", "im_file",
                                                                                         "im_blob_chunk")]
    assert counts == [0, 0, 0]
    assert upload(client, alice, image_bytes("JPEG"), "fine.jpg")["file"]["kind"] == "image"  # still serving


def test_a_websocket_send_frame_carries_an_attachment(server):
    from .helpers import WsClient
    app, http = server
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (alice, alice_token), (bob, _) = http.login("alice"), http.login("bob")
    files = app.services
    made = files.uploads.create(alice, 5, {"filename": "a.txt", "sha256": sha256(b"hello")})
    files.uploads.append(alice, made.upload_id, 0, _Body(b"hello"), 5)
    fid = files.uploads.status(alice, made.upload_id)["file"]["fid"]
    ws = WsClient(http.base.replace("http", "ws").rsplit(":", 1)[0] + f":{app.config.websocket_port}/")
    try:
        ws.hello(alice_token)
        ws.send({"type": "send", "conversation": f"u{bob}", "attachment": fid, "client_msg_id": "w1"})
        sent = ws.recv_until(lambda f: f.get("type") == "sent")[-1]["message"]
        assert (sent["kind"], sent["attachment"]["name"], sent["attachment"]["mime"]) == ("file", "a.txt", "text/plain")
    finally:
        ws.close()


class _Body:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, size: int) -> bytes:
        piece, self.data = self.data[:size], self.data[size:]
        return piece


def test_the_inspector_shows_chunks_the_file_its_messages_and_why_a_shortcut_was_given(make_config):
    import webtest

    from imdemo.app import create_app

    from .conftest import Chat
    app = create_app(make_config(inspect=True))
    try:
        client = webtest.TestApp(app.wsgi)
        chat = Chat(client)
        alice, bob, carol = (chat.register(name) for name in ("alice", "bob", "carol"))
        client.get("/api/inspect/actions")  # someone looks: actions are recorded
        photo = image_bytes("PNG", (300, 200), noise=True)
        fid = upload(client, alice, photo, "noise.png", chunk=150_000)["file"]["fid"]
        chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"attachment": fid}, 201)
        for who in (bob, carol):
            chat.post(who, "/api/files/check", {"sha256": sha256(photo), "size": len(photo)})
        actions = client.get("/api/inspect/actions").json["actions"]
        patches = [a for a in actions if a["name"].startswith("PATCH /api/uploads/")]
        chunk_rows = [s for a in patches for s in a["steps"] if "INSERT INTO im_blob_chunk" in s["sql"]]
        assert chunk_rows and all("bytes›" in str(s["params"]) for s in chunk_rows)  # never the bytes themselves
        assert "re-encoded without its metadata" in patches[-1]["info"]["found"]
        checks = [a["info"]["instant"] for a in actions if a["name"] == "POST /api/files/check"]
        assert checks[0].startswith(f"given at once: {bob.uid} may see message")
        assert checks[1].startswith("no shortcut: 1 file(s) have these bytes") and str(carol.uid) in checks[1]
        (shown,) = client.get("/api/inspect/uploads").json["uploads"]
        assert shown["im_upload"][0]["offset"] == len(photo) and shown["im_file"][0]["fid"] == fid
        assert sum(c["length"] for c in shown["im_blob_chunk"]) == shown["im_file"][0]["size"]
        assert [m["sender_id"] for m in shown["im_msg_content"]] == [alice.uid]
    finally:
        app.close()


def test_a_picture_in_a_large_group_is_unread_like_a_text(chat, client, people):
    """Read diffusion counts every message but the group's changes (N - L): a picture or a file too."""
    alice, bob, carol, _ = people
    gid = chat.post(alice, "/api/groups", {"name": "big", "members": [bob.uid, carol.uid], "large": True},
                    201)["group"]["gid"]
    fid = upload(client, alice, image_bytes("PNG", (40, 30)), "p.png")["file"]["fid"]
    chat.post(alice, f"/api/conversations/g{gid}/messages", {"attachment": fid}, 201)
    doc = upload(client, bob, b"%PDF-1.4 notes", "notes.pdf")["file"]["fid"]
    chat.post(bob, f"/api/conversations/g{gid}/messages", {"attachment": doc, "content": "notes"}, 201)
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 2}
    assert chat.get(alice, "/api/unread")["groups"] == {str(gid): 1}  # bob's file; her own picture never
    assert chat.get(bob, "/api/unread")["groups"] == {str(gid): 0}  # sending read what came before
