"""Schema: an imdemo.db written by the version before the conversation model (tests/data/imdemo-v2.sql,
dumped from bcf6a34: 1:1 chats and a group, a member who left, no conversation settings) opens, gains what
the models added (im_conversation_setting; large groups' im_group_timeline and im_group's storage columns;
search's index; media's im_blob, im_blob_chunk, im_upload, im_file, im_secret and im_msg_content's fid and
attachment; im_mention and the content row's target_mid, recalled_by, edited_at and mentions), keeps every
row, and goes on: the same unread counts, the same sessions, each user's seqs continued, muting works, an image
is uploaded and sent, and recall, edit and mentions work on the old messages."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import webtest

from .conftest import User
from .media import image_bytes, upload

V2_DUMP = Path(__file__).parent / "data" / "imdemo-v2.sql"
# Sessions opened by the version that wrote the dump (session_ttl of 100 years, so they stay valid).
V2_TOKENS = {1000: "P8j6z0hfXXO1zXstmTCKIMfFm3qCpR_CSbpKpN-DAWo", 1001: "kERC9dSElmteBNGe34xECV_nLV5UgtMsBCC3dJY6Yn8",
             1002: "RvMj4IgGMRxbSsZDZFKaj0VYx2zrzwt6ktU2I7XVpd8"}
TABLES = ("im_user", "im_msg_content", "im_msg_relation", "im_msg_contact", "im_group", "im_group_member", "im_session")


def _rows(path: Path, sql: str) -> list:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def upgraded(tmp_path, make_config):
    path = tmp_path / "imdemo.db"
    con = sqlite3.connect(path)
    con.executescript(V2_DUMP.read_text())
    con.close()
    before = {table: _rows(path, f"SELECT * FROM {table} ORDER BY 1, 2") for table in TABLES}
    assert "im_conversation_setting" not in {name for (name,) in _rows(path, "SELECT name FROM sqlite_master")}
    from imdemo.app import create_app

    app = create_app(make_config(database=f"sqlite:///{path}"))
    yield app, before, path
    app.close()


# added to im_msg_content, NULL in old rows: media's, then signals'
NEW_CONTENT_COLUMNS = ["fid", "attachment", "target_mid", "recalled_by", "edited_at", "mentions"]


def test_every_row_is_kept_and_the_new_tables_and_columns_are_added(upgraded):
    _, before, path = upgraded
    for table, old in before.items():  # each old row, its old columns first, the new ones after them
        width = len(old[0]) if old else 0
        assert [row[:width] for row in _rows(path, f"SELECT * FROM {table} ORDER BY 1, 2")] == old, table
    columns = [name for _, name, *_ in _rows(path, "PRAGMA table_info(im_msg_content)")]
    assert set(NEW_CONTENT_COLUMNS) <= set(columns)
    nulls = " AND ".join(f"{column} IS NULL" for column in NEW_CONTENT_COLUMNS)
    assert _rows(path, f"SELECT COUNT(*) FROM im_msg_content WHERE NOT ({nulls})") == [(0,)]
    indexes = {name for (name,) in _rows(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"im_msg_content_target_mid", "im_msg_content_fid"} <= indexes  # a recall's edits; a file's messages
    assert _rows(path, "SELECT COUNT(*) FROM im_conversation_setting") == [(0,)]
    assert _rows(path, "SELECT COUNT(*) FROM im_mention") == [(0,)]
    assert _rows(path, "SELECT COUNT(*) FROM im_group_timeline") == [(0,)]
    assert _rows(path, "SELECT gid, storage, counted, switched_mid FROM im_group") == [(1, 0, 0, None)]
    for table in ("im_blob", "im_blob_chunk", "im_upload", "im_file"):
        assert _rows(path, f"SELECT COUNT(*) FROM {table}") == [(0,)], table


def test_the_upgraded_database_answers_as_before_and_goes_on(upgraded):
    app, _, _ = upgraded
    chat = webtest.TestApp(app.wsgi)
    zhang, li, wang = (User(uid, V2_TOKENS[uid], name) for uid, name in ((1000, "zhangsan"), (1001, "lisi"),
                                                                         (1002, "wangwu")))
    assert chat.get("/api/unread", headers=zhang.headers).json == {
        "total": 4, "conversations": {"1001": 1, "1002": 1}, "groups": {"1": 2}}
    assert chat.get("/api/unread", headers=li.headers).json["groups"] == {"1": 1}
    history = chat.get("/api/conversations/g1/messages", headers=li.headers).json
    assert [m["content"] for m in history["messages"] if m["kind"] == "text"] == [
        "周六早上八点，地铁站见？", "好的！", "王五 left; still on?"]
    assert chat.get("/api/conversations/g1/messages", headers=wang.headers).json["messages"][-1]["event"]["type"] \
        == "left"  # the former member keeps what they had
    seq = chat.get("/api/contacts", headers=li.headers).json["seq"]
    sent = chat.post_json("/api/conversations/g1/messages", {"content": "after the upgrade"}, headers=li.headers,
                          status=201).json["message"]
    assert sent["gseq"] == history["messages"][-1]["gseq"] + 1
    events = chat.get("/api/sync", {"since": seq}, headers=li.headers).json["events"]
    assert [(e["seq"], e["message"]["mid"]) for e in events if e["type"] == "message"] == [(seq + 1, sent["mid"])]
    again = chat.post_json("/api/messages", {"to": 1000, "content": "王五 to 张三, unread", "client_msg_id": "v2-d1"},
                           headers=wang.headers, status=200).json["message"]  # idempotency survives
    assert again["content"] == "王五 to 张三, unread"
    assert chat.get("/api/groups/1", headers=li.headers).json["group"]["storage"] == "write"  # small, as it was
    chat.put_json("/api/conversations/g1/settings", {"muted": True}, headers=zhang.headers)
    muted = [c["muted"] for c in chat.get("/api/contacts", headers=zhang.headers).json["contacts"] if "group" in c]
    assert muted == [True]
    fid = upload(chat, li, image_bytes("PNG", (40, 30)), "after.png")["file"]["fid"]
    photo = chat.post_json("/api/conversations/g1/messages", {"attachment": fid}, headers=li.headers,
                           status=201).json["message"]
    assert (photo["kind"], photo["gseq"]) == ("image", sent["gseq"] + 1)
    assert chat.get(f"/api/files/{fid}/thumb", headers=zhang.headers).content_type == "image/webp"


def test_the_upgrade_creates_the_search_index_and_indexes_the_old_messages_once(upgraded):
    """A database from before search gains its index as it opens, holding each old text message (not the
    group's changes), and searching it keeps the join bounds: 王五 left before mid 8."""
    app, _, path = upgraded
    texts = [mid for (mid,) in _rows(path, "SELECT mid FROM im_msg_content WHERE msg_type = 0 ORDER BY mid")]
    assert [mid for (mid,) in _rows(path, "SELECT rowid FROM im_msg_search ORDER BY rowid")] == texts
    chat = webtest.TestApp(app.wsgi)
    zhang, li, wang = (User(uid, V2_TOKENS[uid], "") for uid in (1000, 1001, 1002))

    def found(user, q):
        return [r["message"]["mid"] for r in chat.get("/api/search", {"q": q}, headers=user.headers).json["results"]]
    assert found(li, "周六") == [5] and found(li, "地铁站") == [5]
    assert found(li, "left") == [8]  # "王五 left" (mid 7) is a system message
    assert found(wang, "好的") == [6] and found(wang, "still") == []  # said after he left
    assert found(zhang, "imdemo") == [1] and found(zhang, "张三") == [9, 2]
    assert found(wang, "imdemo") == []  # 张三 and 李四's chat
    from imdemo.app import create_app
    again = create_app(app.config)  # opened again: nothing is indexed twice
    try:
        assert [mid for (mid,) in _rows(path, "SELECT rowid FROM im_msg_search ORDER BY rowid")] == texts
    finally:
        again.close()


def test_an_old_message_is_recalled_edited_and_a_group_message_mentions_after_the_upgrade(upgraded):
    app, _, _ = upgraded
    chat = webtest.TestApp(app.wsgi)
    zhang, li = (User(uid, V2_TOKENS[uid], name) for uid, name in ((1000, "zhangsan"), (1001, "lisi")))
    unread = chat.get("/api/unread", headers=li.headers).json["groups"]["1"]
    history = chat.get("/api/conversations/g1/messages", headers=zhang.headers).json["messages"]
    old = [m for m in history if m["kind"] == "text"][-1]  # sent long ago, unread by 李四: the owner may recall it
    recalled = chat.post_json(f"/api/conversations/g1/messages/{old['mid']}/recall", {},
                              headers=zhang.headers).json["message"]
    assert (recalled["content"], recalled["recalled_by"]) == ("", 1000)
    assert chat.get("/api/unread", headers=li.headers).json["groups"].get("1", 0) == unread - 1
    theirs = next(m for m in history if m["from"] == 1002 and m["kind"] == "text")
    refused = chat.patch_json(f"/api/conversations/g1/messages/{theirs['mid']}", {"content": "new"},
                              headers=zhang.headers, status=403).json
    assert refused["error"]["code"] == "not_your_message"  # the owner recalls others' messages, never edits them
    chat.post_json("/api/conversations/g1/messages", {"content": "@李四", "mentions": [1001]}, headers=zhang.headers)
    contacts = chat.get("/api/contacts", headers=li.headers).json["contacts"]
    assert [c["mentioned"] for c in contacts if "group" in c] == [True]
