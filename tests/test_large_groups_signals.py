"""Signals in a large group (SPEC 15 and 17): a recall or an edit is written once, into the group's own
timeline with a gseq, and reaches every member by their group cursor as {"type": "recalled" | "edited",
"group", "gseq", ...}; history shows the target as it stands, never the signal. A recalled message that was
unread no longer counts (N - L: those who had it unread account for it), the same after a rebuild from the
database; its file is nobody's to read but the uploader's; search forgets it. Mentions name members, asked
for by uid, not read from a membership of thousands."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app

from .conftest import Chat, User
from .media import image_bytes, upload
from .test_groups import Groups
from .test_recall import Signals

LARGE_AT = 4


@pytest.fixture
def world(make_config):
    """An app whose groups of more than LARGE_AT members are large; alice (the owner) and four more."""
    app = create_app(make_config(large_group_at=LARGE_AT))
    chat = Chat(webtest.TestApp(app.wsgi))
    people = {name: chat.register(name) for name in ("alice", "bob", "carol", "dave", "erin")}
    yield app, chat, Groups(chat), Signals(chat), people
    app.close()


def _large(chat: Chat, owner: User, members: list[User]) -> int:
    body = {"name": "big", "members": [m.uid for m in members], "large": True}
    return chat.post(owner, "/api/groups", body, 201)["group"]["gid"]


def _unread(chat: Chat, user: User, gid: int) -> int:
    return chat.get(user, "/api/unread")["groups"].get(str(gid), 0)


def _group_events(chat: Chat, user: User, gid: int, after: int) -> list[dict]:
    answer = chat.get(user, "/api/sync", since=chat.get(user, "/api/contacts")["seq"], groups=f"{gid}:{after}")
    return [e for e in answer["events"] if e.get("group") == gid]


def test_a_recall_reaches_every_member_by_gseq_and_drops_only_the_badges_it_was_in(world):
    app, chat, groups, signals, p = world
    alice, bob, carol, dave = (p[n] for n in ("alice", "bob", "carol", "dave"))
    gid = _large(chat, alice, [bob, carol, dave])
    first = groups.send(bob, gid, "first")["message"]
    wrong = groups.send(bob, gid, "wrong")["message"]
    groups.send(bob, gid, "third")
    groups.read(carol, gid, up_to=wrong["mid"])  # carol read past it; dave read nothing
    before = {u.username: _unread(chat, u, gid) for u in (alice, carol, dave)}
    assert before == {"alice": 3, "carol": 1, "dave": 3}
    recalled = signals.recall(bob, f"g{gid}", wrong["mid"])["message"]
    assert (recalled["content"], recalled["recalled_by"]) == ("", bob.uid)
    assert {u.username: _unread(chat, u, gid) for u in (alice, carol, dave)} == {"alice": 2, "carol": 1, "dave": 2}
    assert chat.get(dave, "/api/unread")["total"] == 2
    events = _group_events(chat, carol, gid, first["gseq"])
    assert [e["type"] for e in events] == ["message", "message", "recalled"]  # wrong, third, the recall
    recall = events[-1]
    assert recall == {"type": "recalled", "group": gid, "gseq": recall["gseq"], "conversation": f"g{gid}",
                      "mid": wrong["mid"], "by": bob.uid}
    assert recall["gseq"] == events[-2]["gseq"] + 1  # one order: the recall has its place in it
    shown = groups.history(dave, gid)["messages"]
    assert [m["kind"] for m in shown].count("recall") == 0  # history shows the target, never the signal
    assert next(m for m in shown if m["mid"] == wrong["mid"])["recalled_by"] == bob.uid
    third = groups.send(alice, gid, "after")["message"]  # the group's newest moves on past the recall
    assert groups.info(alice, gid)["group"]["storage"] == "read" and third["gseq"] == recall["gseq"] + 1
    expected = {u.username: chat.get(u, "/api/unread") for u in p.values()}
    app.redis.flushall()  # a rebuild from the database counts the same
    app.services.reconciler.reconcile()
    assert {u.username: chat.get(u, "/api/unread") for u in p.values()} == expected


def test_the_owner_recalls_anyones_message_and_a_second_recall_changes_nothing(world):
    app, chat, groups, signals, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob, carol])
    mid = groups.send(bob, gid, "spam")["message"]["mid"]
    signals.recall(carol, f"g{gid}", mid, 403)  # not hers, not the owner
    signals.recall(alice, f"g{gid}", mid)
    assert _unread(chat, carol, gid) == 0
    assert signals.recall(alice, f"g{gid}", mid, 409)["error"]["code"] == "already_recalled"
    outsider = chat.register("frank")
    assert signals.recall(outsider, f"g{gid}", mid, 404)["error"]["code"] in ("no_such_group", "no_such_message")


def test_a_member_who_joined_later_cannot_recall_or_edit_what_came_before(world):
    app, chat, groups, signals, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob])
    mid = groups.send(alice, gid, "before carol")["message"]["mid"]
    groups.add(alice, gid, [carol])
    assert signals.edit(carol, f"g{gid}", mid, "x", 404)["error"]["code"] == "no_such_message"


def test_an_edit_reaches_members_by_gseq_and_search_finds_the_new_text_only(world):
    app, chat, groups, signals, p = world
    alice, bob = p["alice"], p["bob"]
    gid = _large(chat, alice, [bob])
    sent = groups.send(alice, gid, "周六爬山")["message"]
    edited = signals.edit(alice, f"g{gid}", sent["mid"], "周日爬山")["message"]
    assert (edited["content"], "edited_at" in edited) == ("周日爬山", True)
    event = _group_events(chat, bob, gid, sent["gseq"])[-1]
    assert (event["type"], event["message"]["mid"], event["message"]["content"]) == ("edited", sent["mid"], "周日爬山")
    assert "seq" not in event and event["gseq"] == sent["gseq"] + 1
    assert _unread(chat, bob, gid) == 1  # an edit is never unread
    found = [r["message"]["mid"] for r in chat.get(bob, "/api/search", q="周日")["results"]]
    assert found == [sent["mid"]] and chat.get(bob, "/api/search", q="周六")["results"] == []
    assert [m["content"] for m in groups.history(bob, gid)["messages"] if m["kind"] == "text"] == ["周日爬山"]


def test_a_recalled_picture_in_a_large_group_is_nobody_elses_to_read(world):
    app, chat, groups, signals, p = world
    alice, bob = p["alice"], p["bob"]
    gid = _large(chat, alice, [bob])
    fid = upload(chat.client, alice, image_bytes("PNG", (40, 30)), "p.png")["file"]["fid"]
    mid = chat.post(alice, f"/api/conversations/g{gid}/messages", {"attachment": fid}, 201)["message"]["mid"]
    assert chat.client.get(f"/api/files/{fid}", headers=bob.headers).status_int == 200
    recalled = signals.recall(alice, f"g{gid}", mid)["message"]
    assert "attachment" not in recalled
    chat.client.get(f"/api/files/{fid}", headers=bob.headers, status=404)
    assert chat.client.get(f"/api/files/{fid}", headers=alice.headers).status_int == 200  # still the uploader's


def test_a_message_from_before_the_switch_is_recalled_for_those_who_had_it(world):
    app, chat, groups, signals, p = world
    alice, bob, carol, dave, erin = (p[n] for n in ("alice", "bob", "carol", "dave", "erin"))
    gid = groups.create(alice, "grows", [bob, carol])["gid"]
    small = groups.send(bob, gid, "said while small")["message"]
    groups.add(alice, gid, [dave, erin])  # 5 > LARGE_AT: switches
    assert groups.info(alice, gid)["group"]["storage"] == "read"
    groups.send(bob, gid, "said while large")
    assert _unread(chat, carol, gid) == 2
    signals.recall(bob, f"g{gid}", small["mid"])
    assert _unread(chat, carol, gid) == 1 and _unread(chat, dave, gid) == 1
    expected = {u.username: chat.get(u, "/api/unread") for u in p.values()}
    app.redis.flushall()
    app.services.reconciler.reconcile()
    assert {u.username: chat.get(u, "/api/unread") for u in p.values()} == expected


def test_mentions_in_a_large_group_name_members_only(world):
    app, chat, groups, signals, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob])
    path = f"/api/conversations/g{gid}/messages"
    refused = chat.post(bob, path, {"content": "@carol", "mentions": [carol.uid]}, 400)
    assert refused["error"]["code"] == "mention_not_member"
    chat.post(bob, path, {"content": "@alice", "mentions": [alice.uid]}, 201)
    assert chat.post(bob, path, {"content": "@all", "mentions": "all"}, 403)["error"]["code"] == "not_owner"
    contact = next(c for c in chat.get(alice, "/api/contacts")["contacts"] if "group" in c)
    assert contact["mentioned"] is True
