"""Sync: one cursor (the per-user seq) for short polling, long polling and resume."""
import logging
import threading
import time

import pytest

from imdemo.store.conversation import Conversation
from imdemo.store.database import write_transaction
from imdemo.store.message import Draft

from .helpers import wait_for


@pytest.fixture
def pair(chat):
    return chat.register("alice"), chat.register("bob")


def test_each_send_adds_one_event_to_both_timelines_in_seq_order(chat, pair):
    alice, bob = pair
    chat.send(alice, bob.uid, "one")
    chat.send(bob, alice.uid, "two")
    for user in pair:
        body = chat.get(user, "/api/sync", since=0)
        assert [e["seq"] for e in body["events"]] == [1, 2]
        assert [e["message"]["content"] for e in body["events"]] == ["one", "two"]
        assert body["next"] == 2 and body["has_more"] is False and body["hints_next"]


def test_resume_from_any_seq_gets_every_later_event_exactly_once_in_order(chat, pair):
    alice, bob = pair
    carol = chat.register("carol")
    for i in range(12):
        sender, to = [(alice, bob), (bob, alice), (carol, alice)][i % 3]
        chat.send(sender, to.uid, f"m{i}")
    full = [e for e in chat.get(alice, "/api/sync", since=0)["events"] if e["type"] == "message"]
    assert [e["seq"] for e in full] == list(range(1, len(full) + 1))
    for start in range(len(full) + 1):
        got, since = [], start
        while True:  # page with a small limit, as a client resuming after a long absence would
            body = chat.get(alice, "/api/sync", since=since, limit=3)
            got += body["events"]
            since = body["next"]
            if not body["has_more"]:
                break
        assert [e["seq"] for e in got] == [e["seq"] for e in full[start:]]


def test_short_poll_with_nothing_new_returns_empty_and_keeps_cursor(chat, pair):
    alice, bob = pair
    chat.send(alice, bob.uid, "x")
    body = chat.get(bob, "/api/sync", since=1)
    assert (body["events"], body["next"], body["has_more"]) == ([], 1, False)


def test_idle_poll_and_idle_long_poll_run_no_sql(chat, pair, caplog):
    alice, bob = pair
    chat.send(alice, bob.uid, "warm the caches")
    chat.get(bob, "/api/sync", since=1)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        caplog.clear()
        chat.get(bob, "/api/sync", since=1)
        chat.get(bob, "/api/sync", since=1, timeout=0.3)
    assert [r.getMessage() for r in caplog.records if r.name == "peewee"] == []


def test_long_poll_returns_as_soon_as_a_message_arrives(server):
    app, http = server
    (_, alice_token), (bob, bob_token) = _two_users(http)
    sent_at = []

    def send():
        sent_at.append(time.monotonic())
        http.ok("POST", "/api/messages", {"to": bob, "content": "wake up"}, token=alice_token)
    body = _long_poll_during(app, http, bob_token, "/api/sync?since=0&timeout=25", send)
    assert [e["message"]["content"] for e in body["events"] if e["type"] == "message"] == ["wake up"]
    assert time.monotonic() - sent_at[0] < 5  # far below the 25 s timeout: it was woken, not timed out
    assert app.notifier.listener_count() == 0


def _count_timeline_reads(app, monkeypatch) -> list:
    store, reads = app.services.sync.reader, []
    timeline = store.timeline
    monkeypatch.setattr(store, "timeline", lambda *args: reads.append(args) or timeline(*args))
    return reads


def test_a_woken_long_poll_returns_the_events_its_notice_brought_without_reading_them_back(server, monkeypatch):
    app, http = server
    (_, alice_token), (bob, bob_token) = _two_users(http)
    reads = _count_timeline_reads(app, monkeypatch)
    sent = []
    body = _long_poll_during(app, http, bob_token, "/api/sync?since=0&timeout=25", lambda: sent.append(
        http.ok("POST", "/api/messages", {"to": bob, "content": "fresh"}, token=alice_token)["message"]))
    assert [(e["seq"], e["message"]) for e in body["events"] if e["type"] == "message"] == [(1, sent[0])]
    assert body["next"] == 1 and reads == []


def test_a_woken_long_poll_reads_the_database_when_its_notice_does_not_follow_its_cursor(server, monkeypatch):
    app, http = server
    (alice, alice_token), (bob, bob_token) = _two_users(http)
    reads = _count_timeline_reads(app, monkeypatch)

    def a_silent_send_then_a_normal_one():
        with write_transaction(app.db):  # seq 1, written as a commit writes it, but announced to nobody
            silent = Draft(alice, Conversation.direct(bob), "stored without a notice")
            app.services.messages.writer.commit.messages([silent], set())
        http.ok("POST", "/api/messages", {"to": bob, "content": "then this"}, token=alice_token)  # seq 2
    body = _long_poll_during(app, http, bob_token, "/api/sync?since=0&timeout=25", a_silent_send_then_a_normal_one)
    events = [e for e in body["events"] if e["type"] == "message"]
    assert [(e["seq"], e["message"]["content"]) for e in events] == [(1, "stored without a notice"), (2, "then this")]
    assert reads  # the gap was filled from the database


