"""Schema: an imdemo.db written by the previous version (tests/data/imdemo-v1.sql, dumped from the version
before groups) opens, is upgraded in place, and keeps every user, message, counter and session."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import webtest

from imdemo.app import create_app

from .conftest import User

V1_DUMP = Path(__file__).parent / "data" / "imdemo-v1.sql"
# Sessions opened by the version that wrote the dump (session_ttl of 100 years, so they stay valid).
V1_TOKENS = {1000: "XuJPxIlC-GBsXcoSi3IOaLPmRE6wARqHJa1wqhho_l0", 1001: "KY7kpYakOANTBsrIaG3XXmrFyfoJhGSkYdLGF0RNZ60"}


@pytest.fixture
def old_database(tmp_path) -> str:
    """A SQLite file exactly as the previous version left it."""
    path = tmp_path / "imdemo.db"
    con = sqlite3.connect(path)
    con.executescript(V1_DUMP.read_text())
    con.close()
    return f"sqlite:///{path}"


def columns(url: str, table: str) -> set[str]:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}
    finally:
        con.close()


def rows(url: str, sql: str) -> list:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def upgraded(old_database, make_config):
    before = {table: rows(old_database, f"SELECT * FROM {table} ORDER BY 1, 2")
              for table in ("im_user", "im_msg_content", "im_msg_relation", "im_msg_contact", "im_session")}
    app = create_app(make_config(database=old_database))
    yield app, before, old_database
    app.close()


def test_every_old_row_is_kept_with_its_values(upgraded):
    _, before, url = upgraded
    for table, old_rows in before.items():
        old_columns = len(old_rows[0])
        now = rows(url, f"SELECT * FROM {table} ORDER BY 1, 2")
        assert [row[:old_columns] for row in now] == old_rows, table


def test_old_sessions_messages_and_counters_work_after_the_upgrade(upgraded):
    app, _, _ = upgraded
    chat = webtest.TestApp(app.wsgi)
    zhangsan, lisi = User(1000, V1_TOKENS[1000], "zhangsan"), User(1001, V1_TOKENS[1001], "lisi")
    assert chat.get("/api/me", headers=zhangsan.headers).json["user"]["nickname"] == "张三"
    unread = chat.get("/api/unread", headers=zhangsan.headers).json
    assert unread["total"] == 4 and unread["conversations"] == {"1001": 2, "1002": 2}
    assert chat.get("/api/unread", headers=lisi.headers).json["total"] == 0
    history = chat.get("/api/conversations/1001/messages", headers=zhangsan.headers).json["messages"]
    assert [m["from"] for m in history] == [1000, 1001, 1000, 1001]
    assert history[0]["content"].startswith("Hi 李四") and history[-1]["content"] == "李四 to 张三: unread one"
    again = chat.post_json("/api/messages", {"to": 1000, "content": "again", "client_msg_id": "v1-a"},
                           headers=lisi.headers, status=200).json["message"]  # idempotency survives
    assert again["mid"] == history[-1]["mid"]
    new = chat.post_json("/api/messages", {"to": 1000, "content": "after the upgrade"}, headers=lisi.headers,
                         status=201).json["message"]
    events = chat.get("/api/sync", {"since": 0}, headers=zhangsan.headers).json["events"]
    seqs = [e["seq"] for e in events if e["type"] == "message"]
    assert seqs == list(range(1, len(seqs) + 1)) and events[-1]["message"]["mid"] == new["mid"]  # gapless
    assert chat.get("/api/unread", headers=zhangsan.headers).json["total"] == 5


def test_an_upgraded_database_opens_again_unchanged(upgraded, make_config):
    app, _, url = upgraded
    schema = rows(url, "SELECT name, sql FROM sqlite_master ORDER BY name")
    app.close()
    again = create_app(make_config(database=url))
    again.close()
    assert rows(url, "SELECT name, sql FROM sqlite_master ORDER BY name") == schema


def test_delivered_marks_are_added_at_0_and_move_after_the_upgrade(upgraded):
    app, _, url = upgraded
    assert "delivered_mid" in columns(url, "im_msg_contact")
    assert rows(url, "SELECT DISTINCT delivered_mid FROM im_msg_contact") == [(0,)]
    chat = webtest.TestApp(app.wsgi)
    zhangsan, lisi = User(1000, V1_TOKENS[1000], "zhangsan"), User(1001, V1_TOKENS[1001], "lisi")
    newest = chat.get("/api/sync", {"since": 0}, headers=zhangsan.headers).json["next"]
    chat.get("/api/sync", {"since": newest}, headers=zhangsan.headers)  # zhangsan's client holds it all
    history = chat.get("/api/conversations/1000/messages", headers=lisi.headers).json
    from_lisi = max(m["mid"] for m in history["messages"] if m["from"] == 1001)
    assert history["peer_read_mid"] < from_lisi == history["peer_delivered_mid"]
    contact = next(c for c in chat.get("/api/contacts", headers=lisi.headers).json["contacts"]
                   if c["user"]["uid"] == 1000)
    assert contact["peer_delivered_mid"] == from_lisi


def test_groups_are_added_and_work_on_an_upgraded_database(upgraded):
    app, _, url = upgraded
    assert {"gseq", "event"} <= columns(url, "im_msg_content")
    assert rows(url, "SELECT COUNT(*) FROM im_msg_content WHERE gseq IS NOT NULL OR event IS NOT NULL") == [(0,)]
    assert {"gid", "name", "owner_uid", "gseq", "last_mid", "member_count"} <= columns(url, "im_group")
    assert {"gid", "uid", "role", "joined_mid", "left_mid", "read_mid"} <= columns(url, "im_group_member")
    chat = webtest.TestApp(app.wsgi)
    zhangsan, lisi = User(1000, V1_TOKENS[1000], "zhangsan"), User(1001, V1_TOKENS[1001], "lisi")
    before = chat.get("/api/sync", {"since": 0}, headers=lisi.headers).json["next"]
    gid = chat.post_json("/api/groups", {"name": "老朋友", "members": [1001, 1002]},
                         headers=zhangsan.headers, status=201).json["group"]["gid"]
    chat.post_json(f"/api/groups/{gid}/messages", {"content": "升级之后"}, headers=zhangsan.headers, status=201)
    events = chat.get("/api/sync", {"since": before}, headers=lisi.headers).json["events"]
    assert [e["seq"] for e in events if e["type"] == "message"] == [before + 1, before + 2]  # her seqs go on
    unread = chat.get("/api/unread", headers=lisi.headers).json
    assert unread["groups"] == {str(gid): 1} and unread["total"] == 1
    kinds = [("group" in c) for c in chat.get("/api/contacts", headers=lisi.headers).json["contacts"]]
    assert kinds == [True, False]  # the group, newest, beside her old conversation with zhangsan
