"""Large groups on the live transports (SPEC section 15): a message of a large group is pushed once to every
member's connection by its group and gseq (no per-user seq), acknowledged by group and gseq and sent again
when it is not; a client resumes from its gseq with nothing lost or doubled, in gseq order; a member removed
while connected gets the removal and nothing after it; one added while connected gets the group from the
message that added them; a long poll wakes with it."""
from __future__ import annotations

import threading

from .helpers import WsClient, wait_for


def group_frames(frames, gid: int) -> list[dict]:
    return [f for f in frames if f.get("group") == gid and f.get("type") in ("message", "gap")]


def test_a_large_group_message_is_pushed_once_by_gseq_and_acknowledged_by_group(large):
    m = large
    connections = {name: m.connect(name) for name in ("alice", "bob", "carol", "dave")}
    sent = m.send("bob", "to everyone")
    for name in ("alice", "bob", "carol"):
        pushed = group_frames(connections[name].recv_until(lambda f: f.get("group") == m.gid), m.gid)
        assert [(f["gseq"], f["message"]) for f in pushed] == [(sent["gseq"], sent)] and "seq" not in pushed[0]
        connections[name].send({"type": "ack", "group": m.gid, "gseq": sent["gseq"]})
    connections["dave"].send({"type": "ping"})
    assert group_frames(connections["dave"].recv_until(lambda f: f["type"] == "pong"), m.gid) == []
    wait_for(lambda: m.app.servers.ws.pending_count() == 0, message="every push acknowledged")


def test_an_unacknowledged_large_group_push_is_sent_again_with_the_same_gseq(large):
    m = large
    carol = m.connect("carol")
    sent = m.send("alice", "say you got it")
    frames = carol.recv_until(lambda f: len(group_frames([f], m.gid)) and f.get("gseq") == sent["gseq"])
    again = carol.recv_until(lambda f: f.get("group") == m.gid, timeout=5)  # ack_timeout 1 s: sent again
    assert group_frames(again, m.gid)[-1] == group_frames(frames, m.gid)[-1]
    carol.send({"type": "ack", "group": m.gid, "gseq": sent["gseq"]})
    wait_for(lambda: m.app.servers.ws.pending_count() == 0, message="the retransmission acknowledged")


def test_a_client_resumes_from_its_gseq_with_nothing_lost_or_doubled(large):
    m = large
    since, cursors = m.cursors("carol")
    for i in range(5):
        m.send("alice" if i % 2 else "bob", f"while away {i}")
    carol = m.connect("carol", groups=cursors)
    frames = carol.recv_until(lambda f: f.get("type") == "message" and f["message"]["content"] == "while away 4")
    pushed = group_frames(frames, m.gid)
    assert [f["message"]["content"] for f in pushed] == [f"while away {i}" for i in range(5)]
    assert [f["gseq"] for f in pushed] == list(range(cursors[str(m.gid)] + 1, cursors[str(m.gid)] + 6))


def test_a_member_removed_while_connected_gets_the_removal_and_nothing_after_it(large):
    m = large
    bob = m.connect("bob")
    m.send("alice", "before")
    m.http.ok("DELETE", f"/api/groups/{m.gid}/members/{m.uid('bob')}", token=m.token("alice"))
    m.send("carol", "after")
    m.http.ok("POST", "/api/messages", {"to": m.uid("bob"), "content": "a 1:1 marker"}, token=m.token("dave"))
    frames = bob.recv_until(lambda f: f.get("type") == "message" and f["message"].get("content") == "a 1:1 marker")
    seen = [f["message"]["content"] for f in frames if f.get("type") == "message"]
    assert seen[0] == "before" and "after" not in seen and seen[-1] == "a 1:1 marker"
    assert any(f["message"].get("event", {}).get("type") == "removed" for f in frames if "seq" in f)


