"""The inspector: what each action wrote underneath, two users' raw state, off unless asked, no secrets."""
import hashlib
import json

import pytest
import webtest

from imdemo.app import create_app

from .conftest import Chat


@pytest.fixture
def inspected(make_config):
    app = create_app(make_config(inspect=True))
    yield app, Chat(webtest.TestApp(app.wsgi))
    app.close()


def test_inspector_is_404_when_off(client):
    assert client.get("/inspect", status=404).json["error"]["code"] == "not_found"
    assert client.get("/api/inspect/actions", status=404).json["error"]["code"] == "not_found"
    assert client.get("/api/inspect/state?a=1&b=2", status=404).json["error"]["code"] == "not_found"
    assert client.get("/api/inspect/connections", status=404).json["error"]["code"] == "not_found"


def test_inspector_is_on_by_default_only_for_the_local_embedded_store(make_config):
    from imdemo.config import Config
    assert Config(host="127.0.0.1").inspector_enabled
    assert not Config(host="0.0.0.0").inspector_enabled
    assert not Config(redis="redis://127.0.0.1:6379/0").inspector_enabled
    assert Config(redis="redis://127.0.0.1:6379/0", inspect=True).inspector_enabled


def test_one_send_shows_content_row_two_index_rows_two_contact_rows_and_the_counter_bump(inspected):
    app, chat = inspected
    alice, bob = chat.register("alice"), chat.register("bob")
    seen = chat.get(None, "/api/inspect/actions")["next"]
    mid = chat.send(alice, bob.uid, "hello inspector")["message"]["mid"]
    actions = chat.get(None, "/api/inspect/actions", after=seen)["actions"]
    send = next(a for a in actions if a["name"] == "POST /api/messages")
    assert send["info"]["uid"] == alice.uid
    sql = [s for s in send["steps"] if s["kind"] == "sql"]
    content = next(s for s in sql if s["sql"].startswith("INSERT INTO im_msg_content"))
    assert "hello inspector" in content["params"]
    relations = next(s for s in sql if s["sql"].startswith("INSERT INTO im_msg_relation"))
    assert relations["rows"] == 2
    assert relations["params"] == [alice.uid, bob.uid, mid, 1, relations["params"][4],
                                   bob.uid, alice.uid, mid, 1, relations["params"][9]]  # each one's seq 1
    contacts = next(s for s in sql if s["sql"].startswith("INSERT INTO im_msg_contact"))
    assert contacts["rows"] in (2, -1) and "ON CONFLICT" in contacts["sql"]
    bump = next(s for s in send["steps"] if s["kind"] == "lua")
    prefix = app.config.redis_prefix
    total_key, conv_key = f"{prefix}{bob.uid}_T", f"{prefix}{bob.uid}_C"
    assert bump["script"] == "unread.on_message"
    assert bump["before"][total_key] is None and bump["after"][total_key] == "1"
    assert bump["after"][conv_key] == {str(alice.uid): "1"}
    published = [s["command"][1:] for s in send["steps"] if s["kind"] == "redis" and s["command"][0] == "PUBLISH"]
    assert len(published) == 1 and published[0][0] == f"{prefix}notices"  # one PUBLISH carries both notices
    payload = json.loads(published[0][1])
    notices = dict(payload["notices"])
    assert notices[alice.uid]["seq"] == 1 and notices[alice.uid]["events"] == [[1, str(mid)]]
    assert notices[bob.uid]["seq"] == 1 and notices[bob.uid]["hints"][0]["total"] == 1
    assert notices[bob.uid]["events"] == [[1, str(mid)]]  # both name the one body the message has
    assert list(payload["bodies"]) == [str(mid)] and payload["bodies"][str(mid)]["content"] == "hello inspector"
    order = [s["sql"][:26] if s["kind"] == "sql" else s["kind"] for s in send["steps"]
             if s["kind"] in ("sql", "lua")]
    assert order.index("lua") > max(i for i, s in enumerate(order) if s.startswith("INSERT"))