def test_long_poll_times_out_empty_after_its_timeout(server):
    app, http = server
    http.ok("POST", "/api/register", {"username": "alice", "password": "pw1234"})
    _, token = http.login("alice")
    started = time.monotonic()
    body = http.ok("GET", "/api/sync?since=0&timeout=0.5", token=token)
    assert body["events"] == [] and time.monotonic() - started >= 0.5


def _two_users(http):
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    return http.login("alice"), http.login("bob")


def _long_poll_during(app, http, token: str, path: str, action) -> dict:
    """Hold a long poll, run action once it waits, and return the poll's answer."""
    result = {}
    waiting = threading.Thread(target=lambda: result.update(body=http.ok("GET", path, token=token)))
    waiting.start()
    wait_for(lambda: app.notifier.listener_count() == 1, message="the long poll to wait")
    action()
    waiting.join(timeout=30)
    return result["body"]


def test_long_poll_carries_read_receipt_and_unread_hints(server):
    app, http = server
    (alice, alice_token), (bob, bob_token) = _two_users(http)
    mid = http.ok("POST", "/api/messages", {"to": bob, "content": "read me"}, token=alice_token)["message"]["mid"]
    body = _long_poll_during(app, http, alice_token, "/api/sync?since=1&timeout=10",
                             lambda: http.ok("POST", f"/api/conversations/{alice}/read", {}, token=bob_token))
    assert {"type": "read", "with": bob, "by": bob, "up_to": mid} in body["events"]


def test_polling_past_a_message_tells_the_sender_it_was_delivered(server):
    app, http = server
    (alice, alice_token), (bob, bob_token) = _two_users(http)
    mid = http.ok("POST", "/api/messages", {"to": bob, "content": "hi"}, token=alice_token)["message"]["mid"]
    body = _long_poll_during(app, http, alice_token, "/api/sync?since=1&timeout=10",
                             lambda: http.ok("GET", "/api/sync?since=1", token=bob_token))  # bob now holds seq 1
    assert body["events"] == [{"type": "delivered", "to": bob, "up_to": mid}]


def test_hints_published_between_two_polls_reach_the_next_poll_once(chat, pair):
    alice, bob = pair
    cursor = chat.get(alice, "/api/sync", since=0)["hints_next"]  # alice's client starts listening now
    mid = chat.send(alice, bob.uid, "are you there?")["message"]["mid"]
    chat.get(bob, "/api/sync", since=1)  # bob's client now holds seq 1: delivered
    chat.post(bob, f"/api/conversations/{alice.uid}/read")  # and reads it
    body = chat.get(alice, "/api/sync", since=1, hints_since=cursor)  # a short poll, after the fact
    assert [e for e in body["events"] if e["type"] != "unread"] == [
        {"type": "delivered", "to": bob.uid, "up_to": mid}, {"type": "read", "with": bob.uid, "by": bob.uid,
                                                             "up_to": mid}]
    again = chat.get(alice, "/api/sync", since=1, hints_since=body["hints_next"])
    assert again["events"] == [] and again["hints_next"] == body["hints_next"]


@pytest.mark.parametrize("cursor", ["0-0'; DROP", "99999999999999999999-0", "0-99999999999999999999",
                                    "\u0661\u0662-\u0663", "\uff11-\uff12"])
def test_a_bad_hints_cursor_is_refused(chat, pair, cursor):
    """Also a number past a stream id's 64 bits, or digits that are not ASCII (both were a 500 from Redis)."""
    body = chat.get(pair[0], "/api/sync", status=400, hints_since=cursor)
    assert body["error"]["code"] == "invalid_hints_since"


def test_the_largest_hints_cursor_the_document_allows_is_read(chat, pair):
    assert chat.get(pair[0], "/api/sync", hints_since="9999999999999999999-9999999999999999999")["events"] == []


def test_stopping_the_server_answers_held_long_polls_at_once(server):
    app, http = server
    (_, token), _ = _two_users(http)
    started = time.monotonic()
    body = _long_poll_during(app, http, token, "/api/sync?since=0&timeout=25", app.services.sync.shut_down)
    assert body["events"] == [] and time.monotonic() - started < 10
