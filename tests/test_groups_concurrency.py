"""Groups under concurrency: eight threads sending into two groups that share members and 1:1 at once,
while members are added, removed and leave; and single group commits formed on purpose (HeldGroup) that
mix 1:1 and group messages, or wait in the queue while the membership changes under them.

After each, the tables must hold every invariant of SPEC sections 9 and 11 (tests/group_checks.py), every
answer a sender got must match what is stored (once, retries included), and the unread counters must equal
the database's count, through the API and in Redis.
"""
from __future__ import annotations

import contextlib
import json
import logging
import threading
import traceback
from collections import Counter, defaultdict

import pytest

from .group_checks import check_tables, counters_in_redis, peewee_query
from .helpers import wait_for
from .test_group_commit import MARKER, Caller, HeldGroup, published_until_marker

ROUNDS = 6  # membership changes of each group, four a round
PER_SENDER = 24  # messages each sending thread sends


class Traffic:
    """Every answer the threads got, for the checks at the end; an answer that is not allowed is a problem."""

    def __init__(self, chat):
        self.client = chat.client
        self.lock = threading.Lock()
        self.sends: dict[tuple[int, str], list[tuple[int, dict]]] = defaultdict(list)
        self.changes: Counter = Counter()  # gid -> membership changes answered 2xx
        self.problems: list[str] = []

    def call(self, user, method: str, path: str, body=None) -> tuple[int, dict]:
        if method == "GET":
            response = self.client.get(path, headers=user.headers, status="*")
        elif method == "DELETE":
            response = self.client.delete(path, headers=user.headers, status="*")
        else:
            response = getattr(self.client, method.lower() + "_json")(path, body or {}, headers=user.headers,
                                                                      status="*")
        return response.status_int, (response.json if response.body else {})

    def expect(self, what: str, answer: tuple[int, dict], allowed: dict[int, str | None]) -> int:
        """Record a problem unless the status is allowed (and, for an error, has the allowed code)."""
        status, body = answer
        if status not in allowed or (allowed[status] and body["error"]["code"] != allowed[status]):
            with self.lock:
                self.problems.append(f"{what}: {status} {body}")
        return status

    def send(self, user, target: tuple[str, int], cid: str, out: dict[int, str] | None = None) -> None:
        """Send one message (target ("group", gid) or ("user", uid)); out: the refusals allowed right now."""
        kind, to = target
        content = f"{user.username} {cid}"
        path, body = ((f"/api/groups/{to}/messages", {"content": content, "client_msg_id": cid}) if kind == "group"
                      else ("/api/messages", {"to": to, "content": content, "client_msg_id": cid}))
        answer = self.call(user, "POST", path, body)
        if self.expect(f"{user.username} send {cid}", answer, {201: None, 200: None, **(out or {})}) in (200, 201):
            if answer[1]["message"]["content"] != content:
                self.problems.append(f"{cid}: answered with {answer[1]['message']}")
            with self.lock:
                self.sends[(user.uid, cid)].append(answer)

    def read(self, user, target: tuple[str, int], out: dict[int, str] | None = None) -> None:
        kind, to = target
        path = f"/api/groups/{to}/read" if kind == "group" else f"/api/conversations/{to}/read"
        self.expect(f"{user.username} read {target}", self.call(user, "POST", path), {200: None, **(out or {})})
        self.check_unread_sums(user)

    def change(self, user, gid: int, method: str, path: str, body=None) -> None:
        status = self.expect(f"{user.username} {method} {path}", self.call(user, method, path, body),
                             {200: None, 204: None})
        if status in (200, 204):
            with self.lock:
                self.changes[gid] += 1
        self.check_unread_sums(user)

    def check_unread_sums(self, user) -> None:
        """total == sum of conversations and groups at every instant, not only after quiescence."""
        _, unread = self.call(user, "GET", "/api/unread")
        if unread["total"] != sum(unread["conversations"].values()) + sum(unread["groups"].values()):
            with self.lock:
                self.problems.append(f"{user.username}'s unread does not add up: {unread}")

    def run(self, name: str, work) -> threading.Thread:
        def guarded():
            try:
                work()
            except Exception:  # reported by the main thread
                with self.lock:
                    self.problems.append(f"{name}: {traceback.format_exc()}")
        thread = threading.Thread(target=guarded, name=name)
        thread.start()
        return thread