def test_the_state_view_shows_both_users_rows_and_flags_a_drifted_counter(inspected):
    app, chat = inspected
    alice, bob = chat.register("alice"), chat.register("bob")
    chat.send(alice, bob.uid, "one")
    chat.send(bob, alice.uid, "two")
    state = chat.get(None, "/api/inspect/state", a=alice.uid, b=bob.uid)
    assert len(state["tables"]["im_msg_content"]) == 2
    assert len(state["tables"]["im_msg_relation"]) == 4
    assert len(state["tables"]["im_msg_contact"]) == 2
    assert [u["seq"] for u in state["tables"]["im_user"]] == [2, 2]
    assert state["differences"] == []
    app.redis.hincrby(f"{app.config.redis_prefix}{bob.uid}_C", alice.uid, 5)
    drifted = chat.get(None, "/api/inspect/state", a=alice.uid, b=bob.uid)["differences"]
    assert any(str(bob.uid) in d and "Redis says 6" in d for d in drifted)


def test_nothing_is_recorded_until_the_inspector_looks(inspected):
    app, chat = inspected
    alice, bob = chat.register("alice"), chat.register("bob")
    chat.send(alice, bob.uid, "unwatched")
    assert app.services.inspector.trace.actions == type(app.services.inspector.trace.actions)()
    seen = chat.get(None, "/api/inspect/actions")["next"]  # the page opens: from now on, actions are kept
    chat.send(alice, bob.uid, "watched")
    names = [a["name"] for a in chat.get(None, "/api/inspect/actions", after=seen)["actions"]]
    assert names == ["POST /api/messages"]


def test_the_inspector_never_shows_password_hashes_or_tokens(inspected):
    app, chat = inspected
    chat.get(None, "/api/inspect/actions")  # the inspector is open from the start
    alice = chat.register("alice", password="s3cret-pw")
    bob = chat.register("bob")
    chat.send(alice, bob.uid, "hi")
    chat.get(alice, "/api/me")
    chat.post(bob, "/api/logout", status=204)
    dumped = json.dumps(chat.get(None, "/api/inspect/actions"), ensure_ascii=False) + json.dumps(
        chat.get(None, "/api/inspect/state", a=alice.uid, b=bob.uid), ensure_ascii=False)
    hashes = [u.password_hash for u in app.services.auth.users.everyone()]
    for secret in [alice.token, bob.token, "s3cret-pw", *hashes,
                   hashlib.sha256(alice.token.encode()).hexdigest(), "scrypt$"]:
        assert secret not in dumped
    assert "‹hidden›" in dumped  # the register statement is shown, its hash parameter hidden


def test_websocket_actions_and_frames_are_traced(make_server):
    from .helpers import WsClient, wait_for
    app, http = make_server(inspect=True, ack_timeout=0.3)
    http.ok("GET", "/api/inspect/actions")  # the inspector is open
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, alice_token), (bob, bob_token) = http.login("alice"), http.login("bob")
    socket = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    socket.hello(bob_token)
    http.ok("POST", "/api/messages", {"to": bob, "content": "push me"}, token=alice_token)
    socket.recv_until(lambda f: f.get("type") == "message")
    socket.send({"type": "ping"})

    def names():
        return {a["name"] for a in http.ok("GET", "/api/inspect/actions")["actions"]}
    wait_for(lambda: {"WebSocket hello", "WebSocket frame in", "WebSocket frame out", "WebSocket events_after",
                      "WebSocket retransmission"} <= names(), message="the WebSocket actions in the trace")
    socket.close()


