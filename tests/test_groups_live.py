"""Groups on the live transports: a group message reaches every member's long poll and WebSocket once, in
seq order (the sender's own connections too); WebSocket send and read frames for groups; a member removed
while connected gets the system message and nothing after it."""
from __future__ import annotations

import threading

from .helpers import wait_for


def message_frames(frames) -> list[dict]:
    return [f for f in frames if f.get("type") == "message"]


def test_a_group_message_is_pushed_once_to_every_members_connection_and_acknowledged(members):
    m = members
    connections = {name: m.connect(name) for name in ("alice", "bob", "carol", "dave")}
    sent = m.send("bob", "to everyone")
    for name in ("alice", "bob", "carol"):
        frames = connections[name].recv_until(lambda f: f.get("type") == "message")
        pushed = message_frames(frames)
        assert [f["message"] for f in pushed] == [sent], name
        connections[name].send({"type": "ack", "seq": pushed[0]["seq"]})
    connections["dave"].send({"type": "ping"})
    assert message_frames(connections["dave"].recv_until(lambda f: f["type"] == "pong")) == []
    wait_for(lambda: m.app.servers.ws.pending_count() == 0, message="every push acknowledged")


def test_a_long_poll_of_a_member_wakes_with_the_group_message(members):
    m = members
    since = m.seq("carol")
    answer = {}

    def poll():
        answer.update(m.http.ok("GET", f"/api/sync?since={since}&timeout=20", token=m.token("carol")))
    thread = threading.Thread(target=poll)
    thread.start()
    wait_for(lambda: m.app.notifier.listener_count() >= 1, message="the long poll to wait")
    sent = m.send("alice", "wake up")
    thread.join(10)
    assert not thread.is_alive()
    assert [e["message"] for e in answer["events"] if e["type"] == "message"] == [sent]
    assert answer["next"] == since + 1


def test_websocket_send_and_read_frames_work_for_a_group(members):
    m = members
    alice, carol = m.connect("alice"), m.connect("carol")
    carol.send({"type": "send", "group": m.gid, "content": "over the socket", "client_msg_id": "ws-g1"})
    sent = carol.recv_until(lambda f: f["type"] == "sent")[-1]["message"]
    assert sent["group"] == m.gid and sent["from"] == m.uid("carol") and sent["client_msg_id"] == "ws-g1"
    carol.send({"type": "send", "group": m.gid, "content": "over the socket", "client_msg_id": "ws-g1"})
    assert carol.recv_until(lambda f: f["type"] == "sent")[-1]["message"] == sent  # the repeat: the first
    pushed = message_frames(alice.recv_until(lambda f: f.get("type") == "message"))
    assert [f["message"]["mid"] for f in pushed] == [sent["mid"]]
    alice.send({"type": "read", "group": m.gid, "up_to": sent["mid"]})
    hint = carol.recv_until(lambda f: f["type"] == "read")[-1]
    assert hint == {"type": "read", "group": m.gid, "by": m.uid("alice"), "up_to": sent["mid"]}
    unread = m.http.ok("GET", "/api/unread", token=m.token("alice"))
    assert unread["groups"] == {}


def test_a_websocket_send_to_a_group_one_is_not_in_is_an_error_frame(members):
    m = members
    dave = m.connect("dave")
    dave.send({"type": "send", "group": m.gid, "content": "let me in", "client_msg_id": "d1"})
    error = dave.recv_until(lambda f: f["type"] == "error")[-1]
    assert error["code"] == "no_such_group" and error["client_msg_id"] == "d1"
    dave.send({"type": "send", "group": "x", "content": "?", "client_msg_id": "d2"})
    assert dave.recv_until(lambda f: f["type"] == "error")[-1]["code"] == "invalid_gid"
    history = m.http.ok("GET", f"/api/groups/{m.gid}/messages", token=m.token("alice"))["messages"]
    assert [msg["kind"] for msg in history] == ["system"]


def test_a_member_removed_while_connected_gets_the_removal_and_nothing_after_it(members):
    m = members
    bob = m.connect("bob")
    m.send("alice", "before")
    m.http.ok("DELETE", f"/api/groups/{m.gid}/members/{m.uid('bob')}", token=m.token("alice"))
    m.send("carol", "after")
    m.http.ok("POST", "/api/messages", {"to": m.uid("bob"), "content": "a 1:1 marker"}, token=m.token("dave"))
    frames = bob.recv_until(lambda f: f.get("type") == "message" and f["message"].get("content") == "a 1:1 marker")
    seen = [(f["message"]["kind"], f["message"].get("event", {}).get("type"), f["message"]["content"])
            for f in message_frames(frames)]
    assert seen == [("text", None, "before"), ("system", "removed", "alice removed bob"),
                    ("text", None, "a 1:1 marker")]  # "after" never reaches bob
