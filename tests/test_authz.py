"""Authorization and limits: every endpoint and WebSocket frame refuses a missing, malformed, expired or
logged-out token and changes nothing; another user's token reaches only that user's own data, and a uid
is named only by the token; sends and failed logins are rate limited; pages carry their security headers
and no API answer carries CORS headers.

The protected endpoints come from the OpenAPI document, so a new route joins the matrix by being documented.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import pytest
import websocket
import webtest

from imdemo.api.openapi import DOCUMENT
from imdemo.app import create_app
from imdemo.services.auth import ADDRESS_FACTOR, token_hash
from imdemo.store.keyvalue import Keys
from imdemo.store.models import declare_models

from .conftest import Chat, User
from .helpers import WsClient, wait_for
from .test_fuzz_http import durable
from .test_fuzz_ws import hang_up

PROTECTED = sorted((method.upper(), path) for path, ops in DOCUMENT["paths"].items()
                   for method, op in ops.items() if op.get("security") != [])
PUBLIC = sorted((method.upper(), path) for path, ops in DOCUMENT["paths"].items()
                for method, op in ops.items() if op.get("security") == [] and "/inspect/" not in path)
SECRET = "alice-carol secret"
IMPERSONATION = ("uid", "me", "user", "user_id", "owner_uid", "from", "sender", "sender_id", "by")


def test_the_matrix_covers_every_protected_route():
    assert {path for _, path in PROTECTED} >= {
        "/api/logout", "/api/me", "/api/users", "/api/contacts", "/api/unread", "/api/messages",
        "/api/conversations/{cid}/messages", "/api/conversations/{cid}/read", "/api/sync"}


@dataclass
class People:
    """alice and carol share a private conversation; bob talks to alice; every token is alice's own."""

    app: object
    chat: Chat
    alice: User
    bob: User
    carol: User
    expired: str  # alice's token whose session row has expired
    logged_out: str  # alice's token after POST /api/logout
    gid: int = 0  # a group of alice and carol only
    secret_mid: int = 0  # a message of the alice-carol conversation (for the routes that name one: recall, edit)


def _people(app, chat: Chat) -> People:
    alice, bob, carol = chat.register("alice"), chat.register("bob"), chat.register("carol")
    for i in range(3):
        chat.send(alice, carol.uid, f"{SECRET} {i}")
        chat.send(carol, alice.uid, f"{SECRET} reply {i}")
    chat.send(bob, alice.uid, "hello alice, bob here")
    chat.send(alice, bob.uid, "hi bob")
    group = chat.post(alice, "/api/groups", {"name": "alice and carol", "members": [carol.uid]}, status=201)
    gid = group["group"]["gid"]
    chat.post(carol, f"/api/groups/{gid}/messages", {"content": f"{SECRET} in the group"}, status=201)
    first = chat.get(carol, f"/api/conversations/{alice.uid}/messages")["messages"][1]["mid"]
    chat.post(carol, f"/api/conversations/{alice.uid}/read", {"up_to": first})
    expired, logged_out = chat.login("alice").token, chat.login("alice").token
    expire_session(app, expired)
    chat.post(User(alice.uid, logged_out, "alice"), "/api/logout", status=204)
    return People(app, chat, alice, bob, carol, expired, logged_out, gid, first)


def expire_session(app, token: str) -> None:
    """Move a session's expiry into the past, as time would, and drop its cached copies in Redis and in the
    process (which would have dropped them by then too: neither outlives the row's expiry)."""
    Session = declare_models(app.db).Session
    Session.update(expires_at=int(time.time() * 1000) - 1).where(Session.token_hash == token_hash(token)).execute()
    app.redis.delete(Keys(app.config.redis_prefix).session(token_hash(token)))
    app.services.auth.sessions.forget(token_hash(token))


@pytest.fixture
def people(app, chat) -> People:
    return _people(app, chat)


