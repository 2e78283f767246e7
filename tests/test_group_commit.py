"""Group commit: callers queued behind a group are written together, each getting its own answer.

Every test forms its queue on purpose: the first group's write is held until the callers meant to
share the next group are queued behind it (seen in the GroupCommit's queue, with a deadline), then let go.
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
import redis

from imdemo.services.conversations import direct, group
from imdemo.store.commit_queue import CommitQueue as GroupCommit
from imdemo.store.models import declare_models

from .helpers import wait_for

UNKNOWN_UID = 999_999
MARKER = {"marker": True}  # a notice published after the group's, to know when all before it arrived


class Caller(threading.Thread):
    """Run call() in a thread of its own; keep what it returned or raised."""

    def __init__(self, call):
        super().__init__(daemon=True)
        self.call, self.value, self.error = call, None, None

    def run(self) -> None:
        try:
            self.value = self.call()
        except BaseException as e:  # kept, then asserted in the test's thread
            self.error = e


class HeldGroup:
    """Wrap a GroupCommit's write: record the items of every group, and hold the first group until the
    callers meant for the next one are all queued behind it."""

    def __init__(self, group: GroupCommit):
        self.group, self.inner = group, group.write
        self.groups: list[list] = []
        self.first_in, self.released = threading.Event(), threading.Event()
        group.write = self._write

    def _write(self, items: list) -> list:
        self.groups.append(list(items))
        if len(self.groups) == 1:
            self.first_in.set()
            if not self.released.wait(10):
                raise AssertionError("the first group was never released")
        return self.inner(items)

    def _queued(self, n: int):
        return lambda: len(self.group._queue) == n

    def run(self, first, queued: list) -> tuple[Caller, list[Caller]]:
        """Call first (held in write), then each of queued in order, once the one before it is queued;
        release the first group and return every caller once all are done."""
        leader = Caller(first)
        leader.start()
        assert self.first_in.wait(10), "the first caller never reached write"
        callers = []
        for n, call in enumerate(queued, 1):
            callers.append(Caller(call))
            callers[-1].start()
            wait_for(self._queued(n), message=f"{n} callers queued")
        self.released.set()
        deadline = time.monotonic() + 30
        for caller in [leader, *callers]:
            caller.join(timeout=max(0.0, deadline - time.monotonic()))
            assert not caller.is_alive(), "a caller never got its outcome"
        return leader, callers


def submitting(group: GroupCommit, item):
    return lambda: group.submit(item)


# GroupCommit alone


def test_callers_queued_behind_a_group_are_written_as_the_next_group_in_submit_order():
    group = GroupCommit(lambda items: [f"wrote {item}" for item in items])
    held = HeldGroup(group)
    leader, callers = held.run(submitting(group, 0), [submitting(group, i) for i in range(1, 6)])
    assert held.groups == [[0], [1, 2, 3, 4, 5]]
    assert leader.value == "wrote 0"
    assert [(c.value, c.error) for c in callers] == [(f"wrote {i}", None) for i in range(1, 6)]


def test_an_exception_as_an_outcome_is_raised_in_its_own_caller_only():
    group = GroupCommit(lambda items: [ValueError(item) if item == 3 else item * 10 for item in items])
    held = HeldGroup(group)
    _, callers = held.run(submitting(group, 0), [submitting(group, i) for i in range(1, 6)])
    assert held.groups[1] == [1, 2, 3, 4, 5]
    failed = callers[2]
    assert isinstance(failed.error, ValueError) and failed.error.args == (3,) and failed.value is None
    assert [(c.value, c.error) for c in callers if c is not failed] == [(10, None), (20, None), (40, None),
                                                                        (50, None)]


@pytest.mark.parametrize("failing, error", [
    pytest.param(lambda items: 1 / 0, ZeroDivisionError, id="write-raises"),
    pytest.param(lambda items: ["one outcome"], RuntimeError, id="write-answers-too-few"),
])
def test_a_failed_write_fails_its_whole_group_and_later_groups_still_run(failing, error):
    def write(items):
        return failing(items) if "doomed" in items[0] else [f"wrote {item}" for item in items]

    group = GroupCommit(write)
    held = HeldGroup(group)
    leader, callers = held.run(submitting(group, "first"), [submitting(group, f"doomed {i}") for i in range(5)])
    assert leader.value == "wrote first"
    assert len(held.groups[1]) == 5
    assert all(isinstance(c.error, error) for c in callers), [c.error for c in callers]
    assert all(c.value is None for c in callers)
    later = [Caller(submitting(group, f"later {i}")) for i in range(3)]  # the lead was passed on, not lost
    for caller in later:
        caller.start()
    for caller in later:
        caller.join(timeout=10)
        assert not caller.is_alive(), "a submit after the failed group never completed"
    assert sorted(c.value for c in later) == ["wrote later 0", "wrote later 1", "wrote later 2"]
    assert group.submit("alone") == "wrote alone"


def test_a_failed_first_group_passes_the_lead_to_the_callers_queued_behind_it():
    def write(items):
        if items == ["first"]:
            raise OSError("disk full")
        return [f"wrote {item}" for item in items]

    group = GroupCommit(write)
    held = HeldGroup(group)
    leader, callers = held.run(submitting(group, "first"), [submitting(group, i) for i in range(5)])
    assert isinstance(leader.error, OSError)
    assert held.groups[1] == [0, 1, 2, 3, 4]
    assert [c.value for c in callers] == [f"wrote {i}" for i in range(5)]


def test_while_alone_every_item_is_written_in_a_group_of_its_own():
    group = GroupCommit(lambda items: [f"wrote {item}" for item in items], alone=lambda: True)
    held = HeldGroup(group)
    leader, callers = held.run(submitting(group, 0), [submitting(group, i) for i in range(1, 6)])
    assert held.groups == [[i] for i in range(6)]
    assert [leader.value] + [c.value for c in callers] == [f"wrote {i}" for i in range(6)]


def test_a_group_holds_at_most_most_items_and_the_rest_follow_in_order():
    group = GroupCommit(lambda items: [f"wrote {item}" for item in items], most=2)
    held = HeldGroup(group)
    _, callers = held.run(submitting(group, 0), [submitting(group, i) for i in range(1, 6)])
    assert held.groups == [[0], [1, 2], [3, 4], [5]]
    assert [c.value for c in callers] == [f"wrote {i}" for i in range(1, 6)]


# Through the app: one group of sends of every kind


def post(chat, user, to: int, content: str, client_msg_id: str | None = None):
    """Return a function that sends one message over HTTP and returns (status, body), whatever the status."""
    body = {"to": to, "content": content}
    if client_msg_id is not None:
        body["client_msg_id"] = client_msg_id

    def send():
        response = chat.client.post_json("/api/messages", body, headers=user.headers, status="*")
        return response.status_int, response.json
    return send


def timeline_seqs(m, uid: int) -> list[int]:
    query = m.MsgRelation.select(m.MsgRelation.seq).where(m.MsgRelation.owner_uid == uid)
    return [r.seq for r in query.order_by(m.MsgRelation.seq)]


def unread_in_database(m, uid: int) -> dict[str, int]:
    rows = m.MsgRelation.select().where((m.MsgRelation.owner_uid == uid) & (m.MsgRelation.type == 1))
    return {str(other): n for other, n in Counter(r.other_uid for r in rows).items()}


def record_unread_scripts(app, monkeypatch) -> list[list[tuple[int, int]]]:
    """Record the (sender, recipient) pairs of every unread script run from now on (for 1:1 messages, an
    increment's field of {uid}_C is the sender's uid, its amount 1)."""
    counters, runs = app.services.messages.unread.counters, []
    on_messages = counters.on_messages

    def recording(increments, seqs):
        assert all(amount == 1 for _, _, amount in increments)
        runs.append([(int(field), recipient) for field, recipient, _ in increments])
        return on_messages(increments, seqs)
    monkeypatch.setattr(counters, "on_messages", recording)
    return runs


def test_one_group_of_mixed_sends_answers_each_sender_and_keeps_every_invariant(app, chat, monkeypatch):
    alice, bob, carol, dave = (chat.register(name) for name in ("alice", "bob", "carol", "dave"))
    old = chat.send(dave, bob.uid, "old", client_msg_id="old-1")["message"]
    scripts = record_unread_scripts(app, monkeypatch)
    held = HeldGroup(app.services.messages.writer.queue)
    sends = [
        post(chat, alice, bob.uid, "a1"),
        post(chat, bob, alice.uid, "b1"),
        post(chat, carol, dave.uid, "c1"),
        post(chat, carol, alice.uid, "dup", "dup-1"),
        post(chat, alice, UNKNOWN_UID, "nobody"),
        post(chat, carol, alice.uid, "dup", "dup-1"),  # the same send again, in the same group
        post(chat, dave, bob.uid, "old", "old-1"),  # a retry of a send stored before the group
        post(chat, dave, alice.uid, "d1"),
        post(chat, bob, carol.uid, "b2"),
    ]
    leader, callers = held.run(post(chat, alice, bob.uid, "lead"), sends)

    assert [len(g) for g in held.groups] == [1, len(sends)]
    assert leader.error is None and leader.value[0] == 201
    assert [c.error for c in callers] == [None] * len(sends)
    answers = [c.value for c in callers]
    assert [status for status, _ in answers] == [201, 201, 201, 201, 404, 200, 200, 201, 201]
    assert answers[4][1]["error"]["code"] == "no_such_user"
    first_dup, second_dup = answers[3][1]["message"], answers[5][1]["message"]
    assert second_dup == first_dup and first_dup["client_msg_id"] == "dup-1"
    assert answers[6][1]["message"] == old
    new_mids = [answers[i][1]["message"]["mid"] for i in (0, 1, 2, 3, 7, 8)]
    assert len(set(new_mids)) == 6 and old["mid"] < leader.value[1]["message"]["mid"] < min(new_mids)
    # One unread script for the whole group, counting each new message once: the group was written
    # together, not retried one send at a time (which would hide a broken dedupe behind the unique index).
    assert scripts == [[(alice.uid, bob.uid)], [(alice.uid, bob.uid), (bob.uid, alice.uid), (carol.uid, dave.uid),
                                                (carol.uid, alice.uid), (dave.uid, alice.uid), (bob.uid, carol.uid)]]

    m = declare_models(app.db)
    # old, lead, then a1, b1, c1, dup, d1, b2: each once, and no row for the send to nobody
    contents = Counter(r.content for r in m.MsgContent.select())
    assert contents == Counter(["old", "lead", "a1", "b1", "c1", "dup", "d1", "b2"])
    assert m.MsgRelation.select().count() == 2 * len(contents)
    involved = [(alice, 5), (bob, 5), (carol, 3), (dave, 3)]  # messages each one sent or received
    for user, n in involved:
        assert timeline_seqs(m, user.uid) == list(range(1, n + 1)), user.username
        assert m.User.get_by_id(user.uid).seq == n
        assert app.services.sync.last_seq(user.uid) == n  # the seq cached by the group's unread script
        unread = chat.get(user, "/api/unread")
        assert unread["conversations"] == unread_in_database(m, user.uid), user.username
        assert unread["total"] == sum(unread["conversations"].values())
    assert chat.get(alice, "/api/unread")["conversations"] == {str(bob.uid): 1, str(carol.uid): 1,
                                                               str(dave.uid): 1}


def drop_the_store_once_in_a_group(app, monkeypatch) -> threading.Event:
    """Make the unread script of the next group of two or more fail, as a dropped Redis connection would,
    so that the group's transaction fails as a whole; return the event set when it has."""
    counters, dropped = app.services.messages.unread.counters, threading.Event()
    on_messages = counters.on_messages

    def drop_once(increments, seqs):
        if len(increments) > 1 and not dropped.is_set():
            dropped.set()
            raise redis.ConnectionError("injected: connection reset")
        return on_messages(increments, seqs)
    monkeypatch.setattr(counters, "on_messages", drop_once)
    return dropped


