"""Schema: an imdemo.db written by the version before the conversation model (tests/data/imdemo-v2.sql,
dumped from bcf6a34: 1:1 chats and a group, a member who left, no conversation settings) opens, gains what
the models added (im_conversation_setting), keeps every row, and goes on: the same unread counts, the same
sessions, each user's seqs continued, muting works."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import webtest

from .conftest import User

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


def test_every_row_is_kept_and_the_new_tables_and_columns_are_added(upgraded):
    _, before, path = upgraded
    for table, old in before.items():
        width = len(old[0]) if old else 0
        assert [row[:width] for row in _rows(path, f"SELECT * FROM {table} ORDER BY 1, 2")] == old, table
    assert _rows(path, "SELECT COUNT(*) FROM im_conversation_setting") == [(0,)]
    assert _rows(path, "SELECT COUNT(*) FROM im_group_timeline") == [(0,)]
    assert _rows(path, "SELECT gid, storage, text_count, switched_mid FROM im_group") == [(1, 0, 0, None)]


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
