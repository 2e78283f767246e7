"""Recall (撤回) and edit (SPEC section 17, lecture 9): messages of their own kind through the one writer. The
content is erased on the server, every timeline the message reached gets a durable event (replayed on resume),
an unread badge it caused drops exactly (1:1, and groups with merging on and off), the rules hold under races,
and every refusal changes nothing."""
from __future__ import annotations

import json
import threading

import pytest
import webtest

from imdemo.app import create_app

from .conftest import Chat
from .test_groups import Groups, unread_in_database


class Signals:
    """The recall and edit routes, called as one user or another."""

    def __init__(self, chat: Chat):
        self.chat = chat

    def recall(self, user, cid: str, mid: int, status: int = 200, **body) -> dict:
        return self.chat.post(user, f"/api/conversations/{cid}/messages/{mid}/recall", body, status)

    def edit(self, user, cid: str, mid: int, content, status: int = 200, **body) -> dict:
        return self.chat.client.patch_json(f"/api/conversations/{cid}/messages/{mid}", {"content": content, **body},
                                           headers=user.headers, status=status).json


@pytest.fixture
def signals(chat) -> Signals:
    return Signals(chat)


@pytest.fixture
def pair(chat):
    return chat.register("alice", nickname="张三"), chat.register("bob", nickname="李四")


def content_row(app, mid: int) -> tuple:
    """(content, recalled_by, edited_at) of a content row, as stored."""
    return app.db.execute_sql("SELECT content, recalled_by, edited_at FROM im_msg_content WHERE mid = ?".replace(
        "?", app.db.param), (mid,)).fetchone()


def events(chat, user, since: int = 0) -> list[dict]:
    return chat.get(user, "/api/sync", since=since)["events"]


def test_a_recall_erases_the_content_and_every_timeline_gets_the_event(app, chat, signals, pair):
    alice, bob = pair
    sent = chat.send(alice, bob.uid, "sent by mistake")["message"]
    answer = signals.recall(alice, f"u{bob.uid}", sent["mid"])["message"]
    assert (answer["mid"], answer["content"], answer["recalled_by"]) == (sent["mid"], "", alice.uid)
    assert content_row(app, sent["mid"])[:2] == ("", alice.uid)  # who and when stay, the text is gone
    for user, other in ((alice, bob), (bob, alice)):
        history = chat.get(user, f"/api/conversations/u{other.uid}/messages")["messages"]
        assert [(m["mid"], m["content"], m.get("recalled_by")) for m in history] == [(sent["mid"], "", alice.uid)]
        recalled = [e for e in events(chat, user) if e["type"] == "recalled"]
        assert recalled == [{"type": "recalled", "seq": 2, "conversation": f"u{other.uid}", "mid": sent["mid"],
                             "by": alice.uid}]  # a seq of its own: a resumed client replays it
    assert "sent by mistake" not in str(chat.get(bob, "/api/contacts"))


def test_an_edit_puts_the_new_text_in_history_and_every_timeline_gets_it(app, chat, signals, pair):
    alice, bob = pair
    sent = chat.send(alice, bob.uid, "teh typo")["message"]
    edited = signals.edit(alice, f"u{bob.uid}", sent["mid"], "  the typo  ")["message"]
    assert (edited["content"], "edited_at" in edited) == ("the typo", True)
    assert chat.get(bob, f"/api/conversations/u{alice.uid}/messages")["messages"] == [edited]
    assert [e for e in events(chat, bob) if e["type"] == "edited"] == [{"type": "edited", "seq": 2, "message": edited}]
    assert chat.get(bob, "/api/unread")["total"] == 1  # an edit is never unread, nor a new message
    again = signals.edit(alice, f"u{bob.uid}", sent["mid"], "the fix, twice")["message"]
    signals.recall(alice, f"u{bob.uid}", sent["mid"])
    assert content_row(app, sent["mid"])[0] == ""
    stored = app.db.execute_sql("SELECT content FROM im_msg_content WHERE target_mid = ?".replace("?", app.db.param),
                                (sent["mid"],)).fetchall()
    assert stored and all(text == "" for (text,) in stored), "an edit's text is erased with the message"
    replayed = [e["message"] for e in events(chat, bob) if e["type"] == "edited"]
    assert replayed[-1]["mid"] == again["mid"] and replayed[-1]["content"] == ""  # the message as it stands now