def _private(p: People) -> dict:
    """What only alice and carol may see or change: their conversation from both sides, their unread
    counts, their sessions and their timelines."""
    chat, alice, carol = p.chat, p.alice, p.carol
    return {
        "alice_history": chat.get(alice, f"/api/conversations/{carol.uid}/messages"),
        "carol_history": chat.get(carol, f"/api/conversations/{alice.uid}/messages"),
        "alice_unread": chat.get(alice, "/api/unread"),
        "carol_unread_from_alice": chat.get(carol, "/api/unread")["conversations"].get(str(alice.uid)),
        "alice_contacts_but_bob": [c for c in chat.get(alice, "/api/contacts")["contacts"]
                                   if c.get("user", {}).get("uid") != p.bob.uid  # bob may talk to alice,
                                   and c.get("group", {}).get("gid", p.gid) == p.gid],  # add her to his group
        "carol_contact_alice": [c for c in chat.get(carol, "/api/contacts")["contacts"]
                                if c.get("user", {}).get("uid") == alice.uid],
        "alice_timeline": durable(chat.get(alice, "/api/sync", since=0, limit=1000)),
        "alice_me": chat.get(alice, "/api/me"),
        "group": chat.get(alice, f"/api/groups/{p.gid}"),
        "group_history": [chat.get(u, f"/api/groups/{p.gid}/messages") for u in (alice, carol)],
    }


def _rows(app) -> dict:
    """Counts of every table and the sum of the read markers: a write anywhere moves one of them. (An
    expired session's row may be swept when it is presented, so sessions count the live ones.)"""
    m = declare_models(app.db)
    counts = {model.__name__: model.select().count() for model in m.all if model is not m.Session}
    counts["live sessions"] = m.Session.select().where(m.Session.expires_at > time.time() * 1000).count()
    counts["read_mids"] = sum(c.read_mid for c in m.MsgContact.select())
    counts["group_read_mids"] = sum(g.read_mid for g in m.GroupMember.select())
    counts["seqs"] = sum(u.seq for u in m.User.select())
    return counts


def _request(p: People, method: str, path: str, other: int) -> tuple[str, dict | None]:
    """The concrete URL and body of one documented route, aimed at other where it names a user, and at the
    alice-carol group where it names a group."""
    url = path.replace("{cid}", str(other)).replace("{gid}", str(p.gid)).replace("{uid}", str(other)).replace(
        "{mid}", str(p.secret_mid))
    url = url.replace("{fid}", "1").replace("{upload_id}", "someupload")  # nobody's: 404 to anyone with a token
    if path == "/api/sync":
        url += "?since=0"
    if path == "/api/search":
        url += "?q=alice-carol+secret"
    bodies = {"/api/messages": {"to": other, "content": "through the matrix"},
              "/api/conversations/{cid}/read": {}, "/api/logout": {},
              "/api/groups": {"name": "through the matrix", "members": [other]},
              "/api/groups/{gid}": {"name": "renamed through the matrix"},
              "/api/groups/{gid}/members": {"uids": [p.bob.uid]},
              "/api/groups/{gid}/messages": {"content": "through the matrix"},
              "/api/conversations/{cid}/messages/{mid}": {"content": "edited through the matrix"}}
    return url, (bodies.get(path, {}) if method in ("POST", "PATCH") else None)


def _call(client: webtest.TestApp, method: str, url: str, body, headers: dict, status="*"):
    if method in ("POST", "PATCH"):
        return client.request(url, method=method, body=json.dumps(body).encode(), headers=headers, status=status,
                              content_type="application/json")
    return client.request(url, method=method, headers=headers, status=status)


CREDENTIALS = {
    "missing": lambda p: {},
    "empty bearer": lambda p: {"Authorization": "Bearer "},
    "bearer without a space": lambda p: {"Authorization": "Bearer" + p.alice.token},
    "another scheme": lambda p: {"Authorization": "Basic " + p.alice.token},
    "bare token": lambda p: {"Authorization": p.alice.token},
    "garbage": lambda p: {"Authorization": "Bearer not-a-token"},
    "truncated": lambda p: {"Authorization": "Bearer " + p.alice.token[:-1]},
    "extended": lambda p: {"Authorization": "Bearer " + p.alice.token + "x"},
    "oversized": lambda p: {"Authorization": "Bearer " + "x" * 8000},
    "token hash instead of token": lambda p: {"Authorization": "Bearer " + token_hash(p.alice.token)},
    "expired": lambda p: {"Authorization": "Bearer " + p.expired},
    "logged out": lambda p: {"Authorization": "Bearer " + p.logged_out},
}


