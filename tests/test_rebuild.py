"""Rebuilding the unread counters from the database: at a start every user is rebuilt at once, from a few
set-based statements with every user's row held; that gives exactly what rebuilding one user at a time gives
(the path a flushed Redis takes while serving), for 1:1 chats, small groups (with merged changes' guards), a
large group, a group switched to large, part-read marks, a member who left and one who came back."""
from __future__ import annotations

import webtest

from imdemo.app import create_app

from .conftest import Chat
from .test_groups import Groups


def _keys(app) -> dict:
    """Every counter key of the app (T, C, L, and the merge guards W), as stored."""
    client, prefix, found = app.redis, app.config.redis_prefix, {}
    for key in client.scan_iter(f"{prefix}*"):
        name = key[len(prefix):]
        if name.endswith(("_T", "_C", "_L", "_W")):
            kind = client.type(key)
            found[name] = client.hgetall(key) if kind == "hash" else client.get(key)
    return found


def test_a_start_rebuilds_every_counter_exactly_as_one_user_at_a_time(make_config):
    app = create_app(make_config(large_group_at=4))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        groups = Groups(chat)
        a, b, c, d, e, f = (chat.register(n) for n in ("alice", "bob", "carol", "dave", "erin", "frank"))
        chat.send(a, b.uid, "1:1 one")
        chat.send(a, b.uid, "1:1 two")
        chat.send(c, b.uid, "1:1 three")
        chat.post(b, f"/api/conversations/{a.uid}/read", {})
        small = groups.create(a, "small", [b, c])["gid"]
        for i in range(3):
            groups.send(c, small, f"s{i}")
        big = chat.post(a, "/api/groups", {"name": "big", "members": [b.uid, c.uid, d.uid], "large": True},
                        201)["group"]["gid"]
        mids = [groups.send(a if i % 2 else d, big, f"b{i}")["message"]["mid"] for i in range(5)]
        chat.post(b, f"/api/groups/{big}/read", {"up_to": mids[2]})
        groups.send(c, big, "carol writes")
        groups.remove(d, big, d)
        groups.add(a, big, [d])
        groups.send(a, big, "after dave came back")
        grows = groups.create(a, "grows", [b, c])["gid"]
        groups.send(b, grows, "before the switch")
        chat.post(c, f"/api/groups/{grows}/read", {})
        groups.add(a, grows, [d, e, f])  # 6 > 4: switches
        groups.send(b, grows, "after the switch")
        expected = {u.username: chat.get(u, "/api/unread") for u in (a, b, c, d, e, f)}
        app.redis.flushall()
        app.services.reconciler.reconcile()  # one user at a time
        one_by_one = _keys(app)
        assert {u.username: chat.get(u, "/api/unread") for u in (a, b, c, d, e, f)} == expected
        app.redis.flushall()
        app.services.reconciler.reconcile(at_once=True)  # a start
        assert _keys(app) == one_by_one
        assert {u.username: chat.get(u, "/api/unread") for u in (a, b, c, d, e, f)} == expected
    finally:
        app.close()
