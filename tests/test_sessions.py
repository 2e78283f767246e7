"""Sessions answered from the process's own short-lived copy: never past the session's expiry, and never
after a logout this process has heard of, here or in another process."""
import time

import webtest

from imdemo.app import create_app
from imdemo.services.auth import token_hash
from imdemo.store.keyvalue import Keys
from imdemo.store.models import declare_models
from imdemo.store.sessions import LOCAL_SECONDS

from .conftest import Chat
from .helpers import wait_for


def _status(chat: Chat, user) -> int:
    return chat.client.get("/api/me", headers=user.headers, status="*").status_int


def _logout_elsewhere(app, token: str) -> None:
    """What another process's logout does to the shared state: the row and the Redis copy are gone."""
    Session = declare_models(app.db).Session
    Session.delete().where(Session.token_hash == token_hash(token)).execute()
    app.redis.delete(Keys(app.config.redis_prefix).session(token_hash(token)))


def test_a_session_used_just_before_it_expires_is_refused_right_after(make_config):
    app = create_app(make_config(session_ttl=1.5))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice = chat.register("alice")
        alice = chat.login("alice")
        Session = declare_models(app.db).Session
        expires = Session.get(Session.token_hash == token_hash(alice.token)).expires_at / 1000
        wait_for(lambda: time.time() >= expires - 0.3, timeout=5, message="just before the expiry")
        assert _status(chat, alice) == 200  # the process keeps a copy now
        wait_for(lambda: time.time() > expires + 0.01, timeout=5, message="the expiry to pass")
        assert _status(chat, alice) == 401  # at once: the copy never outlives the session
    finally:
        app.close()


def test_a_logout_in_another_process_ends_the_session_here_when_its_notice_arrives(app, chat):
    alice = chat.register("alice")
    alice = chat.login("alice")
    assert _status(chat, alice) == 200
    _logout_elsewhere(app, alice.token)
    app.notifier.publish(alice.uid, {"logout": token_hash(alice.token)})  # as the other process's logout does
    # well within the copy's own LOCAL_SECONDS: it is the notice that ends it
    wait_for(lambda: _status(chat, alice) == 401, timeout=LOCAL_SECONDS / 3, message="the logout notice to end it")


def test_a_lost_subscription_makes_the_process_forget_every_copy(app, chat):
    alice = chat.register("alice")
    alice, bob = chat.login("alice"), chat.login("alice")  # two sessions of one user
    assert _status(chat, alice) == 200 and _status(chat, bob) == 200
    _logout_elsewhere(app, alice.token)  # its notice never arrives here
    app.notifier.wake_all()  # what resubscribing after a lost pub/sub connection does
    assert _status(chat, alice) == 401  # at once, not after the copy's few seconds
    assert _status(chat, bob) == 200  # the other session lives on (from Redis)


def test_a_logout_here_ends_the_session_at_once(app, chat):
    alice = chat.register("alice")
    alice = chat.login("alice")
    assert _status(chat, alice) == 200
    chat.post(alice, "/api/logout", status=204)
    assert _status(chat, alice) == 401


def _session_rows(app) -> set[str]:
    Session = declare_models(app.db).Session
    return {row.token_hash for row in Session.select(Session.token_hash)}


def _expired_session(app, uid: int) -> str:
    """Write a session row that expired a minute ago, as a login long past would have left it; its hash."""
    Session = declare_models(app.db).Session
    now = int(time.time() * 1000)
    hashed = token_hash(f"long-gone-{uid}-{now}")
    Session.create(token_hash=hashed, uid=uid, created_at=now - 120_000, expires_at=now - 60_000)
    return hashed


def test_expired_sessions_are_purged_periodically_without_being_looked_up(make_config):
    app = create_app(make_config(session_purge_interval=0.05))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        alice = chat.register("alice")
        gone = _expired_session(app, alice.uid)
        live = token_hash(alice.token)
        assert {gone, live} <= _session_rows(app)
        wait_for(lambda: gone not in _session_rows(app), timeout=5, message="the expired row to be purged")
        assert live in _session_rows(app) and _status(chat, alice) == 200
    finally:
        app.close()


def test_expired_sessions_are_purged_at_start(make_config):
    app = create_app(make_config())  # the default period: an hour, so only the start can purge here
    try:
        alice = Chat(webtest.TestApp(app.wsgi)).register("alice")
        gone = _expired_session(app, alice.uid)
    finally:
        app.close()
    again = create_app(make_config())
    try:
        rows = _session_rows(again)
        assert gone not in rows and token_hash(alice.token) in rows
    finally:
        again.close()