@pytest.mark.parametrize("method, path", PROTECTED)
def test_protected_route_refuses_every_bad_token_with_401_and_changes_nothing(people, client, method, path):
    """One route, every kind of bad credential in turn (a refused call changes nothing, so they share a setup)."""
    p = people
    before, rows = _private(p), _rows(p.app)
    url, body = _request(p, method, path, p.carol.uid)
    wrong = {}
    for credential, headers in CREDENTIALS.items():
        response = _call(client, method, url, body, headers(p))
        if method == "HEAD":  # an answer to HEAD has no body (a tus client's offset question): the status says it
            code = "unauthorized" if response.body == b"" else "a body"
        else:
            code = (response.json or {}).get("error", {}).get("code") if response.content_type.endswith("json") \
                else None
        if response.status_int != 401 or code not in ("unauthorized", "invalid_token") or SECRET in response.text:
            wrong[credential] = (response.status, response.text[:200])
        if _private(p) != before or _rows(p.app) != rows:
            wrong[credential] = "changed state"
            before, rows = _private(p), _rows(p.app)
    assert wrong == {}


@pytest.mark.parametrize("method, path", PROTECTED)
def test_a_token_in_the_query_string_or_a_cookie_is_not_a_credential(people, client, method, path):
    p = people
    url, body = _request(p, method, path, p.carol.uid)
    url += ("&" if "?" in url else "?") + f"token={p.alice.token}&access_token={p.alice.token}"
    response = _call(client, method, url, body, {"Cookie": f"token={p.alice.token}; session={p.alice.token}"})
    assert response.status_int == 401


@pytest.mark.parametrize("header", ["Bearer \xff\xfe", "\xe9t\xe9"])
def test_an_authorization_header_that_is_not_utf8_is_refused_with_401(people, client, header):
    """Headers arrive as bytes; ones that are not UTF-8 must be refused like any wrong token."""
    response = client.get("/api/me", headers={"Authorization": header}, status="*")
    assert response.status_int == 401, (response.status, response.text)


@pytest.mark.parametrize("other", ["alice", "carol"])
@pytest.mark.parametrize("method, path", PROTECTED)
def test_another_users_token_reaches_only_that_users_own_data(people, client, method, path, other):
    """bob's token, aimed at alice or carol, neither reveals nor changes the alice-carol conversation."""
    p = people
    before, alice_session = _private(p), p.alice.headers
    target = getattr(p, other).uid
    url, body = _request(p, method, path, p.carol.uid if path == "/api/messages" else target)
    response = _call(client, method, url, body, p.bob.headers)
    assert response.status_int < 500 and SECRET not in response.text
    if response.status_int == 200 and "messages" in (response.json or {}):
        for m in response.json["messages"]:
            assert p.bob.uid in (m["from"], m.get("to"))
    after = _private(p)
    if (method, path) == ("POST", "/api/groups"):  # bob may make a group with alice: its first message reaches her
        new = after["alice_timeline"]["events"][len(before["alice_timeline"]["events"]):]
        assert [(e["message"]["from"], e["message"]["kind"]) for e in new] == [(p.bob.uid, "system")] * (target ==
                                                                                                   p.alice.uid)
        assert all(e["message"]["group"] != p.gid for e in new)
        after["alice_timeline"] = before["alice_timeline"]
    if path == "/api/messages":  # bob may write to carol; the alice-carol conversation stays as it was
        assert after["carol_history"] == before["carol_history"]
        after["carol_unread_from_alice"] = before["carol_unread_from_alice"]
        after["carol_contact_alice"] = before["carol_contact_alice"]
    assert after == before
    assert client.get("/api/me", headers=alice_session).json["user"]["uid"] == p.alice.uid