def test_a_page_from_another_name_rebound_to_loopback_finds_no_inspector(inspected):
    app, chat = inspected
    rebound = {"Host": "evil.example:8080"}
    assert chat.client.get("/api/inspect/actions", headers=rebound, status=404).json["error"]["code"] == "not_found"
    chat.client.get("/api/inspect/state?a=1&b=2", headers=rebound, status=404)
    chat.client.get("/api/inspect/connections", headers=rebound, status=404)
    chat.client.get("/inspect", headers=rebound, status=404)
    chat.client.get("/api/inspect/actions", headers={"Host": "127.0.0.1:8080"}, status=200)


def test_a_traced_group_send_shows_one_relation_row_for_each_member(inspected):
    app, chat = inspected
    alice, bob, carol = chat.register("alice"), chat.register("bob"), chat.register("carol")
    gid = chat.post(alice, "/api/groups", {"name": "trio", "members": [bob.uid, carol.uid]}, status=201)["group"]["gid"]
    seen = chat.get(None, "/api/inspect/actions")["next"]
    mid = chat.post(bob, f"/api/groups/{gid}/messages", {"content": "traced"}, status=201)["message"]["mid"]
    actions = chat.get(None, "/api/inspect/actions", after=seen)["actions"]
    send = next(a for a in actions if a["name"] == f"POST /api/groups/{gid}/messages")
    relations = [s for s in send["steps"] if s["kind"] == "sql" and s["sql"].startswith("INSERT INTO im_msg_relation")]
    assert sum(s["rows"] for s in relations) == 3  # write diffusion, seen in the trace: a row per member

    def flat(values):
        return [x for v in values for x in (flat(v) if isinstance(v, list) else [v])]
    params = flat([s["params"] for s in relations])
    assert {alice.uid, bob.uid, carol.uid} <= set(params) and mid in params and -gid in params


def test_the_group_view_shows_what_one_group_message_wrote_and_flags_a_drifted_member(inspected):
    app, chat = inspected
    alice, bob, carol = chat.register("alice"), chat.register("bob"), chat.register("carol")
    gid = chat.post(alice, "/api/groups", {"name": "trio", "members": [bob.uid, carol.uid]}, status=201)["group"]["gid"]
    mid = chat.post(bob, f"/api/groups/{gid}/messages", {"content": "hello trio"}, status=201)["message"]["mid"]
    state = chat.get(None, "/api/inspect/group", gid=gid)
    tables = state["tables"]
    assert tables["im_group"] == [{**tables["im_group"][0], "gid": gid, "name": "trio", "owner_uid": alice.uid,
                                   "gseq": 2, "last_mid": mid, "member_count": 3}]
    assert [(m["uid"], m["role"], m["left_mid"]) for m in tables["im_group_member"]] == [
        (alice.uid, 1, None), (bob.uid, 0, None), (carol.uid, 0, None)]
    newest = tables["im_msg_content"][0]
    assert (newest["mid"], newest["recipient_id"], newest["gseq"], newest["content"]) == (mid, -gid, 2, "hello trio")
    assert [c["msg_type"] for c in tables["im_msg_content"]] == [0, 1]  # the text, then the system message
    rows = [(r["owner_uid"], r["type"]) for r in tables["im_msg_relation"] if r["mid"] == mid]
    assert rows == [(alice.uid, 1), (bob.uid, 0), (carol.uid, 1)]  # one relation row per member
    assert {u["uid"]: (u["field"], u["redis"], u["database"]) for u in state["unread"]} == {
        alice.uid: (f"g{gid}", 1, 1), bob.uid: (f"g{gid}", 0, 0), carol.uid: (f"g{gid}", 1, 1)}
    assert state["differences"] == []

    app.redis.hincrby(f"{app.config.redis_prefix}{carol.uid}_C", f"g{gid}", 4)
    assert chat.get(None, "/api/inspect/group", gid=gid)["differences"] == [carol.uid]
    chat.client.delete(f"/api/groups/{gid}/members/{carol.uid}", headers=alice.headers, status=204)
    left = {u["uid"]: u for u in chat.get(None, "/api/inspect/group", gid=gid)["unread"]}[carol.uid]
    assert (left["member"], left["redis"], left["database"]) == (False, 0, 0)  # removed: the field drops to 0