def test_a_group_that_fails_as_a_whole_is_retried_one_send_at_a_time(app, chat, monkeypatch):
    alice, bob = chat.register("alice"), chat.register("bob")
    dropped = drop_the_store_once_in_a_group(app, monkeypatch)
    held = HeldGroup(app.services.messages.writer.queue)
    sends = [post(chat, alice, bob.uid, "a1"), post(chat, bob, alice.uid, "b1"), post(chat, alice, bob.uid, "a2")]
    _, callers = held.run(post(chat, alice, bob.uid, "lead"), sends)
    assert dropped.is_set() and len(held.groups[1]) == 3
    assert [c.value[0] for c in callers] == [201, 201, 201]
    m = declare_models(app.db)
    assert sorted(r.content for r in m.MsgContent.select()) == ["a1", "a2", "b1", "lead"]
    for user in (alice, bob):
        assert timeline_seqs(m, user.uid) == [1, 2, 3, 4]
        assert chat.get(user, "/api/unread")["conversations"] == unread_in_database(m, user.uid)


def test_a_retried_group_answers_a_send_to_an_unknown_uid_without_failing_the_others(app, chat, monkeypatch):
    alice, bob = chat.register("alice"), chat.register("bob")
    dropped = drop_the_store_once_in_a_group(app, monkeypatch)
    held = HeldGroup(app.services.messages.writer.queue)
    sends = [post(chat, alice, bob.uid, "a1"), post(chat, alice, UNKNOWN_UID, "nobody"),
             post(chat, bob, alice.uid, "b1")]
    _, callers = held.run(post(chat, alice, bob.uid, "lead"), sends)
    assert dropped.is_set() and len(held.groups[1]) == 3
    assert [c.value[0] for c in callers] == [201, 404, 201]
    m = declare_models(app.db)
    assert sorted(r.content for r in m.MsgContent.select()) == ["a1", "b1", "lead"]


