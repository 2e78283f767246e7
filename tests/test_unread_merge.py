"""Merged unread changes for groups (lecture 20, --unread-merge): a group message's increments wait for the
window and are applied once per member; a count taken from the database meanwhile (a read, a rebuild, a
removal) is never counted twice; a crash inside a window costs nothing after the restart's rebuild; 1:1
messages are counted at once as before."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app

from .conftest import REAL_POSTGRES, REAL_REDIS, Chat
from .helpers import wait_for
from .test_groups import Groups, unread_in_database

HOUR_MS = 3_600_000  # a window that never closes by itself: the test flushes when it wants


@pytest.fixture
def merged(make_config):
    """An app whose merge window is an hour (flushed by hand), with alice, bob and carol in a group."""
    apps = []

    def build(window_ms: float = HOUR_MS, **overrides):
        app = create_app(make_config(unread_merge=window_ms, **overrides))
        apps.append(app)
        chat = Chat(webtest.TestApp(app.wsgi))
        return app, chat, Groups(chat)
    yield build
    for app in apps:
        app.close()


def setup_group(chat, groups):
    users = [chat.register(name) for name in ("alice", "bob", "carol")]
    gid = groups.create(users[0], "merged", users[1:])["gid"]
    return users, gid


def exact(app, chat, users) -> bool:
    """Every user's counters equal the database's count (groups), and total == sum."""
    for user in users:
        unread = chat.get(user, "/api/unread")
        if unread["groups"] != unread_in_database(app, user.uid):
            return False
        assert unread["total"] == sum(unread["conversations"].values()) + sum(unread["groups"].values())
    return True


def test_group_increments_wait_for_the_window_then_count_once_per_member(merged):
    app, chat, groups = merged()
    (alice, bob, carol), gid = setup_group(chat, groups)
    for i in range(3):
        groups.send(alice, gid, f"m{i}")
    groups.send(bob, gid, "from bob")
    assert chat.get(carol, "/api/unread")["groups"] == {}  # gathered, not applied yet
    chat.send(alice, carol.uid, "a 1:1 message is counted at once")
    assert chat.get(carol, "/api/unread")["conversations"] == {str(alice.uid): 1}
    app.services.messages.writer.merger.flush()
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 4}
    assert chat.get(bob, "/api/unread")["groups"] == {str(gid): 3}  # never their own
    assert chat.get(alice, "/api/unread")["groups"] == {str(gid): 1}
    assert exact(app, chat, (alice, bob, carol))


def test_a_read_between_the_commit_and_the_merge_is_not_counted_twice(merged):
    app, chat, groups = merged()
    (alice, bob, carol), gid = setup_group(chat, groups)
    first = groups.send(alice, gid, "read before the merge")["message"]
    groups.send(alice, gid, "also pending")
    groups.read(carol, gid, up_to=first["mid"])  # counted from the database: 1 still unread
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 1}
    app.services.messages.writer.merger.flush()  # both messages are at or below what the read covered
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 1}
    groups.send(alice, gid, "after the read")
    app.services.messages.writer.merger.flush()
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 2}
    assert exact(app, chat, (alice, bob, carol))


def test_a_rebuild_or_a_removal_between_the_commit_and_the_merge_is_not_counted_twice(merged):
    app, chat, groups = merged()
    (alice, bob, carol), gid = setup_group(chat, groups)
    groups.send(alice, gid, "one")
    app.services.reconciler.reconcile()  # e.g. a flushed Redis rebuilt by another process
    groups.send(alice, gid, "two")
    groups.remove(alice, gid, bob)
    app.services.messages.writer.merger.flush()
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 2}
    assert chat.get(bob, "/api/unread")["groups"] == {}  # removed: their unread for the group is 0
    assert exact(app, chat, (alice, bob, carol))


def test_a_crash_inside_a_window_costs_nothing_after_the_restart(merged, make_config):
    app, chat, groups = merged()
    (alice, bob, carol), gid = setup_group(chat, groups)
    for i in range(5):
        groups.send(bob if i % 2 else alice, gid, f"m{i}")
    app.services.messages.writer.merger._pending.clear()  # the process dies: what it had gathered is gone
    again, chat2, _ = merged()  # restarted on the same database (and the same Redis, on a real backend)
    assert chat2.get(carol, "/api/unread")["groups"] == {str(gid): 5}
    assert chat2.get(alice, "/api/unread")["groups"] == {str(gid): 2}
    assert exact(again, chat2, (alice, bob, carol))


def test_the_window_closes_by_itself(merged):
    app, chat, groups = merged(window_ms=50)
    (alice, bob, carol), gid = setup_group(chat, groups)
    for i in range(4):
        groups.send(alice, gid, f"m{i}")
    wait_for(lambda: chat.get(carol, "/api/unread")["groups"] == {str(gid): 4}, message="the merged change")
    assert exact(app, chat, (alice, bob, carol))


def test_a_clean_shutdown_applies_what_was_gathered(merged, make_config):
    if not REAL_REDIS:
        pytest.skip("the embedded store does not outlive the app; the restart's rebuild covers it there")
    app, chat, groups = merged()
    (alice, bob, carol), gid = setup_group(chat, groups)
    groups.send(alice, gid, "gathered")
    app.close()
    app.close = lambda: None  # the fixture closes it again
    counters = app.services.messages.unread.counters
    assert counters.read(carol.uid)[1] == {f"g{gid}": 1}


@pytest.mark.real_backend
def test_a_read_in_another_process_is_not_counted_twice_by_this_ones_merge(merged):
    if not (REAL_REDIS and REAL_POSTGRES):
        pytest.skip("needs a real Redis and PostgreSQL shared by two apps")
    merging, chat, groups = merged()
    other, chat_b, groups_b = merged(window_ms=0)
    (alice, bob, carol), gid = setup_group(chat, groups)
    groups.send(alice, gid, "through the merging process")
    groups_b.read(carol, gid)  # the other process counts it from the database
    merging.services.messages.writer.merger.flush()
    assert chat_b.get(carol, "/api/unread")["groups"] == {}
    assert exact(other, chat_b, (alice, bob, carol))


def test_a_window_with_nothing_of_a_group_gathered_is_no_action_in_the_inspector(merged):
    """Only a group's text message is merged: a 1:1 send or read afterwards leaves no empty 'unread merge'
    action in the inspector (it showed 'groups []' half a second after each, even with polls hidden)."""
    app, chat, groups = merged(inspect=True)
    (alice, bob, carol), gid = setup_group(chat, groups)
    inspector, merger = app.services.inspector, app.services.messages.writer.merger
    inspector.actions_after(0)  # the inspector's page is open: actions are recorded from here on
    groups.send(alice, gid, "counted in a merge")
    merger.flush()
    chat.send(alice, bob.uid, "a 1:1 message")
    chat.post(bob, f"/api/conversations/{alice.uid}/read")
    merger.flush()  # the window closes with nothing gathered
    merges = [a["info"] for a in inspector.actions_after(0)["actions"] if a["name"] == "unread merge"]
    assert merges == [{"groups": [gid]}]


def test_a_large_groups_message_is_never_handed_to_the_merge(merged):
    """Read diffusion counts nothing per member: nothing of a large group waits for a merge window."""
    app, chat, groups = merged()
    alice, bob = chat.register("alice"), chat.register("bob")
    gid = chat.post(alice, "/api/groups", {"name": "big", "members": [bob.uid], "large": True}, 201)["group"]["gid"]
    chat.post(alice, f"/api/groups/{gid}/messages", {"content": "counted as N - L"}, 201)
    assert app.services.messages.writer.merger.waiting(gid) == {} and not app.services.messages.writer.merger._pending
    assert chat.get(bob, "/api/unread")["groups"] == {str(gid): 1}
