"""Signals on the wire (SPEC section 17): a recall or an edit reaches every connection of every member it
concerns as an event with a seq (pushed, acknowledged, replayed on resume), by WebSocket frame or HTTP; typing
is a live hint to the others' connections only: never stored, rate-limited, not relayed in large groups, and
refused for a conversation the caller is not in."""
from __future__ import annotations

import threading

import pytest

from .helpers import WsClient


@pytest.fixture
def live(make_server):
    """A server with alice, bob and carol, a group of the three (alice owns it), and WebSocket clients."""
    clients = []

    def start(**overrides):
        app, http = make_server(**overrides)
        users = {}
        for name in ("alice", "bob", "carol", "dave"):
            http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
            users[name] = http.login(name)
        gid = http.ok("POST", "/api/groups", {"name": "g", "members": [users["bob"][0], users["carol"][0]]},
                      token=users["alice"][1])["group"]["gid"]

        def connect(name, since=0):
            client = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
            client.hello(users[name][1], since)
            clients.append(client)
            return client
        return app, http, users, gid, connect
    yield start
    for client in clients:
        client.close()


def test_a_recall_frame_reaches_every_connection_with_its_cid_and_is_acknowledged(live):
    app, http, users, gid, connect = live()
    (alice, alice_token), (bob, _) = users["alice"], users["bob"]
    sent = http.ok("POST", "/api/messages", {"to": bob, "content": "oops"}, token=alice_token)["message"]
    bob_phone, bob_laptop, alice_tab = connect("bob"), connect("bob"), connect("alice")
    for client in (bob_phone, bob_laptop, alice_tab):  # the group's system message came first: seq 1
        oops = client.recv_until(lambda f: f.get("message", {}).get("mid") == sent["mid"])[-1]
        assert oops["seq"] == 2
        client.send({"type": "ack", "seq": 2})
    alice_tab.send({"type": "recall", "conversation": f"u{bob}", "mid": sent["mid"], "client_msg_id": "r-1"})
    answer = alice_tab.recv_until(lambda f: f.get("type") == "changed")[-1]
    assert (answer["of"], answer["client_msg_id"], answer["message"]["recalled_by"]) == ("recall", "r-1", alice)
    for client, cid in ((bob_phone, f"u{alice}"), (bob_laptop, f"u{alice}"), (alice_tab, f"u{bob}")):
        event = client.recv_until(lambda f: f.get("type") == "recalled")[-1]
        assert event == {"type": "recalled", "seq": 3, "conversation": cid, "mid": sent["mid"], "by": alice}
        client.send({"type": "ack", "seq": 3})
    unread = bob_phone.recv_until(lambda f: f.get("type") == "unread")[-1]
    assert unread == {"type": "unread", "total": 0, "conversation": {"uid": alice, "unread": 0}}
    http.ok("POST", "/api/messages", {"to": bob, "content": "after"}, token=alice_token)
    after = bob_phone.recv_until(lambda f: f.get("type") == "message")
    assert [f.get("seq") for f in after if "seq" in f] == [4]  # nothing sent again: the recall was acknowledged
    again = connect("bob", since=2).recv_until(lambda f: f.get("type") == "recalled")[-1]
    assert again["seq"] == 3  # resumed from seq 2: replayed from the database


def test_an_edit_over_http_wakes_a_long_poll_with_the_new_text(live):
    app, http, users, gid, connect = live()
    alice_token, bob_token = users["alice"][1], users["bob"][1]
    sent = http.ok("POST", f"/api/conversations/g{gid}/messages", {"content": "helo"}, token=alice_token)["message"]
    seq = http.ok("GET", "/api/contacts", token=bob_token)["seq"]
    polled = {}
    poll = threading.Thread(target=lambda: polled.update(http.ok("GET", f"/api/sync?since={seq}&timeout=10",
                                                                 token=bob_token)))
    poll.start()
    status, edited, _ = http.call("PATCH", f"/api/conversations/g{gid}/messages/{sent['mid']}", {"content": "hello"},
                                  token=alice_token)
    poll.join(15)
    assert status == 200 and polled["events"] == [{"type": "edited", "seq": seq + 1, "message": edited["message"]}]