# The notices of a group


def published_until_marker(channel) -> list[dict]:
    """Return the messages published on the notices channel, up to the marker (not included), each as
    {"bodies": {...}, "notices": [[uid, notice], ...]} (a message without bodies has none)."""
    messages, deadline = [], time.monotonic() + 10
    while time.monotonic() < deadline:
        message = channel.get_message(timeout=0.5)
        if message is None:
            continue
        payload = json.loads(message["data"])
        if isinstance(payload, list):
            payload = {"bodies": {}, "notices": payload}
        if payload["notices"] and all(notice == MARKER for _, notice in payload["notices"]):
            return messages
        messages.append(payload)
    raise AssertionError("the marker was never published")


def test_a_group_publishes_one_notice_per_user_with_the_newest_seq_and_every_unread_hint(app):
    auth, messages = app.services.auth, app.services.messages
    x, y, anna, ben, cleo = (auth.register(name, "pw1234")["uid"] for name in ("xavier", "yves", "anna", "ben", "cleo"))
    heard: dict[int, list[dict]] = {uid: [] for uid in (anna, ben, cleo)}
    for uid, notices in heard.items():
        app.notifier.listen(uid, notices.append)
    channel = app.redis.pubsub(ignore_subscribe_messages=True)
    channel.subscribe(app.notifier.keys.notices)

    held = HeldGroup(messages.writer.queue)
    pairs = [(anna, ben), (anna, ben), (ben, anna), (cleo, anna), (anna, cleo), (cleo, ben)]
    _, callers = held.run(lambda: messages.send(x, direct(y), "lead"),
                          [lambda s=s, r=r: messages.send(s, direct(r), f"{s}>{r}") for s, r in pairs])
    assert [caller.error for caller in callers] == [None] * len(pairs)
    assert [len(g) for g in held.groups] == [1, len(pairs)]

    # Notices travel in publish order: once the marker is heard, everything published before it was.
    app.redis.publish(app.notifier.keys.notices, json.dumps([[uid, MARKER] for uid in heard]))
    published = published_until_marker(channel)
    channel.close()
    # one PUBLISH per group, each of its users once in it, each message's body once in it
    assert [sorted(uid for uid, _ in p["notices"]) for p in published] == [sorted([x, y]),
                                                                            sorted([anna, ben, cleo])]
    assert sorted(body["content"] for body in published[1]["bodies"].values()) == sorted(f"{s}>{r}" for s, r in pairs)
    wait_for(lambda: all(notices and notices[-1] == MARKER for notices in heard.values()),
             message="the marker notice")
    m = declare_models(app.db)
    for uid, notices in heard.items():
        assert len(notices) == 2, notices  # the group's one notice, then the marker
        notice = notices[0]
        assert notice["seq"] == timeline_seqs(m, uid)[-1] == app.services.sync.last_seq(uid)
        senders = [s for s, r in pairs if r == uid]
        hints = notice.get("hints", [])
        assert [h["conversation"]["uid"] for h in hints] == senders
        unread = app.services.contacts.unread(uid)
        assert hints[-1]["total"] == unread["total"] == len(senders)
        for sender in set(senders):
            last = [h for h in hints if h["conversation"]["uid"] == sender][-1]
            assert last["conversation"]["unread"] == unread["conversations"][str(sender)]