def test_a_recalled_unread_message_no_longer_counts_in_a_1to1_chat(app, chat, signals, pair):
    alice, bob = pair
    first = chat.send(alice, bob.uid, "one")["message"]
    second = chat.send(alice, bob.uid, "two")["message"]
    assert chat.get(bob, "/api/unread") == {"total": 2, "conversations": {str(alice.uid): 2}, "groups": {}}
    signals.recall(alice, f"u{bob.uid}", second["mid"])
    assert chat.get(bob, "/api/unread") == {"total": 1, "conversations": {str(alice.uid): 1}, "groups": {}}
    assert [c["unread"] for c in chat.get(bob, "/api/contacts")["contacts"]] == [1]
    chat.post(bob, f"/api/conversations/u{alice.uid}/read", {"up_to": first["mid"]})
    assert chat.get(bob, "/api/unread")["total"] == 0
    signals.recall(alice, f"u{bob.uid}", first["mid"])  # read already: nothing to drop, nothing goes below 0
    assert chat.get(bob, "/api/unread")["total"] == 0


@pytest.fixture
def grouped(make_config):
    """An app with merging off (0) or on (an hour: flushed by hand), and a group of alice (its owner), bob and
    carol."""
    apps = []

    def build(merge_ms: float):
        app = create_app(make_config(unread_merge=merge_ms, inspect=True))
        apps.append(app)
        chat = Chat(webtest.TestApp(app.wsgi))
        alice, bob, carol = (chat.register(name) for name in ("alice", "bob", "carol"))
        gid = Groups(chat).create(alice, "g", [bob, carol])["gid"]
        return app, chat, (alice, bob, carol), gid
    yield build
    for app in apps:
        app.close()


def flush(app) -> None:
    merger = app.services.messages.writer.merger
    if merger is not None:
        merger.flush()


@pytest.mark.parametrize("merge_ms", [0, 3_600_000], ids=["counted in the commit", "merged"])
@pytest.mark.parametrize("flushed_first", [True, False], ids=["after its count", "before its count"])
def test_a_recalled_unread_group_message_no_longer_counts(grouped, merge_ms, flushed_first):
    app, chat, (alice, bob, carol), gid = grouped(merge_ms)
    groups, signals = Groups(chat), Signals(chat)
    groups.send(bob, gid, "stays")
    oops = groups.send(bob, gid, "oops")["message"]
    groups.read(alice, gid, up_to=oops["mid"])  # alice has read it: her count does not move
    if flushed_first:
        flush(app)
    signals.recall(bob, f"g{gid}", oops["mid"])
    flush(app)  # a merged change still on its way skips what the recall's recount covered
    assert chat.get(carol, "/api/unread") == {"total": 1, "conversations": {}, "groups": {str(gid): 1}}
    assert chat.get(alice, "/api/unread")["total"] == 0 and chat.get(bob, "/api/unread")["total"] == 0
    for user in (alice, bob, carol):
        assert chat.get(user, "/api/unread")["groups"] == unread_in_database(app, user.uid)
    state = chat.get(None, "/api/inspect/group", gid=gid)
    assert state["differences"] == [] and {u["uid"]: u["redis"] for u in state["unread"]} == {
        alice.uid: 0, bob.uid: 0, carol.uid: 1}


