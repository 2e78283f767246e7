"""Restart and store loss: the database is the truth; the store's counters are rebuilt from it."""
from imdemo.app import create_app


def _users(chat):
    return chat.register("alice"), chat.register("bob"), chat.register("carol")


def test_a_new_app_on_the_same_database_keeps_unread_sessions_and_history(make_config, app, chat):
    import webtest

    from .conftest import Chat
    alice, bob, carol = _users(chat)
    for i in range(3):
        chat.send(bob, alice.uid, f"b{i}")
    chat.send(carol, alice.uid, "c")
    chat.post(alice, f"/api/conversations/{bob.uid}/read", {"up_to": chat.get(
        alice, f"/api/conversations/{bob.uid}/messages")["messages"][0]["mid"]})
    before = [chat.get(alice, p) for p in ("/api/unread", "/api/contacts", f"/api/conversations/{bob.uid}/messages")]
    app.redis.flushall()  # a real Redis restarts empty too; the embedded store always does
    app.close()

    again = create_app(make_config())
    try:
        chat2 = Chat(webtest.TestApp(again.wsgi))
        after = [chat2.get(alice, p) for p in ("/api/unread", "/api/contacts",
                                               f"/api/conversations/{bob.uid}/messages")]
        assert after == before
        assert after[0] == {"total": 3, "conversations": {str(bob.uid): 2, str(carol.uid): 1}, "groups": {}}
        assert chat2.get(alice, "/api/sync", since=0)["next"] == 4
    finally:
        again.close()


def test_a_flushed_store_is_detected_and_rebuilt_while_serving(app, chat):
    alice, bob, carol = _users(chat)
    chat.send(bob, alice.uid, "1")
    chat.send(carol, alice.uid, "2")
    app.redis.flushall()
    assert chat.get(alice, "/api/unread") == {"total": 2, "conversations": {str(bob.uid): 1, str(carol.uid): 1},
                                              "groups": {}}
    chat.send(bob, alice.uid, "3")
    assert chat.get(alice, "/api/unread")["total"] == 3
    assert chat.get(alice, "/api/me")["user"]["uid"] == alice.uid  # the session came back from the database


def test_reconcile_repairs_drifted_counters(app, chat):
    alice, bob, _ = _users(chat)
    chat.send(bob, alice.uid, "1")
    app.redis.set(f"{app.config.redis_prefix}{alice.uid}_T", 42)
    app.redis.hset(f"{app.config.redis_prefix}{alice.uid}_C", bob.uid, 40)
    assert app.services.reconciler.reconcile() == 3
    assert chat.get(alice, "/api/unread") == {"total": 1, "conversations": {str(bob.uid): 1}, "groups": {}}