def test_bobs_token_on_alices_conversation_sees_only_bobs_side(people):
    p = people
    history = p.chat.get(p.bob, f"/api/conversations/{p.alice.uid}/messages")["messages"]
    assert [(m["from"], m["to"], m["content"]) for m in history] == [
        (p.bob.uid, p.alice.uid, "hello alice, bob here"), (p.alice.uid, p.bob.uid, "hi bob")]
    assert p.chat.get(p.bob, f"/api/conversations/{p.carol.uid}/messages")["messages"] == []
    events = p.chat.get(p.bob, "/api/sync", since=0, limit=1000)["events"]
    assert {p.bob.uid} <= {e["message"]["from"] for e in events} | {e["message"]["to"] for e in events}
    assert all(p.bob.uid in (e["message"]["from"], e["message"]["to"]) for e in events)


def test_search_never_finds_another_users_conversations(people):
    p = people
    assert len(p.chat.get(p.alice, "/api/search", q=SECRET)["results"]) == 7  # 3 + 3 replies + the group's
    assert p.chat.get(p.bob, "/api/search", q=SECRET)["results"] == []
    assert p.chat.get(p.bob, "/api/search", q=SECRET, conversation=f"u{p.carol.uid}")["results"] == []
    error = p.chat.get(p.bob, "/api/search", q=SECRET, conversation=f"g{p.gid}", status=404)["error"]
    assert error["code"] == "no_such_group"


@pytest.mark.parametrize("method, path", [r for r in PROTECTED if r[0] == "GET"])
def test_a_uid_named_in_the_query_or_a_header_is_ignored(people, client, method, path):
    p = people
    url, _ = _request(p, method, path, p.alice.uid)
    plain = client.get(url, headers=p.bob.headers, status="*")
    named = "&".join(f"{name}={p.alice.uid}" for name in IMPERSONATION)
    headers = {**p.bob.headers, "X-User-Id": str(p.alice.uid), "X-Forwarded-User": "alice"}
    impersonated = client.get(url + ("&" if "?" in url else "?") + named, headers=headers, status="*")
    assert (impersonated.status_int, impersonated.json) == (plain.status_int, plain.json)
    assert plain.status_int in (200, 404)  # the alice-carol group does not exist for bob


def test_a_uid_named_in_a_body_is_refused_and_changes_nothing(people):
    """The caller is whoever the token says: a body naming someone else is not the API (400 unknown_field)."""
    p = people
    before = _private(p)
    for name in IMPERSONATION:
        body = {name: p.alice.uid, "to": p.carol.uid, "content": "who sent this?"}
        error = p.chat.client.post_json("/api/messages", body, headers=p.bob.headers, status=400).json["error"]
        assert error["code"] == "unknown_field", name
        error = p.chat.post(p.bob, f"/api/conversations/{p.carol.uid}/read", {name: p.alice.uid}, status=400)["error"]
        assert error["code"] == "unknown_field", name
    assert _private(p) == before
    sent = p.chat.send(p.bob, p.carol.uid, "who sent this?")["message"]
    assert (sent["from"], sent["to"]) == (p.bob.uid, p.carol.uid)


def test_logout_ends_only_the_session_it_names(people):
    p = people
    second = p.chat.login("bob")
    p.chat.post(p.bob, "/api/logout", status=204)
    assert p.chat.get(p.bob, "/api/me", status=401)
    assert p.chat.get(second, "/api/me")["user"]["uid"] == p.bob.uid
    assert p.chat.get(p.alice, "/api/me")["user"]["uid"] == p.alice.uid


def test_a_session_expires_after_its_ttl(make_config):
    app = create_app(make_config(session_ttl=1.0))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice = chat.register("alice")
        assert chat.get(alice, "/api/me")["user"]["uid"] == alice.uid
        wait_for(lambda: chat.client.get("/api/me", headers=alice.headers, status="*").status_int == 401,
                 timeout=10, interval=0.1, message="the session to expire")
        assert chat.get(alice, "/api/unread", status=401)["error"]["code"] == "invalid_token"
    finally:
        app.close()


# --- the WebSocket: the same matrix for hello and for frames sent after the session ended ---