def test_a_groups_owner_recalls_any_message_at_any_time_and_only_its_holders_hear_of_it(make_config):
    app = create_app(make_config(recall_window=0))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        groups, signals = Groups(chat), Signals(chat)
        alice, bob, carol, dave = (chat.register(name) for name in ("alice", "bob", "carol", "dave"))
        gid = groups.create(alice, "g", [bob, carol])["gid"]
        spam = groups.send(bob, gid, "spam")["message"]
        groups.add(alice, gid, [dave])  # joined after it: dave never held it
        assert signals.recall(bob, f"g{gid}", spam["mid"], 403)["error"]["code"] == "too_late"
        assert signals.recall(alice, f"g{gid}", spam["mid"])["message"]["recalled_by"] == alice.uid
        for user in (alice, bob, carol):
            assert [e["mid"] for e in events(chat, user) if e["type"] == "recalled"] == [spam["mid"]]
        assert [e for e in events(chat, dave) if e["type"] == "recalled"] == []
        assert signals.recall(dave, f"g{gid}", spam["mid"], 404)["error"]["code"] == "no_such_message"
    finally:
        app.close()


def test_a_repeated_client_msg_id_recalls_once(app, chat, signals, pair):
    alice, bob = pair
    sent = chat.send(alice, bob.uid, "once")["message"]
    first = signals.recall(alice, f"u{bob.uid}", sent["mid"], client_msg_id="r-1")
    assert signals.recall(alice, f"u{bob.uid}", sent["mid"], client_msg_id="r-1") == first
    assert len([e for e in events(chat, bob) if e["type"] == "recalled"]) == 1
    other = chat.send(alice, bob.uid, "another")["message"]
    taken = signals.recall(alice, f"u{bob.uid}", other["mid"], 409, client_msg_id="r-1")
    assert taken["error"]["code"] == "client_msg_id_taken"
    assert content_row(app, other["mid"])[0] == "another"