def test_typing_is_relayed_live_to_the_others_and_never_stored(live):
    app, http, users, gid, connect = live()
    (alice, _), (bob, bob_token) = users["alice"], users["bob"]
    bob_tab, carol_tab, alice_tab = connect("bob"), connect("carol"), connect("alice")
    alice_tab.send({"type": "typing", "conversation": f"u{bob}"})
    assert bob_tab.recv_until(lambda f: f.get("type") == "typing")[-1] == {"type": "typing", "by": alice,
                                                                          "conversation": f"u{alice}"}
    assert http.call("POST", f"/api/conversations/g{gid}/typing", None, token=bob_token)[0] == 204
    for client in (alice_tab, carol_tab):
        assert client.recv_until(lambda f: f.get("type") == "typing")[-1] == {"type": "typing", "by": bob,
                                                                             "conversation": f"g{gid}"}
    assert http.call("POST", f"/api/conversations/g{gid}/typing", None, token=bob_token)[0] == 429  # once in 2 s
    alice_tab.send({"type": "typing", "conversation": f"u{bob}"})  # over the rate on the socket: dropped, no error
    alice_tab.send({"type": "ping"})
    assert [f["type"] for f in alice_tab.recv_until(lambda f: f.get("type") == "pong")] == ["pong"]
    for _, token in users.values():  # nothing stored: no event in anyone's stream, no kept hint
        assert http.ok("GET", "/api/sync?since=0", token=token)["events"] == [
            e for e in http.ok("GET", "/api/sync?since=0", token=token)["events"] if e["type"] == "message"]


def test_typing_is_not_relayed_in_a_group_above_the_limit(live, monkeypatch):
    monkeypatch.setattr("imdemo.services.typing.MOST_MEMBERS", 2)
    app, http, users, gid, connect = live()
    carol_tab = connect("carol")
    assert http.call("POST", f"/api/conversations/g{gid}/typing", None, token=users["bob"][1])[0] == 204
    http.ok("POST", f"/api/conversations/g{gid}/messages", {"content": "next"}, token=users["bob"][1])
    frames = carol_tab.recv_until(lambda f: f.get("type") == "message" and f["message"]["content"] == "next")
    assert [f for f in frames if f.get("type") == "typing"] == []


@pytest.mark.parametrize("cid, status, code", [("g{gid}", 404, "no_such_group"), ("u999999", 404, "no_such_user"),
                                               ("u{dave}", 400, "self_message")])
def test_typing_into_a_conversation_the_caller_is_not_in_is_refused(live, cid, status, code):
    app, http, users, gid, connect = live()
    dave, dave_token = users["dave"]
    answer = http.call("POST", f"/api/conversations/{cid.format(gid=gid, dave=dave)}/typing", None, token=dave_token)
    assert answer[:2] == (status, {"error": {"code": code, "message": answer[1]["error"]["message"]}})
    dave_tab = connect("dave")
    dave_tab.send({"type": "typing", "conversation": f"g{gid}"})
    assert dave_tab.recv_until(lambda f: f.get("type") == "error")[-1]["code"] == "no_such_group"


def test_notices_taken_together_push_their_events_then_only_the_last_unread_count_of_a_conversation():
    """Two sends' notices taken before one push: the page counts both messages itself, so the first send's
    count (one fewer) must not follow them, or the badge drops below the truth (seen under load, when the
    push loop is late: 61 badges for 63 messages)."""
    from imdemo.services.feed import Feed

    feed = Feed(uid=2, position=0, window=10)
    for seq, unread in ((1, 1), (2, 2)):
        feed.take({"seq": seq, "events": [{"type": "message", "seq": seq, "message": {"mid": seq}}],
                   "hints": [{"type": "unread", "total": unread, "conversation": {"uid": 1, "unread": unread}}]})
    feed.take({"hints": [{"type": "read", "with": 3, "by": 3, "up_to": 9},
                         {"type": "unread", "total": 2, "conversation": {"group": 4, "unread": 0}}]})
    assert [e["seq"] for e in feed.arrived_events(10)] == [1, 2]
    assert feed.take_hints() == [
        {"type": "unread", "total": 2, "conversation": {"uid": 1, "unread": 2}},
        {"type": "read", "with": 3, "by": 3, "up_to": 9},
        {"type": "unread", "total": 2, "conversation": {"group": 4, "unread": 0}}]
    assert feed.take_hints() == []
