"""The search index is kept by the one writer (store/search.py): a text message's tokens are written in its
commit's transaction, a commit of several messages indexes them all, and recall (forget) and edit (replace),
each called inside the writer's commit of that change, take a message out or index its new text."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app
from imdemo.store.conversation import Conversation
from imdemo.store.database import write_transaction
from imdemo.store.message import Draft

from .conftest import Chat


def found(chat, user, q, **params) -> list[str]:
    return [r["message"]["content"] for r in chat.get(user, "/api/search", q=q, **params)["results"]]


@pytest.fixture
def pair(chat):
    return chat.register("alice"), chat.register("bob")


def test_forget_takes_a_recalled_message_out_of_every_result(app, chat, pair):
    alice, bob = pair
    keep = chat.send(alice, bob.uid, "你好，第一条")["message"]["mid"]
    gone = chat.send(alice, bob.uid, "你好，发错了")["message"]["mid"]
    index = app.services.search.index
    with write_transaction(app.db):  # as the recall's commit does, beside erasing the content
        index.forget(gone)
    for user in (alice, bob):
        assert found(chat, user, "你好") == ["你好，第一条"]
        assert found(chat, user, "发错") == []
    assert [r["message"]["mid"] for r in chat.get(alice, "/api/search", q="你好")["results"]] == [keep]


def test_replace_indexes_an_edited_message_by_its_new_text_only(app, chat, pair):
    alice, bob = pair
    mid = chat.send(alice, bob.uid, "明天八点见")["message"]["mid"]
    with write_transaction(app.db):  # as the edit's commit does
        app.services.search.index.replace(mid, "明天九点见 edited")
    assert found(chat, bob, "八点") == []
    assert [r["message"]["mid"] for r in chat.get(bob, "/api/search", q="九点")["results"]] == [mid]
    assert [r["message"]["mid"] for r in chat.get(bob, "/api/search", q="edited")["results"]] == [mid]
    in_chat = chat.get(bob, "/api/search", q="九点", conversation=f"u{alice.uid}")["results"]
    assert [r["message"]["mid"] for r in in_chat] == [mid]  # still in its conversation
    with write_transaction(app.db):
        app.services.search.index.replace(mid, "！！！")  # nothing searchable left: no row, nothing found
    assert found(chat, bob, "九点") == []
    assert app.db.execute_sql("SELECT COUNT(*) FROM im_msg_search").fetchone()[0] == 0


def test_the_index_row_is_written_in_the_message_commit_and_rolled_back_with_it(app, chat, pair):
    alice, bob = pair
    commit = app.services.messages.writer.commit
    with pytest.raises(RuntimeError), write_transaction(app.db):
        commit.messages([Draft(alice.uid, Conversation.direct(bob.uid), "回滚的消息")], set())
        raise RuntimeError("the commit fails after the message was written")
    assert found(chat, alice, "回滚") == []
    assert app.db.execute_sql("SELECT COUNT(*) FROM im_msg_search").fetchone()[0] == 0


def test_a_commit_of_several_messages_indexes_each(app, chat, pair):
    alice, bob = pair
    carol = chat.register("carol")
    gid = chat.post(alice, "/api/groups", {"name": "g", "members": [bob.uid]}, 201)["group"]["gid"]
    drafts = [Draft(alice.uid, Conversation.direct(bob.uid), "一起 one"),
              Draft(bob.uid, Conversation.group(gid), "一起 two"),
              Draft(carol.uid, Conversation.direct(alice.uid), "一起 three"),
              Draft(carol.uid, Conversation.group(gid), "一起 refused: carol is not a member")]
    with write_transaction(app.db):
        outcomes = app.services.messages.writer.commit.messages(drafts, set())
    assert isinstance(outcomes[-1], Exception)
    assert found(chat, alice, "一起") == ["一起 three", "一起 two", "一起 one"]
    assert found(chat, carol, "一起") == ["一起 three"]
    assert app.db.execute_sql("SELECT COUNT(*) FROM im_msg_search").fetchone()[0] == 3


def test_only_text_messages_are_indexed(app, chat, pair):
    alice, bob = pair
    gid = chat.post(alice, "/api/groups", {"name": "周末", "members": [bob.uid]}, 201)["group"]["gid"]
    chat.client.patch_json(f"/api/groups/{gid}", {"name": "周末爬山"}, headers=alice.headers)
    chat.post(bob, f"/api/groups/{gid}/messages", {"content": "周末见"}, 201)
    chat.send(alice, bob.uid, "周末好")
    texts = app.db.execute_sql("SELECT COUNT(*) FROM im_msg_content WHERE msg_type = 0").fetchone()[0]
    assert app.db.execute_sql("SELECT COUNT(*) FROM im_msg_search").fetchone()[0] == texts == 2
    assert found(chat, alice, "周末") == ["周末好", "周末见"]  # not "alice renamed the group 周末爬山"


def test_the_inspector_shows_the_index_row_a_send_writes(make_config):
    app = create_app(make_config(inspect=True))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice, bob = chat.register("alice"), chat.register("bob")
        seen = chat.get(None, "/api/inspect/actions")["next"]
        mid = chat.send(alice, bob.uid, "你好 Hello")["message"]["mid"]
        actions = chat.get(None, "/api/inspect/actions", after=seen)["actions"]
        send = next(a for a in actions if a["name"] == "POST /api/messages")
        sql = [s for s in send["steps"] if s["kind"] == "sql"]
        row = next(s for s in sql if s["sql"].startswith("INSERT INTO im_msg_search"))
        assert row["params"][0] == mid
        pair = f"§u{alice.uid}u{bob.uid}"  # the conversation's own token, after the text's
        assert row["params"][1] in (f"你好 你 好 hello {pair}", f"'你好':1 '你':2 '好':3 'hello':4 '{pair}':5")
        tables = [s["sql"].split()[2] for s in sql if s["sql"].startswith("INSERT")]
        assert tables.index("im_msg_search") > tables.index("im_msg_relation")  # in the same commit
    finally:
        app.close()


def test_a_database_without_the_index_gets_it_with_its_text_messages_at_the_next_start(make_config):
    """The upgrade path on either database: the index is made and every text message indexed, once."""
    app = create_app(make_config())
    chat = Chat(webtest.TestApp(app.wsgi))
    alice, bob = chat.register("alice"), chat.register("bob")
    sent = [chat.send(alice, bob.uid, text)["message"]["mid"] for text in ("升级之前 one", "升级之前 two", "！！！")]
    chat.post(alice, "/api/groups", {"name": "升级之前", "members": [bob.uid]}, 201)
    app.db.execute_sql("DROP TABLE im_msg_search")  # as a database written before search
    app.close()
    app = create_app(make_config())
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        assert [r["message"]["mid"] for r in chat.get(bob, "/api/search", q="升级")["results"]] == sent[1::-1]
        assert app.db.execute_sql("SELECT COUNT(*) FROM im_msg_search").fetchone()[0] == 2  # "！！！": nothing to find
    finally:
        app.close()