@pytest.fixture
def config(make_config, request):
    """This module's Config: group messages counted unread in their commit, or merged over a window of
    request.param ms (lecture 20's merged changes, --unread-merge) where a test asks for it."""
    return make_config(unread_merge=getattr(request, "param", 0))


def make_group(chat, owner, name: str, members) -> int:
    return chat.post(owner, "/api/groups", {"name": name, "members": [m.uid for m in members]},
                     status=201)["group"]["gid"]


def sending(traffic: Traffic, user, plan: list[tuple[str, int]], out: dict | None = None, retry_every: int = 4):
    """A thread's work: send to each target of plan in turn, each send of every retry_every-th sent again
    with the same client_msg_id after its answer (a client that lost the answer), reading now and then."""
    out = out or {}

    def work():
        for k, target in enumerate(plan):
            traffic.send(user, target, f"{user.username}-{k}", out.get(target))
            if k % retry_every == retry_every - 1:
                traffic.send(user, target, f"{user.username}-{k}", out.get(target))
            if k % 5 == 4:
                traffic.read(user, target, out.get(target))
    return work


@pytest.mark.parametrize("config", [0, 5], indirect=True, ids=["counted-in-commit", "merged-every-5ms"])
def test_eight_threads_sending_into_two_groups_and_1to1_while_members_change_keep_every_invariant(
        app, chat, caplog, config):
    """With merged changes the counters lag by the window while reads, removals and re-joins land in it;
    once it has passed they must be exact all the same (nothing counted twice, nothing lost)."""
    caplog.set_level(logging.INFO, logger="imdemo")
    ann, ben, cat, dan, eve, fay, gus = (chat.register(n) for n in ("ann", "ben", "cat", "dan", "eve", "fay", "gus"))
    one = make_group(chat, ann, "one", [ben, cat, dan])
    two = make_group(chat, eve, "two", [cat, dan, fay])  # cat and dan are in both
    g1, g2 = ("group", one), ("group", two)
    removed = {403: "not_a_member"}
    traffic = Traffic(chat)

    def churn_one():  # ann, the owner: removes and re-adds ben, adds gus who leaves, renames
        for i in range(ROUNDS):
            traffic.change(ann, one, "DELETE", f"/api/groups/{one}/members/{ben.uid}")
            traffic.change(ann, one, "POST", f"/api/groups/{one}/members", {"uids": [ben.uid, cat.uid]})
            traffic.change(ann, one, "POST", f"/api/groups/{one}/members", {"uids": [gus.uid]})
            traffic.change(gus, one, "DELETE", f"/api/groups/{one}/members/{gus.uid}")
            if i % 2 == 0:
                traffic.change(ann, one, "PATCH", f"/api/groups/{one}", {"name": f"one, round {i}"})

    def churn_two():  # eve, the owner: fay leaves and comes back, ann is added and removed; then eve leaves
        for i in range(ROUNDS):
            traffic.change(fay, two, "DELETE", f"/api/groups/{two}/members/{fay.uid}")
            traffic.change(eve, two, "POST", f"/api/groups/{two}/members", {"uids": [fay.uid]})
            traffic.change(eve, two, "POST", f"/api/groups/{two}/members", {"uids": [ann.uid]})
            traffic.send(eve, g2, f"eve-{i}")
            traffic.change(eve, two, "DELETE", f"/api/groups/{two}/members/{ann.uid}")
        traffic.change(eve, two, "DELETE", f"/api/groups/{two}/members/{eve.uid}")  # cat becomes the owner

    cat_plan = [g1 if k % 2 else g2 for k in range(PER_SENDER)]
    threads = [
        traffic.run("ann", sending(traffic, ann, [[g1, g2, ("user", ben.uid)][k % 3] for k in range(PER_SENDER)],
                                   {g2: {403: "not_a_member", 404: "no_such_group"}})),
        traffic.run("ben", sending(traffic, ben, [g1 if k % 4 else ("user", ann.uid) for k in range(PER_SENDER)],
                                   {g1: removed})),
        traffic.run("cat", sending(traffic, cat, cat_plan)),
        # cat's second device retries every send of cat's at the same time, with the same client_msg_id
        traffic.run("cat again", sending(traffic, cat, cat_plan, retry_every=1)),
        traffic.run("dan", sending(traffic, dan, [[g2, g1, ("user", cat.uid)][k % 3] for k in range(PER_SENDER)])),
        traffic.run("fay", sending(traffic, fay, [g2 if k % 3 else ("user", eve.uid) for k in range(PER_SENDER)],
                                   {g2: removed})),
        traffic.run("churn one", churn_one),
        traffic.run("churn two", churn_two),
    ]
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads)
    assert traffic.problems == []
    troubles = [r for r in caplog.records if r.levelno >= logging.WARNING or _mentions_a_lock(r)]
    assert troubles == [], [r.getMessage() for r in troubles]  # no "database is locked", no deadlock

    unread = check_tables(peewee_query(app.db))
    everyone = (ann, ben, cat, dan, eve, fay, gus)
    with contextlib.suppress(AssertionError):  # at once, or once the merge window has passed; else shown below
        wait_for(lambda: all(chat.get(u, "/api/unread") == unread[u.uid] for u in everyone), timeout=10,
                 message="the counters to equal the database's count")
    _check_sends_stored_once(app, traffic)
    _check_system_messages(app, traffic, {one: 1, two: 2})  # created, and two: "cat is now the owner"
    for user in everyone:
        assert chat.get(user, "/api/unread") == unread[user.uid], user.username
        assert counters_in_redis(app.redis, app.config.redis_prefix, user.uid) == unread[user.uid], user.username
        _check_timeline_through_sync(app, chat, user)


