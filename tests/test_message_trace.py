"""One message's trace (lecture 19): recorded only while an inspector watches, step by step with each step's
process and time, the long poll's answer included; nothing made or written while nobody looks."""
from __future__ import annotations

import os
import threading

from .helpers import wait_for


def _pair(http):
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    return http.login("alice"), http.login("bob")


def test_nothing_is_traced_while_nobody_watches(make_server):
    app, http = make_server(inspect=True)
    (_, token), (bob, _) = _pair(http)
    http.ok("POST", "/api/messages", {"to": bob, "content": "unseen"}, token=token)
    assert http.ok("GET", "/api/inspect/traces")["traces"] == []  # reading traces is not watching
    assert app.redis.keys(f"{app.config.redis_prefix}imdemo:trace:*") == []
    assert not app.traces.recent


def test_a_message_sent_while_watched_shows_each_step_of_its_way_to_a_long_poll(make_server):
    app, http = make_server(inspect=True)
    (alice, token), (bob, bob_token) = _pair(http)
    http.ok("GET", "/api/inspect/actions")  # the inspector looks
    polled = {}
    poll = threading.Thread(target=lambda: polled.update(
        body=http.ok("GET", "/api/sync?since=0&timeout=20", token=bob_token)))
    poll.start()
    wait_for(lambda: app.notifier.listener_count() == 1, message="the long poll to wait")
    mid = http.ok("POST", "/api/messages", {"to": bob, "content": "traced"}, token=token)["message"]["mid"]
    poll.join(timeout=20)
    assert polled["body"]["events"][0]["message"]["mid"] == mid

    def steps():
        traces = http.ok("GET", "/api/inspect/traces")["traces"]
        found = traces[0]["steps"] if traces and traces[0]["mids"] == [mid] else []
        return found if "answered" in [s["step"] for s in found] else None
    found = wait_for(steps, message="the long poll's answer in the trace")
    assert [s["step"] for s in found] == ["request", "committed", "heard", "answered"]
    request, committed, heard, answered = found
    assert (request["name"], request["uid"]) == ("POST /api/messages", alice)
    assert (committed["mids"], committed["timelines"]) == ([mid], 2)
    assert heard["users_here"] == 1
    assert (answered["uid"], answered["seq"], answered["transport"]) == (bob, 1, "long_poll")
    assert {s["process"] for s in found} == {f"127.0.0.1:{app.config.port} pid {os.getpid()}"}
    assert request["at"] <= committed["at"] <= heard["at"] <= answered["at"] < request["at"] + 5
    action = next(a for a in http.ok("GET", "/api/inspect/actions")["actions"] if a["name"] == "POST /api/messages")
    assert len(action["trace"]) == 12  # the sending action names its trace


def test_a_large_groups_message_is_traced_to_each_push_and_its_ack_by_group(make_server):
    """A large group's events carry no seq: the trace names them by group and gseq, and the ACK by group closes
    them. A member caught up in the group had it written with the others at once: the push says so."""
    from .helpers import WsClient

    app, http = make_server(inspect=True)
    (alice, token), (bob, bob_token) = _pair(http)
    gid = http.ok("POST", "/api/groups", {"name": "big", "members": [bob], "large": True}, token=token)["group"]["gid"]
    client = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    try:
        client.hello(bob_token, groups={str(gid): 0})
        first = http.ok("POST", f"/api/conversations/g{gid}/messages", {"content": "first"}, token=token)["message"]
        client.recv_until(lambda f: f.get("group") == gid and f["message"]["mid"] == first["mid"])
        wait_for(lambda: all(not s.writing and not s.wake.is_set() for s in app.servers.ws.sessions),
                 message="bob's push task to be idle: caught up in the group")
        http.ok("GET", "/api/inspect/actions")  # the inspector looks
        sent = http.ok("POST", f"/api/conversations/g{gid}/messages", {"content": "traced"}, token=token)["message"]
        pushed = client.recv_until(lambda f: f.get("group") == gid and f["message"]["mid"] == sent["mid"])[-1]
        client.send({"type": "ack", "group": gid, "gseq": pushed["gseq"]})

        def steps():
            traces = http.ok("GET", "/api/inspect/traces")["traces"]
            found = traces[0]["steps"] if traces and traces[0]["mids"] == [sent["mid"]] else []
            return found if "acknowledged" in [s["step"] for s in found] else None
        found = wait_for(steps, message="the ACK by group in the trace")
    finally:
        client.ws.close()
    assert [s["step"] for s in found] == ["request", "committed", "heard", "pushed", "acknowledged"]
    _, committed, _, push, ack = found
    assert committed["timelines"] == 1  # the group's own (read diffusion), not one a member
    assert (push["uid"], push["group"], push["gseq"], push["transport"]) == (bob, gid, pushed["gseq"], "websocket")
    assert push["way"] == "broadcast"
    assert (ack["uid"], ack["group"], ack["gseq"]) == (bob, gid, pushed["gseq"])