@pytest.fixture
def live(make_server):
    """A real server (HTTP and WebSocket) with alice, bob and carol as in `people`."""
    app, http = make_server(ack_timeout=5.0, heartbeat=5.0)
    p = _people(app, Chat(webtest.TestApp(app.wsgi)))
    p.url, p.http = f"ws://127.0.0.1:{app.config.websocket_port}/", http
    clients = []
    p.connect = lambda: clients.append(WsClient(p.url)) or clients[-1]
    yield p
    for c in clients:
        hang_up(c)


HELLOS = {
    "no token": lambda p: {"type": "hello", "since": 0},
    "null token": lambda p: {"type": "hello", "token": None, "since": 0},
    "number token": lambda p: {"type": "hello", "token": 1000, "since": 0},
    "list token": lambda p: {"type": "hello", "token": [p.alice.token], "since": 0},
    "empty token": lambda p: {"type": "hello", "token": "", "since": 0},
    "garbage": lambda p: {"type": "hello", "token": "not-a-token", "since": 0},
    "truncated": lambda p: {"type": "hello", "token": p.alice.token[:-1], "since": 0},
    "oversized": lambda p: {"type": "hello", "token": "x" * 8000, "since": 0},
    "token hash": lambda p: {"type": "hello", "token": token_hash(p.alice.token), "since": 0},
    "uid instead of token": lambda p: {"type": "hello", "uid": p.alice.uid, "since": 0},
    "expired": lambda p: {"type": "hello", "token": p.expired, "since": 0},
    "logged out": lambda p: {"type": "hello", "token": p.logged_out, "since": 0},
    "send before hello": lambda p: {"type": "send", "token": p.alice.token, "to": p.carol.uid, "content": "x"},
}


@pytest.mark.parametrize("hello", HELLOS)
def test_websocket_hello_with_a_bad_token_is_closed_4401_before_anything_is_sent(live, hello):
    p = live
    rows = _rows(p.app)
    client = p.connect()
    client.send(HELLOS[hello](p))
    assert client.recv() is None and client.close_code == 4401
    assert _rows(p.app) == rows


@pytest.mark.parametrize("ending", ["logged out", "expired"])
@pytest.mark.parametrize("frame", ["send", "read"])
def test_a_send_or_read_frame_after_the_session_ended_is_refused_and_changes_nothing(live, ending, frame):
    p = live
    token = p.chat.login("alice").token
    client = p.connect()
    client.hello(token, since=1000)  # holds everything: nothing is replayed
    if ending == "expired":
        expire_session(p.app, token)
    else:
        p.http.ok("POST", "/api/logout", token=token)
    before, rows = _private(p), _rows(p.app)
    try:  # a logout may have closed the connection already: then the frame never arrives, as it should
        client.send({"type": "send", "to": p.carol.uid, "content": "after the end"} if frame == "send"
                    else {"type": "read", "with": p.carol.uid})
    except (OSError, websocket.WebSocketException):
        pass
    frames = []
    while (f := client.recv()) is not None:
        frames.append(f)
    assert client.close_code == 4401 and not [f for f in frames if f["type"] in ("sent", "message")]
    assert _private(p) == before and _rows(p.app) == rows


def test_an_open_websocket_is_closed_when_its_session_expires(make_server):
    """A logout closes the connections opened with the token; the end of the session by time must too."""
    app, http = make_server(session_ttl=1.5, heartbeat=0.5, ack_timeout=5.0)
    http.ok("POST", "/api/register", {"username": "alice", "password": "pw1234"})
    _, token = http.login("alice")
    client = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")

    def closed():  # a live, well-behaved client pinging every 0.2 s: only its session has ended
        try:
            client.send({"type": "ping"})
            return client.recv(timeout=2) is None  # a pong while open; None once the server has closed
        except (OSError, websocket.WebSocketException):
            return True
    try:
        client.hello(token)
        wait_for(closed, timeout=8, interval=0.2, message="the expired session's connection to be closed")
        assert client.close_code == 4401
    finally:
        hang_up(client)