def test_the_group_view_tells_changes_waiting_for_the_merge_window_from_drift(make_config):
    app = create_app(make_config(inspect=True, unread_merge=3_600_000))  # a window flushed by hand only
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice, bob = chat.register("alice"), chat.register("bob")
        gid = chat.post(alice, "/api/groups", {"name": "duo", "members": [bob.uid]}, status=201)["group"]["gid"]
        for text in ("one", "two"):
            chat.post(alice, f"/api/groups/{gid}/messages", {"content": text}, status=201)

        def bob_in(state):
            return next((u["redis"], u["database"], u["waiting"]) for u in state["unread"] if u["uid"] == bob.uid)
        state = chat.get(None, "/api/inspect/group", gid=gid)
        assert bob_in(state) == (0, 2, 2) and state["differences"] == []  # gathered, not drift
        app.services.messages.writer.merger.flush()
        state = chat.get(None, "/api/inspect/group", gid=gid)
        assert bob_in(state) == (2, 2, 0) and state["differences"] == []
        chat.post(alice, f"/api/groups/{gid}/messages", {"content": "three"}, status=201)
        app.redis.hincrby(f"{app.config.redis_prefix}{bob.uid}_C", f"g{gid}", 5)  # drift beside a waiting change
        state = chat.get(None, "/api/inspect/group", gid=gid)
        assert bob_in(state) == (7, 3, 1) and state["differences"] == [bob.uid]
    finally:
        app.close()


def test_a_read_inside_the_merge_window_leaves_nothing_waiting(make_config):
    """A message read before its window ends is covered by the read's count (the group's W hash): the merge
    will skip it, so the view does not show it as waiting."""
    app = create_app(make_config(inspect=True, unread_merge=3_600_000))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice, bob, carol = chat.register("alice"), chat.register("bob"), chat.register("carol")
        gid = chat.post(alice, "/api/groups", {"name": "trio", "members": [bob.uid, carol.uid]},
                        status=201)["group"]["gid"]
        chat.post(alice, f"/api/groups/{gid}/messages", {"content": "one"}, status=201)
        chat.post(bob, f"/api/groups/{gid}/read", {}, status=200)

        def waiting(state):
            return {u["uid"]: (u["redis"], u["database"], u["waiting"]) for u in state["unread"]}
        state = chat.get(None, "/api/inspect/group", gid=gid)
        assert waiting(state)[bob.uid] == (0, 0, 0) and waiting(state)[carol.uid] == (0, 1, 1)
        app.services.messages.writer.merger.flush()
        state = chat.get(None, "/api/inspect/group", gid=gid)
        assert waiting(state)[bob.uid] == (0, 0, 0) and waiting(state)[carol.uid] == (1, 1, 0)
        assert state["differences"] == []
    finally:
        app.close()


@pytest.mark.parametrize("gid, status, code", [("999", 404, "no_such_group"), ("g1", 400, "invalid_gid"),
                                               ("", 400, "invalid_gid")])
def test_the_group_view_of_no_such_group_is_an_error(inspected, gid, status, code):
    app, chat = inspected
    assert chat.client.get(f"/api/inspect/group?gid={gid}", status=status).json["error"]["code"] == code


