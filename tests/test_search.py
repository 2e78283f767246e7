"""Search (SPEC section 17, GET /api/search): the text messages the caller may see, newest first, with the match
marked. The table of queries runs on whichever database the suite runs on (SQLite, and PostgreSQL in the
real-backend pass), with the same expected answers: the same queries give the same answers on both."""
from __future__ import annotations

import pytest

from .conftest import Chat


@pytest.fixture
def world(chat: Chat):
    """alice, bob, carol and dave; 1:1 chats; a group of alice and bob that carol joins later and bob leaves.
    Returns the users, the group's gid and {name: mid} of the messages."""
    alice, bob, carol, dave = (chat.register(n) for n in ("alice", "bob", "carol", "dave"))
    mids = {}

    def say(key, user, content, to=None, gid=None):
        if gid is None:
            mids[key] = chat.send(user, to.uid, content)["message"]["mid"]
        else:
            path = f"/api/conversations/g{gid}/messages"
            mids[key] = chat.post(user, path, {"content": content}, 201)["message"]["mid"]

    say("a-b", alice, "你好，明天见 Hello world", to=bob)
    say("b-a", bob, "张三说你好吗", to=alice)
    say("c-b", carol, "你好 bob, from carol", to=bob)
    gid = chat.post(alice, "/api/groups", {"name": "爬山", "members": [bob.uid]}, 201)["group"]["gid"]
    say("g-bob", bob, "群里你好", gid=gid)
    chat.post(alice, f"/api/groups/{gid}/members", {"uids": [carol.uid]})
    say("g-carol", carol, "我是新来的，你好 everyone", gid=gid)
    chat.client.delete(f"/api/groups/{gid}/members/{bob.uid}", headers=bob.headers, status=204)
    say("g-alice", alice, "Bob 走了，你好吗？", gid=gid)
    say("syntax", alice, "Pick 1 or 2, NEAR the AND gate *", to=dave)
    return {"alice": alice, "bob": bob, "carol": carol, "dave": dave}, gid, mids


def search(chat, user, status=200, **params) -> dict:
    return chat.get(user, "/api/search", status=status, **params)


def found(chat, user, **params) -> list[int]:
    return [r["message"]["mid"] for r in search(chat, user, **params)["results"]]


# (who, q, the messages found, newest first): one table, the same answers on SQLite and PostgreSQL
QUERIES = [
    ("alice", "你好", ["g-alice", "g-carol", "g-bob", "b-a", "a-b"]),  # two characters, inside sentences
    ("carol", "你好", ["g-alice", "g-carol", "c-b"]),  # not the group's messages from before she joined
    ("bob", "你好", ["g-carol", "g-bob", "c-b", "b-a", "a-b"]),  # a former member keeps what he had, no more
    ("dave", "你好", []),  # never another user's 1:1 chats or a group he is not in
    ("alice", "张", ["b-a"]), ("alice", "好", ["g-alice", "g-carol", "g-bob", "b-a", "a-b"]),  # one character
    ("alice", "你好吗", ["g-alice", "b-a"]),  # three: a substring, not any two pairs apart
    ("alice", "hello", ["a-b"]), ("alice", "WORLD Hello", ["a-b"]),  # words, any case, every one
    ("alice", "明天 hello", ["a-b"]), ("alice", "明天 bob", []),
    ("alice", "bob", ["g-alice"]), ("bob", "bob", ["c-b"]),
    ("alice", "爬山", []), ("alice", "added", []),  # system messages (the group's changes) are not results
    ("alice", "every", []),  # a word matches whole words, not the start of one
    ("alice", '" OR 1=1 --', ["syntax"]), ("alice", "NEAR(", ["syntax"]), ("alice", "AND", ["syntax"]),
    ("alice", "*", []), ("alice", "'; DROP TABLE im_msg_content; --", []),  # text, never syntax
    ("dave", "or 1", ["syntax"]),
]


def test_a_table_of_queries_finds_what_each_user_may_see_newest_first(chat, world):
    users, _, mids = world
    for who, q, expected in QUERIES:
        assert found(chat, users[who], q=q) == [mids[key] for key in expected], (who, q)


