"""Accounts over HTTP: register, log in, log out, throttling, who is who."""
import pytest


def test_register_then_login_returns_token_and_user(chat):
    user = chat.register("alice", nickname="Alice")
    me = chat.get(user, "/api/me")["user"]
    assert me == {"uid": user.uid, "username": "alice", "nickname": "Alice", "avatar": ""}
    assert user.uid >= 1000


def test_register_taken_username_returns_409(chat):
    chat.register("alice")
    body = chat.post(None, "/api/register", {"username": "alice", "password": "other1"}, status=409)
    assert body["error"]["code"] == "username_taken"


@pytest.mark.parametrize("body, code", [
    ({"username": "Al", "password": "1234"}, "invalid_username"),
    ({"username": "UPPER", "password": "1234"}, "invalid_username"),
    ({"username": "a" * 33, "password": "1234"}, "invalid_username"),
    ({"username": "bob", "password": "123"}, "invalid_password"),
    ({"username": "bob", "password": "x" * 129}, "invalid_password"),
    ({"username": "bob", "password": 1234}, "invalid_password"),
    ({"username": "bob"}, "invalid_password"),
    ({"password": "1234"}, "invalid_username"),
    ({"username": "bob", "password": "1234", "nickname": ""}, "invalid_nickname"),
])
def test_register_bad_input_returns_400_and_creates_nobody(chat, client, body, code):
    response = client.post_json("/api/register", body, status=400)
    assert response.json["error"]["code"] == code
    assert client.post_json("/api/login", {"username": "bob", "password": "1234"}, status=401)


def test_wrong_password_returns_401_with_json_error(chat):
    chat.register("alice")
    body = chat.post(None, "/api/login", {"username": "alice", "password": "nope"}, status=401)
    assert body == {"error": {"code": "bad_credentials", "message": "wrong username or password"}}


def test_failed_logins_are_throttled_with_429_and_retry_after(chat, client):
    chat.register("alice")
    for _ in range(5):
        client.post_json("/api/login", {"username": "alice", "password": "bad"}, status=401)
    response = client.post_json("/api/login", {"username": "alice", "password": "pw1234"}, status=429)
    assert response.json["error"]["code"] == "too_many_attempts"
    assert int(response.headers["Retry-After"]) >= 1


def test_every_api_call_without_token_returns_401(client):
    for path in ["/api/me", "/api/users", "/api/contacts", "/api/unread", "/api/sync",
                 "/api/conversations/1000/messages"]:
        assert client.get(path, status=401).json["error"]["code"] == "unauthorized"
    client.post_json("/api/messages", {"to": 1000, "content": "x"}, status=401)
    client.post_json("/api/conversations/1000/read", {}, status=401)


def test_logout_ends_the_session(chat):
    user = chat.register("alice")
    chat.post(user, "/api/logout", status=204)
    assert chat.get(user, "/api/me", status=401)["error"]["code"] == "invalid_token"


def test_users_lists_everyone_but_the_caller(chat):
    alice, bob = chat.register("alice"), chat.register("bob")
    names = [u["username"] for u in chat.get(alice, "/api/users")["users"]]
    assert names == ["bob"]
    assert bob.uid == alice.uid + 1


def test_users_says_how_many_there_are_and_lists_the_first_limit_by_uid(chat):
    alice = chat.register("alice")
    others = [chat.register(f"user{i}") for i in range(5)]
    listed = chat.get(alice, "/api/users", limit=3)
    assert [u["uid"] for u in listed["users"]] == [u.uid for u in others[:3]]
    assert listed["total"] == 5  # everyone but the caller, however many were listed
    assert chat.get(others[0], "/api/users")["total"] == 5
    assert len(chat.get(alice, "/api/users")["users"]) == 5


def test_a_search_finds_users_past_the_first_thousand_by_name_in_any_case(app, chat):
    """A 万人群's seed makes ten thousand users; "all contacts" lists 1,000: the rest are found by name."""
    alice = chat.register("alice")
    app.services.auth.users.create_many([(f"u{i:05d}", f"用户{i}") for i in range(1, 1201)], "x")
    assert len(chat.get(alice, "/api/users")["users"]) == 1000
    found = chat.get(alice, "/api/users", q="U0115")
    assert [u["username"] for u in found["users"]] == [f"u0115{i}" for i in range(10)]
    assert found["total"] == 1200
    assert [u["nickname"] for u in chat.get(alice, "/api/users", q="用户1199")["users"]] == ["用户1199"]
    assert len(chat.get(alice, "/api/users", q="u0")["users"]) == 50  # 50 unless asked
    assert len(chat.get(alice, "/api/users", q="u0", limit=200)["users"]) == 200
    assert chat.get(alice, "/api/users", q="alice")["users"] == []  # never the caller
    assert chat.get(alice, "/api/users", q="a_i")["users"] == []  # _ is no wildcard