def _mentions_a_lock(record: logging.LogRecord) -> bool:
    text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
    return "locked" in text or "deadlock" in text.lower() or "failed together" in text


def _check_sends_stored_once(app, traffic: Traffic) -> None:
    """Every client_msg_id that was answered 200/201 is stored once, as answered; one 201 each; nothing else
    with a client_msg_id was stored (so no refused send left a row)."""
    rows = app.db.execute_sql("SELECT sender_id, client_msg_id, mid, content FROM im_msg_content"
                              " WHERE client_msg_id IS NOT NULL").fetchall()
    stored = {(int(s), c): (int(mid), content) for s, c, mid, content in rows}
    assert len(stored) == len(rows)
    assert set(stored) == set(traffic.sends)
    for key, answers in traffic.sends.items():
        assert [status for status, _ in answers].count(201) == 1, (key, answers)
        assert {(a["message"]["mid"], a["message"]["content"]) for _, a in answers} == {stored[key]}, key


def _check_system_messages(app, traffic: Traffic, extra: dict[int, int]) -> None:
    """Each group holds one system message per membership change answered 2xx, plus its creation (and an
    owner passed on): none lost, none doubled by the changes racing with sends."""
    for gid, n in extra.items():
        (count,) = app.db.execute_sql(f"SELECT COUNT(*) FROM im_msg_content WHERE recipient_id = {-gid}"
                                      " AND msg_type = 1").fetchone()
        assert count == traffic.changes[gid] + n, gid


def _check_timeline_through_sync(app, chat, user) -> None:
    """What the user gets through /api/sync from 0 is their timeline in the database, each group message
    with the gseq the group gave it."""
    events, since = [], 0
    while True:
        page = chat.get(user, "/api/sync", since=since, limit=1000)
        events += [e for e in page["events"] if e["type"] == "message"]
        since = page["next"]
        if not page["has_more"]:
            break
    rows = app.db.execute_sql("SELECT r.seq, r.mid, c.gseq FROM im_msg_relation r JOIN im_msg_content c"
                              f" ON c.mid = r.mid WHERE r.owner_uid = {user.uid} ORDER BY r.seq").fetchall()
    assert [(e["seq"], e["message"]["mid"], e["message"].get("gseq")) for e in events] == \
        [(int(s), int(m), None if g is None else int(g)) for s, m, g in rows], user.username


# One group commit formed on purpose