def test_each_result_names_its_conversation_and_marks_the_match_in_a_snippet(chat, world):
    users, gid, mids = world
    results = search(chat, users["alice"], q="你好")["results"]
    assert [r["conversation"] for r in results] == [f"g{gid}", f"g{gid}", f"g{gid}", f"u{users['bob'].uid}",
                                                    f"u{users['bob'].uid}"]
    assert results[-1]["message"]["content"] == "你好，明天见 Hello world"
    assert results[-1]["snippet"] == [{"text": "你好", "match": True}, {"text": "，明天见 Hello world", "match": False}]
    long = "开头" + "很长的一段话，" * 20 + "终于说到了关键词 needle，然后" + "又说了很多，" * 20
    chat.send(users["alice"], users["bob"].uid, long)
    snippet = search(chat, users["alice"], q="needle")["results"][0]["snippet"]
    assert snippet[0] == {"text": "…", "match": False} and snippet[-1] == {"text": "…", "match": False}
    assert [p["text"] for p in snippet if p["match"]] == ["needle"]
    assert sum(len(p["text"]) for p in snippet) <= 82  # 80 characters and the two ellipses
    assert search(chat, users["alice"], q="needle")["terms"] == ["needle"]


def test_the_conversation_token_of_the_index_is_never_a_users_query(chat, world):
    users, gid, _ = world
    alice, bob = users["alice"], users["bob"]
    for q in (f"§u{alice.uid}u{bob.uid}", f"u{alice.uid}u{bob.uid}", f"§g{gid}", "§"):
        assert found(chat, alice, q=q) == [], q


def test_pages_go_back_by_the_before_cursor_with_nothing_missed_or_repeated(chat, world):
    users, _, _ = world
    sent = [chat.send(users["alice"], users["bob"].uid, f"ping {i}")["message"]["mid"] for i in range(25)]
    seen, before = [], None
    while True:
        params = {"q": "ping", "limit": 10, **({"before": before} if before else {})}
        page = search(chat, users["alice"], **params)
        seen += [r["message"]["mid"] for r in page["results"]]
        if not page["has_more"]:
            assert page["next_before"] is None
            break
        before = page["next_before"]
        assert before == seen[-1]
    assert seen == sorted(sent, reverse=True)


def test_conversation_narrows_to_one_conversation_the_caller_may_see(chat, world):
    users, gid, mids = world
    alice, bob, dave = users["alice"], users["bob"], users["dave"]
    assert found(chat, alice, q="你好", conversation=f"g{gid}") == [mids[k] for k in ("g-alice", "g-carol", "g-bob")]
    assert found(chat, alice, q="你好", conversation=f"u{bob.uid}") == [mids["b-a"], mids["a-b"]]
    assert found(chat, bob, q="你好", conversation=f"g{gid}") == [mids["g-carol"], mids["g-bob"]]  # former member
    assert found(chat, alice, q="你好", conversation=f"u{dave.uid}") == []


@pytest.mark.parametrize("conversation, status, code", [
    ("g999", 404, "no_such_group"), ("u999999", 404, "no_such_user"), ("g{gid}", 404, "no_such_group"),
    ("x1", 400, "invalid_conversation"), ("1001", 400, "invalid_conversation"), ("g0", 400, "invalid_conversation"),
])
def test_a_conversation_the_caller_cannot_see_is_404_as_history(chat, world, conversation, status, code):
    users, gid, _ = world
    dave = users["dave"]  # never in the group: it does not exist for him
    answer = search(chat, dave, status=status, q="你好", conversation=conversation.format(gid=gid))
    assert answer["error"]["code"] == code
    history = f"/api/conversations/{conversation.format(gid=gid)}/messages"
    if status == 404:
        assert chat.get(dave, history, status=404)["error"]["code"] == code


@pytest.mark.parametrize("params, code", [
    ({}, "invalid_q"), ({"q": ""}, "invalid_q"), ({"q": " \t "}, "invalid_q"), ({"q": "x" * 200}, "invalid_q"),
    ({"q": "你" * 101}, "invalid_q"), ({"q": "a", "limit": 0}, "invalid_limit"),
    ({"q": "a", "limit": 51}, "invalid_limit"), ({"q": "a", "limit": "x"}, "invalid_limit"),
    ({"q": "a", "before": -1}, "invalid_before"), ({"q": "a", "conversation": ""}, "invalid_conversation"),
])
def test_bad_input_is_400_and_changes_nothing(app, chat, world, params, code):
    users, _, _ = world
    before = chat.get(users["alice"], "/api/sync", since=0)
    rows = app.db.execute_sql("SELECT COUNT(*) FROM im_msg_search").fetchone()[0]
    answer = chat.client.get("/api/search", params, headers=users["alice"].headers, status=400).json
    assert answer["error"]["code"] == code
    assert chat.get(users["alice"], "/api/sync", since=0) == before
    assert app.db.execute_sql("SELECT COUNT(*) FROM im_msg_search").fetchone()[0] == rows


def test_search_needs_a_token(chat):
    assert chat.get(None, "/api/search", status=401, q="你好")["error"]["code"] == "unauthorized"