def test_connections_show_each_pending_ack_with_its_age_and_sends_then_why_the_server_closed(make_server):
    from .helpers import WsClient, wait_for
    app, http = make_server(inspect=True, ack_timeout=0.5, ack_retries=2, heartbeat=30)
    http.ok("GET", "/api/inspect/actions")  # the inspector is open
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (alice, alice_token), (bob, bob_token) = http.login("alice"), http.login("bob")
    assert http.ok("GET", "/api/inspect/connections") == {"connections": []}
    socket = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    socket.hello(bob_token)  # and never acknowledges
    http.ok("POST", "/api/messages", {"to": bob, "content": "ack me"}, token=alice_token)

    def pending():
        connections = http.ok("GET", "/api/inspect/connections")["connections"]
        return connections[0]["pending"] if connections else None
    wait_for(lambda: (pending() or [{}])[0].get("sends") == 2, message="seq 1 sent a second time")
    [connection] = http.ok("GET", "/api/inspect/connections")["connections"]
    assert connection["uid"] == bob and connection["cursor"] == 1 and connection["peer"].startswith("127.0.0.1:")
    [item] = connection["pending"]
    assert item["seq"] == 1 and item["age"] >= 0.5
    wait_for(lambda: http.ok("GET", "/api/inspect/connections")["connections"] == [], message="the 4408 close")
    actions = [a for a in http.ok("GET", "/api/inspect/actions")["actions"] if a["info"].get("uid") == bob]
    story = [(a["name"], a["info"].get("seq"), a["info"].get("code")) for a in actions
             if a["name"].startswith(("WebSocket retransmission", "WebSocket closed"))]
    assert story == [("WebSocket retransmission", 1, None), ("WebSocket retransmission", 1, None),
                     ("WebSocket closed: ack timeout", None, 4408)]
    socket.close()
    again = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    again.hello(alice_token)
    again.close()  # a close frame from the client: noted with its code
    wait_for(lambda: any(a["name"] == "WebSocket closed by the client" and a["info"] == {"uid": alice, "code": 1000,
                                                                                       "reason": ""}
                         for a in http.ok("GET", "/api/inspect/actions")["actions"]), message="the client's close")


def test_a_large_group_send_shows_one_timeline_row_and_no_row_per_member(inspected):
    app, chat = inspected
    alice, bob, carol = chat.register("alice"), chat.register("bob"), chat.register("carol")
    body = {"name": "big", "members": [bob.uid, carol.uid], "large": True}
    gid = chat.post(alice, "/api/groups", body, status=201)["group"]["gid"]
    seen = chat.get(None, "/api/inspect/actions")["next"]
    mid = chat.post(bob, f"/api/conversations/g{gid}/messages", {"content": "once"}, status=201)["message"]["mid"]
    send = next(a for a in chat.get(None, "/api/inspect/actions", after=seen)["actions"]
                if a["name"] == f"POST /api/conversations/g{gid}/messages")
    inserts = [s["sql"].split()[2] for s in send["steps"] if s["kind"] == "sql" and s["sql"].startswith("INSERT")]
    # read diffusion: nothing per member (the search index's row is the message's, once)
    assert inserts == ["im_msg_content", "im_group_timeline", "im_msg_search"]
    scripts = [s["script"] for s in send["steps"] if s["kind"] == "lua"]
    assert scripts == ["large.committed"]  # N, Q and the sender's L: no counter per member
    published = [s for s in send["steps"] if s["kind"] == "redis" and s["command"][0] == "PUBLISH"]
    assert len(published) == 1 and f'"groups":[["{mid}",{gid},2]]' in published[0]["command"][2]
    state = chat.get(None, "/api/inspect/group", gid=gid)
    timeline = state["tables"]["im_group_timeline"]
    assert state["storage"] == "read" and [(r["gseq"], r["msg_type"]) for r in timeline] == [(2, 0), (1, 1)]
    assert timeline[0]["mid"] == mid  # the text, after the system message that made the group
    assert {u["uid"]: (u["redis"], u["database"]) for u in state["unread"]} == {
        alice.uid: (1, 1), bob.uid: (0, 0), carol.uid: (1, 1)} and state["differences"] == []
    app.redis.hset(f"{app.config.redis_prefix}{carol.uid}_L", str(gid), -3)
    assert chat.get(None, "/api/inspect/group", gid=gid)["differences"] == [carol.uid]
