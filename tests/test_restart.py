"""Restart and store loss: the database is the truth; the store's counters are rebuilt from it."""
import pytest
import webtest

from imdemo.app import create_app

from .conftest import Chat
from .group_checks import check_tables, counters_in_redis, peewee_query


def _users(chat):
    return chat.register("alice"), chat.register("bob"), chat.register("carol")


def test_a_new_app_on_the_same_database_keeps_unread_sessions_and_history(make_config, app, chat):
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


# Groups: the same truths after a restart


def _group_traffic(chat):
    """Two groups sharing members, their messages, reads and membership changes (a member removed with
    unread messages, then added again; a member added late); return the users, the gids and every answer."""
    alice, bob, carol = _users(chat)
    dave = chat.register("dave")
    g = chat.post(alice, "/api/groups", {"name": "g", "members": [bob.uid, carol.uid]}, status=201)["group"]["gid"]
    h = chat.post(bob, "/api/groups", {"name": "h", "members": [carol.uid, dave.uid]}, status=201)["group"]["gid"]
    answers = []

    def send(user, gid, text):
        body = {"content": text, "client_msg_id": f"{user.username}-{text}"}
        answers.append(chat.post(user, f"/api/groups/{gid}/messages", body, status=201)["message"])
    for text in ("g1", "g2", "g3"):
        send(alice, g, text)
    send(bob, g, "g4")
    send(carol, h, "h1")
    send(dave, h, "h2")
    chat.send(bob, alice.uid, "direct")
    chat.post(bob, f"/api/groups/{g}/read", {"up_to": answers[0]["mid"]})
    chat.post(carol, f"/api/groups/{h}/read", {})
    chat.client.delete(f"/api/groups/{g}/members/{carol.uid}", headers=alice.headers, status=204)  # 4 unread gone
    chat.post(alice, f"/api/groups/{g}/members", {"uids": [dave.uid]})
    send(dave, g, "g5")
    chat.post(alice, f"/api/groups/{g}/members", {"uids": [carol.uid]})  # back: sees nothing of the gap
    send(alice, g, "g6")
    send(dave, h, "h3")
    send(bob, h, "h4")
    chat.client.delete(f"/api/groups/{h}/members/{dave.uid}", headers=dave.headers, status=204)  # h4 unread, gone
    return (alice, bob, carol, dave), (g, h), answers


def _what_each_sees(chat, users, gids) -> dict:
    seen = {}
    for user in users:
        mine = [x["gid"] for x in chat.get(user, "/api/groups")["groups"]]
        seen[user.username] = [chat.get(user, p) for p in ("/api/unread", "/api/contacts", "/api/groups")] + [
            chat.get(user, f"/api/groups/{gid}/messages", limit=100) for gid in gids if gid in mine] + [
            chat.get(user, "/api/sync", since=0, limit=1000)["events"]]
    return seen


@pytest.mark.parametrize("store", ["flushed", "drifted"])
def test_a_restart_keeps_every_group_message_timeline_and_counter(make_config, app, chat, store):
    """After a restart on the same database (the store flushed, as a restarted Redis, or left with wrong
    counts, as after a death between the unread script and the commit), every acknowledged group message is
    there once, each member's timeline resumes with the next seq, and `{uid}_T` and the `g<gid>` fields of
    `{uid}_C` equal the database's count exactly."""
    users, (g, h), answers = _group_traffic(chat)
    alice, bob, carol, dave = users
    before = _what_each_sees(chat, users, (g, h))
    last_seq = {u.uid: chat.get(u, "/api/sync", since=0, limit=1000)["next"] for u in users}
    prefix = app.config.redis_prefix
    if store == "flushed":
        app.redis.flushall()
    else:
        for user in users:
            app.redis.set(f"{prefix}{user.uid}_T", 999)
            app.redis.hset(f"{prefix}{user.uid}_C", mapping={f"g{g}": 99, f"g{h}": 98, "g424242": 7})
    app.close()

    again = create_app(make_config())
    try:
        chat2 = Chat(webtest.TestApp(again.wsgi))
        assert _what_each_sees(chat2, users, (g, h)) == before
        unread = check_tables(peewee_query(again.db))
        for user in users:
            assert counters_in_redis(again.redis, prefix, user.uid) == unread[user.uid] == chat2.get(
                user, "/api/unread"), user.username
        assert unread[carol.uid]["groups"] == {str(g): 1, str(h): 2}  # g6: her unread in g went with her removal
        assert unread[dave.uid]["groups"] == {str(g): 1}  # g6; h, which he left, counts no more
        assert unread[alice.uid] == {"total": 3, "conversations": {str(bob.uid): 1}, "groups": {str(g): 2}}
        rows = again.db.execute_sql("SELECT mid, content, client_msg_id FROM im_msg_content"
                                    " WHERE client_msg_id IS NOT NULL AND recipient_id < 0").fetchall()
        assert sorted((int(m), c, k) for m, c, k in rows) == sorted(
            (a["mid"], a["content"], a["client_msg_id"]) for a in answers)  # each acknowledged one, once

        after = chat2.post(bob, f"/api/groups/{g}/messages", {"content": "after the restart"}, status=201)["message"]
        assert after["gseq"] == max(a["gseq"] for a in answers if a["group"] == g) + 1
        for user in users:  # every member resumes from the seq it held: the new message is the next one
            events = chat2.get(user, "/api/sync", since=last_seq[user.uid])["events"]
            got = [(e["seq"], e["message"]["mid"]) for e in events if e["type"] == "message"]
            assert got == [(last_seq[user.uid] + 1, after["mid"])], user.username
        assert counters_in_redis(again.redis, prefix, alice.uid)["groups"] == {str(g): 3}
    finally:
        again.close()


def test_reconcile_repairs_drifted_group_counters_and_drops_the_field_of_a_group_left(app, chat):
    alice, bob, _ = _users(chat)
    g = chat.post(alice, "/api/groups", {"name": "g", "members": [bob.uid]}, status=201)["group"]["gid"]
    k = chat.post(alice, "/api/groups", {"name": "k", "members": [bob.uid]}, status=201)["group"]["gid"]
    chat.post(alice, f"/api/groups/{g}/messages", {"content": "one"}, status=201)
    chat.post(alice, f"/api/groups/{k}/messages", {"content": "two"}, status=201)
    chat.client.delete(f"/api/groups/{k}/members/{bob.uid}", headers=bob.headers, status=204)
    prefix = app.config.redis_prefix
    app.redis.set(f"{prefix}{bob.uid}_T", 42)
    app.redis.hset(f"{prefix}{bob.uid}_C", mapping={f"g{g}": 40, f"g{k}": 2})
    assert app.services.reconciler.reconcile() == 3
    assert chat.get(bob, "/api/unread") == {"total": 1, "conversations": {}, "groups": {str(g): 1}}
    assert counters_in_redis(app.redis, prefix, bob.uid) == check_tables(peewee_query(app.db))[bob.uid]