def test_a_member_removed_while_away_resumes_with_what_came_before_the_removal_and_nothing_after(large):
    m = large
    since, cursors = m.cursors("bob")
    m.send("alice", "owed to bob")
    m.http.ok("DELETE", f"/api/groups/{m.gid}/members/{m.uid('bob')}", token=m.token("alice"))
    m.send("carol", "after")
    m.http.ok("POST", "/api/messages", {"to": m.uid("bob"), "content": "a 1:1 marker"}, token=m.token("dave"))
    bob = m.connect("bob", since=since, groups=cursors)
    frames = bob.recv_until(lambda f: f.get("type") == "message" and f["message"].get("content") == "owed to bob")
    frames += bob.recv_until(lambda f: f.get("type") == "message" and f["message"].get("content") == "a 1:1 marker")
    bob.send({"type": "ping"})
    frames += bob.recv_until(lambda f: f["type"] == "pong")
    pushed = {(f["gseq"], f["message"]["content"]) for f in group_frames(frames, m.gid)}  # a resend is the same
    assert pushed == {(cursors[str(m.gid)] + 1, "owed to bob")}  # and nothing after the removal
    assert any(f["message"].get("event", {}).get("type") == "removed" for f in frames if "seq" in f)


def test_a_member_added_while_connected_follows_the_group_from_the_message_that_added_them(large):
    m = large
    m.send("alice", "before dave")
    dave = m.connect("dave")
    m.http.ok("POST", f"/api/groups/{m.gid}/members", {"uids": [m.uid("dave")]}, token=m.token("alice"))
    added = dave.recv_until(lambda f: f.get("type") == "message" and "seq" in f)[-1]
    assert added["message"]["event"]["type"] == "added"
    sent = m.send("bob", "welcome dave")
    frames = dave.recv_until(lambda f: f.get("group") == m.gid and "seq" not in f)
    assert [f["message"]["content"] for f in group_frames(frames, m.gid)] == ["welcome dave"]
    assert group_frames(frames, m.gid)[-1]["gseq"] == sent["gseq"] == added["message"]["gseq"] + 1


def test_a_long_poll_of_a_member_wakes_with_the_large_group_message(large):
    m = large
    since, cursors = m.cursors("carol")
    answer = {}
    groups = ",".join(f"{g}:{q}" for g, q in cursors.items())

    def poll():
        answer.update(m.http.ok("GET", f"/api/sync?since={since}&timeout=20&groups={groups}", token=m.token("carol")))
    thread = threading.Thread(target=poll)
    thread.start()
    wait_for(lambda: m.app.notifier.listener_count() >= 1, message="the long poll to wait")
    sent = m.send("alice", "wake up")
    thread.join(10)
    assert not thread.is_alive()
    assert [e["message"] for e in answer["events"] if e.get("group") == m.gid] == [sent]
    assert answer["groups_next"] == {str(m.gid): sent["gseq"]} and answer["next"] == since


def test_a_socket_resuming_from_before_its_group_grew_large_gets_what_was_sent_after_the_switch(make_server):
    """The hello gives no cursor for a group that was small when the client last heard: the switch it replays
    starts the group there, so the messages sent after the switch while it was away are pushed."""
    app, http = make_server(ack_timeout=1.0, heartbeat=5.0, large_group_at=3)
    tokens = {}
    for name in ("alice", "bob", "carol", "dave"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
        tokens[name] = http.login(name)
    gid = http.ok("POST", "/api/groups", {"name": "grows", "members": [tokens["bob"][0], tokens["carol"][0]]},
                  token=tokens["alice"][1])["group"]["gid"]
    since = http.ok("GET", "/api/sync?since=0", token=tokens["carol"][1])["next"]  # while it is small
    http.ok("POST", f"/api/groups/{gid}/members", {"uids": [tokens["dave"][0]]}, token=tokens["alice"][1])
    for text in ("large 1", "large 2"):
        http.ok("POST", f"/api/groups/{gid}/messages", {"content": text}, token=tokens["bob"][1])
    carol = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    try:
        carol.hello(tokens["carol"][1], since)  # no group cursors: it knew no large group
        frames = carol.recv_until(lambda f: f.get("type") == "message" and f["message"].get("content") == "large 2")
        assert [f["message"]["content"] for f in group_frames(frames, gid)] == ["large 1", "large 2"]
    finally:
        carol.close()