def test_two_recalls_or_a_recall_and_an_edit_racing_resolve_once(app, chat, signals, pair):
    alice, bob = pair

    def call(method, path, body, statuses):
        statuses.append(chat.client.request(path, method=method, body=json.dumps(body).encode(), status="*",
                                            headers=alice.headers, content_type="application/json").status_int)
    for attempt in range(3):
        mid, statuses = chat.send(alice, bob.uid, f"race {attempt}")["message"]["mid"], []
        path = f"/api/conversations/u{bob.uid}/messages/{mid}"
        threads = [threading.Thread(target=call, args=args) for args in (
            ("POST", f"{path}/recall", {}, statuses), ("POST", f"{path}/recall", {}, statuses),
            ("PATCH", path, {"content": "edited"}, statuses))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # one recall wins; the edit wins too only if it came first
        assert sorted(statuses) in ([200, 200, 409], [200, 409, 409]), statuses
        recalls = [e for e in events(chat, bob) if e["type"] == "recalled" and e["mid"] == mid]
        assert len(recalls) == 1 and content_row(app, mid)[:2] == ("", alice.uid)


BAD = [  # (why, who acts, what, on which message, body, status, code)
    ("someone else's", "bob", "recall", "sent", {}, 403, "not_your_message"),
    ("someone else's", "bob", "edit", "sent", {"content": "mine now"}, 403, "not_your_message"),
    ("an empty edit", "alice", "edit", "sent", {"content": "  "}, 400, "invalid_content"),
    ("1,001 characters", "alice", "edit", "sent", {"content": "x" * 1001}, 400, "invalid_content"),
    ("no such message", "alice", "recall", "missing", {}, 404, "no_such_message"),
    ("a recall itself", "alice", "recall", "signal", {}, 404, "no_such_message"),
    ("a recalled one", "alice", "recall", "recalled", {}, 409, "already_recalled"),
    ("a recalled one", "alice", "edit", "recalled", {"content": "back"}, 409, "already_recalled"),
]


@pytest.mark.parametrize("why, who, action, target, body, status, code", BAD, ids=[f"{b[2]} {b[0]}" for b in BAD])
def test_a_refused_recall_or_edit_gets_its_error_and_changes_nothing(app, chat, signals, pair, why, who, action,
                                                                     target, body, status, code):
    alice, bob = pair
    sent = chat.send(alice, bob.uid, "the original")["message"]
    recalled = chat.send(alice, bob.uid, "recalled")["message"]
    signals.recall(alice, f"u{bob.uid}", recalled["mid"])
    signal = app.db.execute_sql("SELECT MAX(mid) FROM im_msg_content").fetchone()[0]  # the recall's own row
    mid = {"sent": sent["mid"], "missing": 10**9, "signal": signal, "recalled": recalled["mid"]}[target]
    user, peer = (alice, bob) if who == "alice" else (bob, alice)
    seen = (events(chat, alice), events(chat, bob), chat.get(bob, "/api/unread"), content_row(app, sent["mid"]),
            content_row(app, recalled["mid"]))
    if action == "recall":
        refused = signals.recall(user, f"u{peer.uid}", mid, status, **body)
    else:
        refused = signals.edit(user, f"u{peer.uid}", mid, body["content"], status)
    assert refused["error"]["code"] == code, refused
    assert seen == (events(chat, alice), events(chat, bob), chat.get(bob, "/api/unread"),
                    content_row(app, sent["mid"]), content_row(app, recalled["mid"]))


def test_a_recall_after_the_window_or_an_edit_after_a_day_is_too_late(make_config, monkeypatch):
    app = create_app(make_config(recall_window=0))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        signals = Signals(chat)
        alice, bob = chat.register("alice"), chat.register("bob")
        sent = chat.send(alice, bob.uid, "too late")["message"]
        assert signals.recall(alice, f"u{bob.uid}", sent["mid"], 403)["error"]["code"] == "too_late"
        monkeypatch.setattr("imdemo.services.signals.EDIT_WINDOW", 0)
        assert signals.edit(alice, f"u{bob.uid}", sent["mid"], "new", 403)["error"]["code"] == "too_late"
        assert content_row(app, sent["mid"]) == ("too late", None, None)
    finally:
        app.close()


def test_a_system_message_cannot_be_recalled(chat, signals):
    alice, bob = chat.register("alice"), chat.register("bob")
    gid = Groups(chat).create(alice, "g", [bob])["gid"]
    created = chat.get(alice, f"/api/conversations/g{gid}/messages")["messages"][0]
    assert signals.recall(alice, f"g{gid}", created["mid"], 403)["error"]["code"] == "not_changeable"


def test_the_inspector_shows_what_a_recall_wrote_and_moved(make_config):
    """The erased row, the recall's own rows in both timelines, the RECALLED row, the recount's script, and
    the state view's content row that keeps who recalled it and nothing of the text."""
    app = create_app(make_config(inspect=True))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice, bob = chat.register("alice"), chat.register("bob")
        sent = chat.send(alice, bob.uid, "a secret")["message"]
        seen = chat.get(None, "/api/inspect/actions")["next"]
        Signals(chat).recall(alice, f"u{bob.uid}", sent["mid"])
        actions = chat.get(None, "/api/inspect/actions", after=seen)["actions"]
        recall = next(a for a in actions if a["name"].endswith(f"/messages/{sent['mid']}/recall"))
        sql = [s["sql"] for s in recall["steps"] if s["kind"] == "sql"]
        assert any(s.startswith("UPDATE im_msg_content SET content = ''") for s in sql)  # the erased row
        assert any(s.startswith("INSERT INTO im_msg_relation") for s in sql)  # the recall in both timelines
        assert any(s.startswith("UPDATE im_msg_relation SET type = 3") for s in sql)  # no longer unread
        recount = next(s for s in recall["steps"] if s["kind"] == "lua" and s["script"] == "unread.set_conversation")
        prefix = app.config.redis_prefix
        assert (recount["before"][f"{prefix}{bob.uid}_T"], recount["after"][f"{prefix}{bob.uid}_T"]) == ("1", "0")
        state = chat.get(None, "/api/inspect/state", a=alice.uid, b=bob.uid)
        rows = {row["mid"]: row for row in state["tables"]["im_msg_content"]}
        assert (rows[sent["mid"]]["content"], rows[sent["mid"]]["recalled_by"]) == ("", alice.uid)
        assert [row["target_mid"] for row in rows.values() if row["msg_type"] == 10] == [sent["mid"]]
        assert state["differences"] == []
    finally:
        app.close()