def test_a_commit_of_group_and_1to1_messages_gives_each_listening_member_its_own_events_in_seq_order(app):
    auth, messages, groups = app.services.auth, app.services.messages, app.services.groups
    anna, ben, cleo, dave, x = (auth.register(n, "pw1234")["uid"] for n in ("anna", "ben", "cleo", "dave", "xavier"))
    heard: dict[int, list[dict]] = {uid: [] for uid in (anna, ben)}  # cleo and dave are held by no listener here
    for uid, notices in heard.items():
        app.notifier.listen(uid, notices.append)
    gid = groups.create(anna, "four", [ben, cleo, dave])["gid"]
    wait_for(lambda: all(heard.values()), message="the notice of the message that made the group")
    for notices in heard.values():
        notices.clear()
    channel = app.redis.pubsub(ignore_subscribe_messages=True)
    channel.subscribe(app.notifier.keys.notices)

    held = HeldGroup(messages.writer.queue)
    sends = [lambda: messages.send(anna, group(gid), "g1"), lambda: messages.send(x, direct(anna), "d1"),
             lambda: messages.send(ben, group(gid), "g2"), lambda: messages.send(anna, direct(x), "d2")]
    _, callers = held.run(lambda: messages.send(x, direct(dave), "lead"), sends)
    assert [c.error for c in callers] == [None] * 4 and [len(g) for g in held.groups] == [1, 4]
    mids = {c.value[0]["content"]: c.value[0]["mid"] for c in callers}

    app.redis.publish(app.notifier.keys.notices, json.dumps([[uid, MARKER] for uid in heard]))
    raw, deadline = [], time.monotonic() + 10

    def is_marker(data: str) -> bool:
        payload = json.loads(data)
        return isinstance(payload, list) and any(notice == MARKER for _, notice in payload)
    while not raw or not is_marker(raw[-1]):
        assert time.monotonic() < deadline, "the marker was never published"
        message = channel.get_message(timeout=0.5)
        if message is not None:
            raw.append(message["data"])
    channel.close()
    assert len(raw) == 3  # the lead's commit, the four sends' one PUBLISH, the marker
    for content in ("g1", "d1", "g2", "d2"):  # each body once, however many members it reached
        assert raw[1].count(f'"content":"{content}"') == 1
    wait_for(lambda: all(n and n[-1] == MARKER for n in heard.values()), message="the marker notice")
    m = declare_models(app.db)
    expected = {anna: ["g1", "d1", "g2", "d2"], ben: ["g1", "g2"]}
    for uid, notices in heard.items():
        assert len(notices) == 2, notices  # one notice for the commit, then the marker
        notice, seqs = notices[0], timeline_seqs(m, uid)
        events = notice["events"]
        assert [e["message"]["content"] for e in events] == expected[uid]
        assert [e["seq"] for e in events] == seqs[-len(expected[uid]):]  # its own seqs, in order, gapless
        assert [e["message"]["mid"] for e in events] == [mids[c] for c in expected[uid]]
        assert notice["seq"] == seqs[-1] == app.services.sync.last_seq(uid)
        assert all(e["type"] == "message" for e in events)
    assert [h["conversation"] for h in heard[anna][0]["hints"]] == [{"uid": x, "unread": 1}]  # d1's hint only
    assert "hints" not in heard[ben][0]  # a group message sends no unread hint