def test_websocket_hello_with_bobs_token_replays_only_bobs_timeline(live):
    p = live
    client = p.connect()
    client.send({"type": "hello", "token": p.bob.token, "since": 0, "uid": p.alice.uid})
    frames = client.recv_until(lambda f: f.get("seq") == 2)
    assert frames[0] == {"type": "welcome", "uid": p.bob.uid, "heartbeat": 5.0, "ack_timeout": 5.0, "batch": False}
    messages = [f["message"] for f in frames if f["type"] == "message"]
    assert [m["content"] for m in messages] == ["hello alice, bob here", "hi bob"]
    client.send({"type": "ping"})
    assert not [f for f in client.recv_until(lambda f: f["type"] == "pong") if f["type"] == "message"]


def test_websocket_frames_naming_another_uid_act_as_the_tokens_user_only(live):
    p = live
    client = p.connect()
    client.hello(p.bob.token, since=1000)
    before = _private(p)
    impersonate = {name: p.alice.uid for name in IMPERSONATION}
    client.send({**impersonate, "type": "send", "to": p.carol.uid, "content": "as bob", "client_msg_id": "w1"})
    sent = client.recv_until(lambda f: f["type"] == "sent")[-1]["message"]
    assert (sent["from"], sent["to"]) == (p.bob.uid, p.carol.uid)
    client.send({**impersonate, "type": "read", "with": p.carol.uid, "owner_uid": p.carol.uid})
    client.send({"type": "ping"})
    client.recv_until(lambda f: f["type"] == "pong")
    after = _private(p)
    assert after["carol_history"] == before["carol_history"]
    for key in ("alice_history", "alice_unread", "alice_contacts_but_bob", "alice_timeline", "group_history"):
        assert after[key] == before[key], key


# --- limits: messages per second, failed logins ---

@pytest.fixture
def make_app(make_config):
    """Return a function that builds an app with config overrides, and a Chat on it; closed after."""
    apps = []

    def build(**overrides):
        apps.append(create_app(make_config(**overrides)))
        return apps[-1], Chat(webtest.TestApp(apps[-1].wsgi))
    yield build
    for a in apps:
        a.close()


def test_sending_faster_than_send_rate_is_429_with_retry_after_and_stores_nothing(make_app):
    app, chat = make_app(send_rate=3)
    alice, bob = chat.register("alice"), chat.register("bob")

    def send(user, to, text):
        return chat.client.post_json("/api/messages", {"to": to.uid, "content": text}, headers=user.headers,
                                     status="*")
    started = time.monotonic()
    answers = [send(alice, bob, f"m{i}") for i in range(4)]
    in_one_window = time.monotonic() - started < 0.9  # the window is one second from the first send
    assert [a.status_int for a in answers[:3]] == [201] * 3
    if in_one_window:
        assert answers[3].status_int == 429
    refused = [a for a in answers if a.status_int == 429]
    for answer in refused:
        assert answer.json["error"]["code"] == "too_many_messages" and int(answer.headers["Retry-After"]) >= 1
    assert send(bob, alice, "bob is not limited by alice's rate").status_int == 201
    stored = chat.get(bob, f"/api/conversations/{alice.uid}/messages", limit=100)["messages"]
    assert len([m for m in stored if m["from"] == alice.uid]) == 4 - len(refused)
    assert chat.get(bob, "/api/unread")["total"] == 4 - len(refused)
    wait_for(lambda: send(alice, bob, "later").status_int == 201, timeout=5, interval=0.2,
             message="the window to pass")


def test_the_send_rate_holds_over_the_websocket_too(make_server):
    app, http = make_server(send_rate=2)
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, alice_token), (bob, _) = http.login("alice"), http.login("bob")
    client = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    try:
        client.hello(alice_token)
        for i in range(5):
            client.send({"type": "send", "to": bob, "content": f"w{i}", "client_msg_id": f"w{i}"})
        replies = [client.recv_until(lambda f: f["type"] in ("sent", "error"))[-1] for _ in range(5)]
        refused = [r for r in replies if r["type"] == "error"]
        assert refused and all(r["code"] == "too_many_messages" for r in refused)
        client.send({"type": "ping"})
        assert client.recv_until(lambda f: f["type"] == "pong")  # refused, not disconnected
        stored = http.ok("GET", "/api/sync?since=0", token=alice_token)["events"]
        assert len([e for e in stored if e["type"] == "message"]) == len(replies) - len(refused)
    finally:
        hang_up(client)