def to_group(chat, user, gid: int, content: str, client_msg_id: str | None = None):
    """A function that sends one group message over HTTP and returns (status, body), whatever the status."""
    body = {"content": content, **({"client_msg_id": client_msg_id} if client_msg_id else {})}

    def send():
        response = chat.client.post_json(f"/api/groups/{gid}/messages", body, headers=user.headers, status="*")
        return response.status_int, response.json
    return send


def to_user(chat, user, to, content: str):
    def send():
        response = chat.client.post_json("/api/messages", {"to": to.uid, "content": content}, headers=user.headers,
                                         status="*")
        return response.status_int, response.json
    return send


def record_increments(app, monkeypatch) -> list[list[tuple[str, int, int]]]:
    """Record the (field of C, recipient, amount) increments of every unread script run from now on."""
    counters, runs = app.services.messages.unread.counters, []
    on_messages = counters.on_messages

    def recording(increments, seqs):
        runs.append(list(increments))
        return on_messages(increments, seqs)
    monkeypatch.setattr(counters, "on_messages", recording)
    return runs


def test_one_commit_of_1to1_and_group_messages_from_two_senders_gives_one_order_and_one_count(
        app, chat, monkeypatch):
    ann, ben, cat, dan, eve, gus = (chat.register(n) for n in ("ann", "ben", "cat", "dan", "eve", "gus"))
    one = make_group(chat, ann, "one", [ben, cat, dan])
    two = make_group(chat, eve, "two", [cat, dan])
    scripts = record_increments(app, monkeypatch)
    channel = app.redis.pubsub(ignore_subscribe_messages=True)
    channel.subscribe(app.notifier.keys.notices)
    held = HeldGroup(app.services.messages.writer.queue)
    sends = [
        to_group(chat, ann, one, "a1", "a-1"),
        to_group(chat, ben, one, "b1", "b-1"),  # a second sender into the same group, in the same commit
        to_user(chat, cat, dan, "c>d"),
        to_group(chat, cat, two, "c2", "c-2"),
        to_group(chat, ben, one, "b1", "b-1"),  # ben's send again, in the same commit: one message
        to_group(chat, gus, one, "nobody's"),  # never a member: 404, and the commit goes on
        to_group(chat, dan, one, "d1"),
        to_user(chat, dan, ann, "d>a"),
        to_group(chat, eve, two, "e2"),
    ]
    leader, callers = held.run(to_user(chat, ann, ben, "lead"), sends)

    assert [len(g) for g in held.groups] == [1, len(sends)]
    assert leader.value[0] == 201 and [c.error for c in callers] == [None] * len(sends)
    answers = [c.value for c in callers]
    assert [status for status, _ in answers] == [201, 201, 201, 201, 200, 404, 201, 201, 201]
    assert answers[4][1] == answers[1][1] and answers[5][1]["error"]["code"] == "no_such_group"
    message = {i: answers[i][1]["message"] for i in (0, 1, 2, 3, 6, 7, 8)}
    # gseq 1 is each group's "created": then the commit's messages in the order they were queued
    assert [(message[i]["group"], message[i]["gseq"]) for i in (0, 1, 6, 3, 8)] == [
        (one, 2), (one, 3), (one, 4), (two, 2), (two, 3)]

    # one unread script for the whole commit: a member of a group counts its messages at once
    assert len(scripts) == 2 and scripts[0] == [(str(ann.uid), ben.uid, 1)]
    f1, f2 = f"g{one}", f"g{two}"
    assert Counter(scripts[1]) == Counter([
        (str(cat.uid), dan.uid, 1), (str(dan.uid), ann.uid, 1),
        (f1, ann.uid, 2), (f1, ben.uid, 2), (f1, cat.uid, 3), (f1, dan.uid, 2),  # a1, b1, d1 but their own
        (f2, cat.uid, 1), (f2, dan.uid, 2), (f2, eve.uid, 1)])  # c2, e2 but their own

    # one PUBLISH for the commit, each body once, each user's seqs named once and gapless
    app.redis.publish(app.notifier.keys.notices, json.dumps([[ann.uid, MARKER]]))
    published = published_until_marker(channel)
    channel.close()
    assert len(published) == 2
    bodies, named = published[1]["bodies"], seqs_named(published[1])
    assert sorted(bodies) == sorted(str(m["mid"]) for m in message.values())
    assert sorted(named) == sorted(u.uid for u in (ann, ben, cat, dan, eve))
    for uid, seqs in named.items():
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), uid
    for uid, notice in published[1]["notices"]:  # a 1:1 message's users: a notice each, its seq the newest
        assert notice["seq"] == max(seq for seq, _ in notice["events"]), uid

    unread = check_tables(peewee_query(app.db))
    for user in (ann, ben, cat, dan, eve, gus):
        assert chat.get(user, "/api/unread") == unread[user.uid], user.username
        assert counters_in_redis(app.redis, app.config.redis_prefix, user.uid) == unread[user.uid]
    assert unread[cat.uid]["groups"] == {str(one): 3, str(two): 1}


