"""Mentions in groups (SPEC section 17): `mentions: [uid]` (members only) or "all" (the owner only) on any send
route or frame, stored with the message; the mentioned member's contact entry says `mentioned: true` until they
read past it, derived from the rows, so it holds across a restart; a recalled mention no longer counts."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app

from .conftest import Chat
from .helpers import WsClient
from .test_groups import Groups, state


def mentioned(chat, user) -> dict:
    """{gid: mentioned} of user's group contacts."""
    return {c["group"]["gid"]: c["mentioned"] for c in chat.get(user, "/api/contacts")["contacts"] if "group" in c}


@pytest.fixture
def trio(chat):
    alice, bob, carol = (chat.register(name) for name in ("alice", "bob", "carol"))
    gid = Groups(chat).create(alice, "trio", [bob, carol])["gid"]
    return alice, bob, carol, gid


def test_a_mentioned_member_is_marked_until_they_read_past_it(chat, trio):
    alice, bob, carol, gid = trio
    sent = chat.post(bob, f"/api/conversations/g{gid}/messages", {"content": "@carol look", "mentions": [carol.uid]},
                     201)["message"]
    assert sent["mentions"] == [carol.uid]
    assert chat.get(carol, f"/api/conversations/g{gid}/messages")["messages"][-1]["mentions"] == [carol.uid]
    assert (mentioned(chat, carol), mentioned(chat, alice), mentioned(chat, bob)) == ({gid: True}, {gid: False},
                                                                                      {gid: False})
    later = chat.post(alice, f"/api/groups/{gid}/messages", {"content": "later"}, 201)["message"]
    chat.post(carol, f"/api/conversations/g{gid}/read", {"up_to": sent["mid"] - 1})
    assert mentioned(chat, carol) == {gid: True}  # not read past it yet
    chat.post(carol, f"/api/conversations/g{gid}/read", {"up_to": later["mid"]})
    assert mentioned(chat, carol) == {gid: False}


def test_the_owner_mentions_everyone_but_themself(chat, trio):
    alice, bob, carol, gid = trio
    sent = chat.post(alice, f"/api/groups/{gid}/messages", {"content": "meeting", "mentions": "all"}, 201)["message"]
    assert sent["mentions"] == "all"
    assert [mentioned(chat, user) for user in (alice, bob, carol)] == [{gid: False}, {gid: True}, {gid: True}]


def test_the_mark_is_derived_from_the_rows_so_a_restart_keeps_it(make_config):
    app = create_app(make_config())
    chat = Chat(webtest.TestApp(app.wsgi))
    alice, bob = chat.register("alice"), chat.register("bob")
    gid = Groups(chat).create(alice, "g", [bob])["gid"]
    chat.post(alice, f"/api/groups/{gid}/messages", {"content": "@bob", "mentions": [bob.uid]}, 201)
    app.close()
    app = create_app(make_config())
    try:
        assert mentioned(Chat(webtest.TestApp(app.wsgi)), bob) == {gid: True}
    finally:
        app.close()


def test_a_recalled_mention_no_longer_marks(chat, trio):
    alice, bob, carol, gid = trio
    sent = chat.post(bob, f"/api/groups/{gid}/messages", {"content": "@carol", "mentions": [carol.uid]}, 201)["message"]
    chat.post(bob, f"/api/conversations/g{gid}/messages/{sent['mid']}/recall", {})
    assert mentioned(chat, carol) == {gid: False}


def test_a_send_frame_carries_mentions(server):
    app, http = server
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, alice_token), (bob, bob_token) = http.login("alice"), http.login("bob")
    gid = http.ok("POST", "/api/groups", {"name": "g", "members": [bob]}, token=alice_token)["group"]["gid"]
    client = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    try:
        client.hello(alice_token)
        client.send({"type": "send", "conversation": f"g{gid}", "content": "@all", "mentions": "all",
                     "client_msg_id": "m-1"})
        sent = client.recv_until(lambda f: f.get("type") in ("sent", "error"))[-1]
        assert sent["type"] == "sent" and sent["message"]["mentions"] == "all"
        client.send({"type": "send", "conversation": f"g{gid}", "content": "x", "mentions": [10**6],
                     "client_msg_id": "m-2"})
        refused = client.recv_until(lambda f: f.get("type") in ("sent", "error"))[-1]
        assert (refused["type"], refused["code"], refused["client_msg_id"]) == ("error", "mention_not_member", "m-2")
    finally:
        client.close()
    contacts = http.ok("GET", "/api/contacts", token=bob_token)["contacts"]
    assert [c["mentioned"] for c in contacts if "group" in c] == [True]


BAD = [
    ("a non-member", "bob", "g", {"mentions": [999999]}, 400, "mention_not_member"),
    ("a former member", "bob", "g", {"mentions": ["carol"]}, 400, "mention_not_member"),
    ("@all by a member", "bob", "g", {"mentions": "all"}, 403, "not_owner"),
    ("in a 1:1 chat", "alice", "u", {"mentions": ["bob"]}, 400, "mentions_in_group_only"),
    ("not a list", "alice", "g", {"mentions": "bob"}, 400, "invalid_mentions"),
    ("not uids", "alice", "g", {"mentions": ["x"]}, 400, "invalid_mentions"),
    ("too many", "alice", "g", {"mentions": list(range(1, 102))}, 400, "invalid_mentions"),
]


@pytest.mark.parametrize("why, who, where, body, status, code", BAD, ids=[b[0] for b in BAD])
def test_a_bad_mention_is_refused_and_changes_nothing(app, chat, trio, why, who, where, body, status, code):
    alice, bob, carol, gid = trio
    users = {"alice": alice, "bob": bob, "carol": carol}
    Groups(chat).remove(carol, gid, carol)  # carol left: a former member
    body = {**body, "mentions": [users[u].uid if u in users else u for u in body["mentions"]]
            if isinstance(body["mentions"], list) else body["mentions"]}
    cid = f"g{gid}" if where == "g" else f"u{bob.uid}"
    before = state(app)
    refused = chat.post(users[who], f"/api/conversations/{cid}/messages", {"content": "hi", **body}, status)
    assert refused["error"]["code"] == code
    assert state(app) == before and mentioned(chat, bob) == {gid: False}