@pytest.mark.parametrize("params, code", [
    ({"q": ""}, "invalid_q"), ({"q": "  "}, "invalid_q"), ({"q": "x" * 65}, "invalid_q"),
    ({"limit": "0"}, "invalid_limit"), ({"limit": "1001"}, "invalid_limit"),
    ({"q": "a", "limit": "x"}, "invalid_limit"),
])
def test_a_bad_users_search_is_refused(chat, params, code):
    alice = chat.register("alice")
    assert chat.get(alice, "/api/users", 400, **params)["error"]["code"] == code


def test_password_is_stored_salted_not_plain(app, chat):
    chat.register("alice", password="secret1")
    chat.register("bob", password="secret1")
    hashes = [u.password_hash for u in app.services.auth.users.everyone()]
    assert all("secret1" not in h for h in hashes)
    assert hashes[0] != hashes[1]


def test_behind_a_trusted_proxy_failed_logins_are_counted_per_real_client(make_config):
    """Behind nginx every peer is 127.0.0.1: with --trust-proxy the address is the last X-Forwarded-For
    entry (the one nginx appended), so one client's failures do not lock everyone out."""
    import webtest

    from imdemo.app import create_app

    from .conftest import Chat
    app = create_app(make_config(trust_proxy=True, login_attempts=1, login_window=30))
    try:
        chat = Chat(webtest.TestApp(app.wsgi, extra_environ={"REMOTE_ADDR": "127.0.0.1"}))
        chat.register("alice")

        def login(username, password, forwarded):
            return chat.client.post_json("/api/login", {"username": username, "password": password}, status="*",
                                         headers={"X-Forwarded-For": forwarded}).status_int
        attacker = [login(f"guess{i}", "wrong", f"1.2.3.4, 203.0.113.{i}") for i in range(4)]
        assert attacker == [401] * 4 and login("guess9", "wrong", "203.0.113.5") == 401
        assert login("alice", "pw1234", "1.2.3.4, 198.51.100.1") == 200  # another client is not locked out
        spoofed = [login(f"more{i}", "wrong", f"9.9.9.{i}, 203.0.113.66") for i in range(5)]
        assert spoofed[-1] == 429  # what the client writes before the proxy's entry changes nothing
    finally:
        app.close()


def _register_from(make_config, address: str | None = None, **overrides):
    """Return an app with overrides and a function registering a name from an address: its response."""
    import webtest

    from imdemo.app import create_app
    app = create_app(make_config(**overrides))
    client = webtest.TestApp(app.wsgi)

    def register(name: str, address: str = "192.0.2.1"):
        return client.post_json("/api/register", {"username": name, "password": "pw1234"}, status="*",
                                extra_environ={"REMOTE_ADDR": address})
    return app, register


def test_registrations_beyond_register_rate_from_one_address_are_429_and_create_nobody(make_config):
    app, register = _register_from(make_config, register_rate=2)
    try:
        assert [register(f"user{i}").status_int for i in range(2)] == [201, 201]
        refused = register("user2")
        assert refused.status_int == 429 and refused.json["error"]["code"] == "too_many_registrations"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert register("user3", "192.0.2.1").status_int == 429
        assert app.services.auth.users.by_username("user2") is None
        assert app.services.auth.users.by_username("user3") is None
        assert register("user4", "198.51.100.7").status_int == 201  # another address is not affected
    finally:
        app.close()


def test_bad_registrations_do_not_use_up_the_rate(make_config):
    app, register = _register_from(make_config, register_rate=1)
    try:
        assert [register("X").status_int for _ in range(3)] == [400] * 3
        assert register("alice").status_int == 201
    finally:
        app.close()


def test_register_rate_0_lifts_the_limit(make_config):
    app, register = _register_from(make_config, register_rate=0)
    try:
        assert [register(f"user{i}").status_int for i in range(15)] == [201] * 15
    finally:
        app.close()


def test_the_default_register_rate_is_10_a_minute(make_config):
    from imdemo.config import Config

    app, register = _register_from(make_config, register_rate=Config().register_rate)
    try:
        assert [register(f"user{i}").status_int for i in range(11)] == [201] * 10 + [429]
    finally:
        app.close()
