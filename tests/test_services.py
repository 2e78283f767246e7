"""Services without HTTP: the rules of sending, reading and counting."""
import threading

import pytest

from imdemo.services.conversations import direct
from imdemo.services.errors import BadInput, NotFound, RateLimited


@pytest.fixture
def people(services):
    return [services.auth.register(name, "pw1234")["uid"] for name in ("alice", "bob", "carol")]


def test_send_message_returns_the_message_and_counts_it_for_the_recipient_only(services, people):
    alice, bob, _ = people
    message, created = services.messages.send(alice, direct(bob), "hi")
    assert created and message["from"] == alice and message["to"] == bob
    assert services.contacts.unread(bob) == {"total": 1, "conversations": {str(alice): 1}, "groups": {}}
    assert services.contacts.unread(alice)["total"] == 0


def test_send_to_unknown_user_raises_not_found_and_takes_no_seq(services, people):
    alice, _, _ = people
    with pytest.raises(NotFound):
        services.messages.send(alice, direct(424242), "hi")
    assert services.sync.last_seq(alice) == 0


def test_send_to_yourself_is_bad_input(services, people):
    with pytest.raises(BadInput):
        services.messages.send(people[0], direct(people[0]), "me")


def test_concurrent_retries_of_one_client_msg_id_store_one_message(services, people):
    alice, bob, _ = people
    results = []
    workers = [threading.Thread(target=lambda: results.append(
        services.messages.send(alice, direct(bob), "once", "same-id"))) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert sum(created for _, created in results) == 1
    assert len({m["mid"] for m, _ in results}) == 1
    assert services.contacts.unread(bob)["total"] == 1
    assert services.sync.last_seq(bob) == 1


def test_send_rate_limit_refuses_past_n_per_second(app, people):
    service = app.services.messages
    service.send_rate = 3
    alice, bob, _ = people
    for i in range(3):
        service.send(alice, direct(bob), str(i))
    with pytest.raises(RateLimited) as refused:
        service.send(alice, direct(bob), "too many")
    assert 0 < refused.value.retry_after <= 1
    assert app.services.contacts.unread(bob)["total"] == 3


def test_mark_read_never_goes_below_zero_and_is_monotonic(services, people):
    alice, bob, _ = people
    mids = [services.messages.send(bob, direct(alice), str(i))[0]["mid"] for i in range(4)]
    assert services.messages.mark_read(alice, direct(bob), mids[2])["unread"] == 1
    assert services.messages.mark_read(alice, direct(bob), mids[0])["read_mid"] == mids[2]
    assert services.messages.mark_read(alice, direct(bob))["unread"] == 0
    assert services.messages.mark_read(alice, direct(bob))["total_unread"] == 0
    assert services.messages.mark_read(alice, direct(people[2]))["unread"] == 0  # no conversation yet


def test_mark_read_racing_sends_leaves_counters_equal_to_the_database(app, services, people):
    alice, bob, carol = people
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            services.messages.mark_read(alice, direct(bob))
    reading = threading.Thread(target=reader)
    reading.start()
    for i in range(60):
        services.messages.send(bob if i % 2 else carol, direct(alice), str(i))
    stop.set()
    reading.join(timeout=30)
    live = services.contacts.unread(alice)
    app.redis.flushall()
    app.services.reconciler.reconcile()
    assert services.contacts.unread(alice) == live
    assert live["total"] == sum(live["conversations"].values()) >= 30


@pytest.mark.parametrize("action", ["send", "read"])
def test_a_commit_failing_after_the_unread_script_leaves_no_drift(app, services, people, monkeypatch, action):
    """The unread script is the transaction's last step; if the commit then fails, the database rolls back
    while Redis keeps the change. The store recounts that user at once."""
    alice, bob, _ = people
    services.messages.send(alice, direct(bob), "one")
    commit = app.db.commit

    def failing_commit():
        monkeypatch.setattr(app.db, "commit", commit)  # only this once
        raise RuntimeError("the disk is full")
    monkeypatch.setattr(app.db, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        if action == "send":
            services.messages.send(alice, direct(bob), "never committed")
        else:
            services.messages.mark_read(bob, direct(alice))
    assert services.contacts.unread(bob) == {"total": 1, "conversations": {str(alice): 1}, "groups": {}}
    assert len(services.messages.history(bob, direct(alice))["messages"]) == 1
