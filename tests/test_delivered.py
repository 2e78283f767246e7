"""Delivered marks: how far each user's client has acknowledged (polling past a seq, or a WebSocket ACK) is
kept per conversation in the database, so contacts and history tell the sender how far the peer has
received, after a reload and after a restart; it is written only when it moves."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app

from .conftest import Chat
from .helpers import WsClient, wait_for


@pytest.fixture
def pair(chat):
    return chat.register("alice"), chat.register("bob")


def _marks(chat: Chat, sender, peer) -> tuple[int, int]:
    """What the sender is told of the peer: peer_delivered_mid from contacts, and from history."""
    contact = next(c for c in chat.get(sender, "/api/contacts")["contacts"] if c["user"]["uid"] == peer.uid)
    history = chat.get(sender, f"/api/conversations/{peer.uid}/messages")
    assert contact["peer_read_mid"] == history["peer_read_mid"]
    return contact["peer_delivered_mid"], history["peer_delivered_mid"]


def test_polling_past_messages_marks_them_delivered_in_contacts_and_history(chat, pair):
    alice, bob = pair
    first, second = (chat.send(alice, bob.uid, text)["message"]["mid"] for text in ("one", "two"))
    assert _marks(chat, alice, bob) == (0, 0)
    chat.get(bob, "/api/sync", since=0)  # receives both, acknowledges nothing yet
    assert _marks(chat, alice, bob) == (0, 0)
    chat.get(bob, "/api/sync", since=1)  # holds seq 1: the first message
    assert _marks(chat, alice, bob) == (first, first)
    chat.get(bob, "/api/sync", since=2)
    assert _marks(chat, alice, bob) == (second, second)
    chat.get(bob, "/api/sync", since=1)  # an older cursor (another tab) moves nothing back
    assert _marks(chat, alice, bob) == (second, second)
    assert chat.get(bob, "/api/contacts")["contacts"][0]["peer_delivered_mid"] == 0  # alice received nothing


def test_read_implies_delivered(chat, pair):
    alice, bob = pair
    mid = chat.send(alice, bob.uid, "seen in another way")["message"]["mid"]
    chat.post(bob, f"/api/conversations/{alice.uid}/read", {})
    assert _marks(chat, alice, bob) == (mid, mid)


def test_delivered_marks_survive_a_restart_that_empties_the_store(make_config):
    """The embedded store starts empty: Redis's copy of the acked seq is gone, the database keeps the mark."""
    app = create_app(make_config())
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice, bob = chat.register("alice"), chat.register("bob")
        mid = chat.send(alice, bob.uid, "before the restart")["message"]["mid"]
        chat.get(bob, "/api/sync", since=1)
    finally:
        app.close()
    again = create_app(make_config())
    try:
        chat = Chat(webtest.TestApp(again.wsgi))
        assert _marks(chat, chat.login("alice"), chat.login("bob")) == (mid, mid)
    finally:
        again.close()


def test_a_websocket_ack_marks_delivered(server):
    app, http = server
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    alice_token, (bob, bob_token) = http.login("alice")[1], http.login("bob")
    client = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    try:
        client.hello(bob_token)
        mid = http.ok("POST", "/api/messages", {"to": bob, "content": "over the socket"}, token=alice_token)[
            "message"]["mid"]
        event = client.recv_until(lambda f: f["type"] == "message")[-1]
        history = f"/api/conversations/{bob}/messages"
        assert http.ok("GET", history, token=alice_token)["peer_delivered_mid"] == 0  # pushed, not yet acked
        client.send({"type": "ack", "seq": event["seq"]})
        wait_for(lambda: http.ok("GET", history, token=alice_token)["peer_delivered_mid"] == mid, timeout=5,
                 message="the ACK to be recorded")
    finally:
        client.close()


def test_the_mark_is_written_only_when_it_moves(app, chat, pair, monkeypatch):
    """The ACK path is hot (every poll's since, every WebSocket ACK): polls at the same cursor, and ACKs that
    cover only the user's own sends, write nothing."""
    alice, bob = pair
    writes = []
    store = app.services.sync.direct
    original = store.mark_delivered
    monkeypatch.setattr(store, "mark_delivered", lambda uid, received: writes.append(uid) or original(uid, received))
    chat.send(alice, bob.uid, "to bob")
    for _ in range(3):
        chat.get(bob, "/api/sync", since=1)
    assert writes == [bob.uid]
    chat.send(bob, alice.uid, "bob's own")  # seq 2 of bob's timeline is his own send
    chat.get(bob, "/api/sync", since=2)
    assert writes == [bob.uid]