def seqs_named(payload: dict) -> dict[int, list[int]]:
    """Each user's seqs that one PUBLISH names, sorted: in the user's notice (1:1 messages) and in the fan-out
    of group messages (members and their seqs as two lists)."""
    named: dict[int, list[int]] = {}
    for uid, notice in payload["notices"]:
        named.setdefault(uid, []).extend(seq for seq, _ in notice.get("events", ()))
    for _, uids, seqs in payload.get("fanout", ()):
        for uid, seq in zip(uids, seqs, strict=True):
            named.setdefault(uid, []).append(seq)
    return {uid: sorted(seqs) for uid, seqs in named.items()}


@pytest.mark.parametrize("change", ["removed", "added"])
def test_a_send_queued_before_a_membership_change_reaches_the_members_of_its_commit(app, chat, change):
    """The membership a group message reaches is read under the group's lock in its own commit, not when it
    was sent: a change is written by the same writer, in the order of its queue, so a member removed by a
    change queued ahead of the sends gets 403 and nothing, a user added by one gets the message."""
    ann, ben, cat, gus = (chat.register(n) for n in ("ann", "ben", "cat", "gus"))
    one = make_group(chat, ann, "one", [ben, cat])
    held = HeldGroup(app.services.messages.writer.queue)
    leader = Caller(to_user(chat, cat, ann, "lead"))
    leader.start()
    assert held.first_in.wait(10), "the first caller never reached write"
    if change == "removed":  # queued first: it commits after the held commit, before both sends
        changer = Caller(lambda: chat.client.delete(f"/api/groups/{one}/members/{ben.uid}", headers=ann.headers,
                                                    status=204))
    else:
        changer = Caller(lambda: chat.post(ann, f"/api/groups/{one}/members", {"uids": [gus.uid]}))
    queued = [Caller(to_group(chat, ben, one, "from ben", "b-1")), Caller(to_group(chat, ann, one, "from ann", "a-1"))]
    for n, caller in enumerate([changer, *queued], 1):
        caller.start()
        wait_for(held._queued(n), message=f"{n} callers queued")
    held.released.set()
    for caller in [leader, changer, *queued]:
        caller.join(timeout=30)
        assert not caller.is_alive() and caller.error is None
    (ben_status, ben_answer), (ann_status, ann_answer) = (c.value for c in queued)
    mid = ann_answer["message"]["mid"]
    if change == "removed":
        assert (ben_status, ben_answer.get("error", {}).get("code")) == (403, "not_a_member"), ben_answer
        assert app.db.execute_sql("SELECT COUNT(*) FROM im_msg_content WHERE client_msg_id = 'b-1'").fetchone()[0] == 0
        ben_got = [e["message"] for e in chat.get(ben, "/api/sync", since=0)["events"] if e["type"] == "message"]
        assert ben_got[-1]["event"]["type"] == "removed" and mid not in [m["mid"] for m in ben_got]
    else:
        assert ben_status == 201
        gus_got = [e["message"] for e in chat.get(gus, "/api/sync", since=0)["events"] if e["type"] == "message"]
        assert [(m["kind"], m["content"]) for m in gus_got][1:] == [("text", "from ben"), ("text", "from ann")]
        assert gus_got[0]["event"]["type"] == "added" and chat.get(gus, "/api/unread")["groups"] == {str(one): 2}
    assert ann_status == 201
    unread = check_tables(peewee_query(app.db))
    for user in (ann, ben, cat, gus):
        assert chat.get(user, "/api/unread") == unread[user.uid], user.username