def _login(chat: Chat, username: str, password: str, address: str = "203.0.113.1"):
    return chat.client.post_json("/api/login", {"username": username, "password": password},
                                 extra_environ={"REMOTE_ADDR": address}, status="*")


def test_failed_logins_for_one_username_are_refused_even_with_the_right_password(make_app):
    app, chat = make_app(login_attempts=3, login_window=30)
    chat.register("alice"), chat.register("bob")
    assert [_login(chat, "alice", "wrong").status_int for _ in range(3)] == [401] * 3
    refused = _login(chat, "alice", "pw1234")
    assert refused.status_int == 429 and refused.json["error"]["code"] == "too_many_attempts"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert "token" not in refused.json
    assert _login(chat, "bob", "pw1234", address="203.0.113.2").status_int == 200


def test_failed_logins_from_one_address_are_refused_across_usernames(make_app):
    app, chat = make_app(login_attempts=2, login_window=30)
    chat.register("alice")
    budget = 2 * ADDRESS_FACTOR  # one address may fail this often, across usernames
    statuses = [_login(chat, f"nobody{i}", "wrong", address="198.51.100.7").status_int for i in range(budget)]
    assert statuses == [401] * budget  # one failure per username: no username reaches its own limit
    assert _login(chat, "alice", "pw1234", address="198.51.100.7").status_int == 429
    assert _login(chat, "alice", "pw1234", address="198.51.100.8").status_int == 200


def test_forwarded_for_headers_do_not_reset_the_address_limit(make_app):
    app, chat = make_app(login_attempts=1, login_window=30)
    for i in range(ADDRESS_FACTOR):
        chat.client.post_json("/api/login", {"username": f"x{i}y", "password": "wrong"}, status="*",
                              headers={"X-Forwarded-For": f"10.0.0.{i}"}, extra_environ={"REMOTE_ADDR": "192.0.2.9"})
    refused = chat.client.post_json("/api/login", {"username": "another", "password": "wrong"}, status="*",
                                    headers={"X-Forwarded-For": "10.9.9.9"}, extra_environ={"REMOTE_ADDR": "192.0.2.9"})
    assert refused.status_int == 429


# --- headers: pages, API answers, CORS ---

def _directives(policy: str) -> dict[str, list[str]]:
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";")) if parts}


@pytest.mark.parametrize("path", ["/", "/static/js/app.js", "/static/style.css"])
def test_pages_carry_a_strict_content_security_policy(client, path):
    response = client.get(path)
    policy = _directives(response.headers["Content-Security-Policy"])
    script = policy.get("script-src", policy.get("default-src"))
    assert script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "*" not in script
    assert policy["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_page_has_no_inline_script_for_the_policy_to_block(client):
    html = client.get("/").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son\w+\s*=", html)  # no inline event handlers either


@pytest.mark.parametrize("method, path", PROTECTED + PUBLIC)
def test_no_api_answer_carries_cors_headers_even_to_a_foreign_origin(people, client, method, path):
    p = people
    url, body = _request(p, method, path, p.bob.uid)
    headers = {**p.alice.headers, "Origin": "https://evil.example"}
    response = _call(client, method, url, body, headers)
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    preflight = client.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "authorization"}, status="*")
    assert preflight.status_int < 500
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]


@pytest.mark.parametrize("path", ["/static/../imdemo/config.py", "/static/%2e%2e/imdemo/config.py",
                                  "/static/..%2fimdemo%2fconfig.py", "/static/%2e%2e%2f%2e%2e%2fetc/passwd",
                                  "/static//etc/passwd", "/static/..\\imdemo\\config.py"])
def test_static_files_never_leave_the_web_root(client, path):
    response = client.get(path, status="*")
    assert response.status_int in (400, 403, 404) and "Config" not in response.text and "root:" not in response.text


def test_the_inspector_is_not_served_when_it_is_off(client):
    for path in ("/inspect", "/api/inspect/actions", "/api/inspect/state?a=1000&b=1001"):
        assert client.get(path, status="*").status_int == 404
