"""Large groups by read diffusion (SPEC section 15, lecture 20's 万人群), over HTTP: one content row and one
row in the group's own timeline a message, nothing per member; unread exact by N - L (own and system messages
never count, sending marks what came before as read) and in every total; history within the join bounds; the
compound cursor on the short poll (a gseq per large group; a gap event beyond a page); a small group that grows
past --large-group-at switches once, at a system line, and nothing is lost or counted twice."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app
from imdemo.services.large_sync import GAP_AFTER

from .conftest import Chat, User
from .test_groups import Groups

LARGE_AT = 4  # these tests grow groups past it with a handful of users


@pytest.fixture
def world(make_config):
    """An app whose groups of more than LARGE_AT members are large; alice..frank."""
    app = create_app(make_config(large_group_at=LARGE_AT))
    chat = Chat(webtest.TestApp(app.wsgi))
    people = {name: chat.register(name) for name in ("alice", "bob", "carol", "dave", "erin", "frank")}
    yield app, chat, Groups(chat), people
    app.close()


def _count(app, sql: str) -> int:
    return app.db.execute_sql(sql).fetchone()[0]


def _rows(app) -> dict[str, int]:
    return {table: _count(app, f"SELECT COUNT(*) FROM {table}")
            for table in ("im_msg_content", "im_msg_relation", "im_group_timeline", "im_group_member")}


def _large(chat: Chat, owner: User, members: list[User], name: str = "big") -> int:
    group = chat.post(owner, "/api/groups", {"name": name, "members": [m.uid for m in members], "large": True}, 201)
    assert group["group"]["storage"] == "read"
    return group["group"]["gid"]


def test_a_large_group_message_is_one_content_row_and_one_timeline_row_whatever_the_members(world):
    app, chat, groups, p = world
    gid = _large(chat, p["alice"], [p["bob"], p["carol"], p["dave"]])
    before = _rows(app)
    sent = groups.send(p["bob"], gid, "hello everyone")["message"]
    after = _rows(app)
    assert {t: after[t] - before[t] for t in after} == {
        "im_msg_content": 1, "im_group_timeline": 1, "im_msg_relation": 0, "im_group_member": 0}
    assert (sent["group"], sent["gseq"], sent["kind"]) == (gid, 2, "text")  # the creation was gseq 1
    assert groups.info(p["carol"], gid)["group"]["storage"] == "read"


def test_unread_counts_others_text_only_sending_marks_what_came_before_read_and_totals_include_it(world):
    app, chat, groups, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob, carol])
    chat.send(bob, carol.uid, "a 1:1 message as well")
    for text in ("one", "two", "three"):
        groups.send(bob, gid, text)
    assert chat.get(carol, "/api/unread") == {"total": 4, "conversations": {str(bob.uid): 1}, "groups": {str(gid): 3}}
    assert chat.get(bob, "/api/unread")["groups"] == {str(gid): 0}  # their own never count
    groups.send(carol, gid, "carol answers")  # sending marks what came before as read
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 0}
    assert chat.get(bob, "/api/unread")["groups"] == {str(gid): 1}
    groups.add(alice, gid, [p["dave"]])  # a system message: never unread
    assert chat.get(bob, "/api/unread")["groups"] == {str(gid): 1}
    assert chat.get(p["dave"], "/api/unread")["groups"] == {str(gid): 0}  # nothing before the join
    contacts = chat.get(bob, "/api/contacts")
    assert contacts["total_unread"] == 1 and [c["unread"] for c in contacts["contacts"] if "group" in c] == [1]
    read = chat.post(bob, f"/api/conversations/g{gid}/read")
    assert (read["unread"], read["total_unread"]) == (0, 0)


def test_marking_part_read_leaves_exactly_what_follows_unread(world):
    app, chat, groups, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob, carol])
    mids = [groups.send(bob if i % 2 else alice, gid, f"m{i}")["message"]["mid"] for i in range(6)]
    read = chat.post(carol, f"/api/groups/{gid}/read", {"up_to": mids[2]})
    assert (read["unread"], read["read_mid"], read["total_unread"]) == (3, mids[2], 3)
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 3}
    assert chat.post(carol, f"/api/groups/{gid}/read", {"up_to": mids[1]})["read_mid"] == mids[2]  # never back


def test_history_of_a_large_group_is_bounded_by_each_join_and_a_rejoin_sees_nothing_of_the_gap(world):
    app, chat, groups, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob])
    groups.send(alice, gid, "before carol")
    groups.add(alice, gid, [carol])
    groups.send(alice, gid, "with carol")
    groups.remove(carol, gid, carol)
    groups.send(alice, gid, "carol away")
    assert [m["content"] for m in groups.history(carol, gid)["messages"] if m["kind"] == "text"] == ["with carol"]
    groups.add(alice, gid, [carol])
    groups.send(alice, gid, "carol back")
    texts = [m["content"] for m in groups.history(carol, gid)["messages"] if m["kind"] == "text"]
    assert texts == ["carol back"]
    page = groups.history(bob, gid, limit=2)
    older = groups.history(bob, gid, before=page["messages"][0]["mid"], limit=50)
    texts = [m["content"] for m in older["messages"] + page["messages"] if m["kind"] == "text"]
    assert texts == ["before carol", "with carol", "carol away", "carol back"] and page["has_more"]
    assert groups.history(bob, gid)["read_marks"] == {}  # no "read by k of n" in a large group


def test_the_short_poll_carries_a_large_group_by_its_gseq_and_a_gap_beyond_a_page(world):
    app, chat, groups, p = world
    alice, bob = p["alice"], p["bob"]
    gid = _large(chat, alice, [bob])
    first = chat.get(bob, "/api/sync")
    assert first["groups_next"] == {str(gid): 1}  # the group's newest: nothing replayed without a cursor
    groups.send(alice, gid, "one")
    groups.send(alice, gid, "two")
    answer = chat.get(bob, "/api/sync", since=first["next"], groups=f"{gid}:1")
    group_events = [e for e in answer["events"] if e.get("group") == gid]
    assert [(e["gseq"], e["message"]["content"]) for e in group_events] == [(2, "one"), (3, "two")]
    assert "seq" not in group_events[0] and answer["groups_next"] == {str(gid): 3}
    again = chat.get(bob, "/api/sync", since=answer["next"], groups=f"{gid}:3")
    assert [e for e in again["events"] if e["type"] == "message"] == []
    for i in range(GAP_AFTER + 1):
        groups.send(alice, gid, f"flood {i}")
    flooded = chat.get(bob, "/api/sync", since=again["next"], groups=f"{gid}:3")
    newest = 3 + GAP_AFTER + 1
    assert [e for e in flooded["events"] if e.get("group") == gid] == [
        {"type": "gap", "group": gid, "after": 3, "gseq": newest}]
    assert flooded["groups_next"] == {str(gid): newest}


@pytest.mark.parametrize("cursor", ["other", "beyond"])
def test_a_cursor_for_someone_elses_group_or_past_the_newest_gets_none_of_its_messages(world, cursor):
    app, chat, groups, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob])
    groups.send(alice, gid, "members only")
    if cursor == "other":
        answer = chat.get(carol, "/api/sync", groups=f"{gid}:0")
        assert answer["events"] == [] and answer["groups_next"] == {}
    else:
        answer = chat.get(bob, "/api/sync", since=10**6, groups=f"{gid}:999")
        assert answer["groups_next"] == {str(gid): 2} and [e for e in answer["events"] if "group" in e] == []
        groups.send(alice, gid, "the next one")
        following = chat.get(bob, "/api/sync", since=10**6, groups=f"{gid}:2")
        assert [e["gseq"] for e in following["events"] if e.get("group") == gid] == [3]


@pytest.mark.parametrize("timeout", [0, 1], ids=["short", "long"])
def test_a_poll_after_the_removal_still_brings_what_came_before_it_and_nothing_after(world, timeout):
    """A poller removed between two polls (on a short poll, easily) was owed what the group said before the
    removal: its cursor of the group it has left is followed up to the removal, then dropped."""
    app, chat, groups, p = world
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    gid = _large(chat, alice, [bob, carol])
    groups.send(alice, gid, "seen")
    held = chat.get(bob, "/api/sync", groups=f"{gid}:1")
    cursor = held["groups_next"][str(gid)]
    groups.send(carol, gid, "owed 1")
    groups.send(alice, gid, "owed 2")
    groups.remove(alice, gid, bob)
    groups.send(carol, gid, "after")
    answer = chat.get(bob, "/api/sync", since=held["next"], groups=f"{gid}:{cursor}", timeout=timeout)
    pushed = [(e["gseq"], e["message"]["content"]) for e in answer["events"] if e.get("group") == gid]
    assert pushed == [(cursor + 1, "owed 1"), (cursor + 2, "owed 2")]  # not the removal's copy, not "after"
    mine = [e["message"]["event"]["type"] for e in answer["events"] if "seq" in e]
    assert mine == ["removed"] and answer["groups_next"] == {}  # caught up to the removal: the cursor goes
    again = chat.get(bob, "/api/sync", since=answer["next"], groups=f"{gid}:{cursor + 2}", timeout=timeout)
    assert [e for e in again["events"] if e.get("group") == gid] == [] and again["groups_next"] == {}


def test_a_former_members_cursor_brings_nothing_of_the_gap_and_a_gap_only_up_to_the_removal(world):
    app, chat, groups, p = world
    alice, bob = p["alice"], p["bob"]
    gid = _large(chat, alice, [bob])
    groups.remove(alice, gid, bob)  # gseq 2
    groups.send(alice, gid, "while bob is away")
    answer = chat.get(bob, "/api/sync", since=10**6, groups=f"{gid}:1")  # nothing between creation and removal
    assert answer["events"] == [] and answer["groups_next"] == {}
    groups.add(alice, gid, [bob])
    back = groups.send(alice, gid, "welcome back")["message"]["gseq"]
    answer = chat.get(bob, "/api/sync", since=10**6, groups=f"{gid}:1")
    texts = [e["message"]["content"] for e in answer["events"] if e.get("group") == gid
             and e["message"]["kind"] == "text"]
    assert texts == ["welcome back"]
    for i in range(GAP_AFTER + 1):  # more than a page missed before the next removal
        groups.send(alice, gid, f"flood {i}")
    groups.remove(alice, gid, bob)
    groups.send(alice, gid, "gone again")
    flooded = chat.get(bob, "/api/sync", since=10**6, groups=f"{gid}:{back}")
    last_owed = back + GAP_AFTER + 1  # a gap up to the message before the removal: not the group's newest
    assert flooded["events"] == [{"type": "gap", "group": gid, "after": back, "gseq": last_owed}]
    assert flooded["groups_next"] == {}


@pytest.mark.parametrize("groups_value", ["x", "1:", ":1", "1:2:3", "0:1", "1:-1", "1:1,,2:2"])
def test_a_malformed_groups_cursor_is_refused(world, groups_value):
    app, chat, groups, p = world
    answer = chat.get(p["alice"], "/api/sync", 400, groups=groups_value)
    assert answer["error"]["code"] == "invalid_groups"


def test_a_small_group_grown_past_the_threshold_switches_once_and_loses_nothing(world):
    app, chat, groups, p = world
    alice, bob, carol, dave, erin = (p[n] for n in ("alice", "bob", "carol", "dave", "erin"))
    gid = groups.create(alice, "grows", [bob, carol])["gid"]
    groups.send(bob, gid, "small 1")
    groups.send(bob, gid, "small 2")
    groups.add(alice, gid, [dave])  # 4 members: still small
    assert groups.info(alice, gid)["group"]["storage"] == "write"
    groups.add(alice, gid, [erin])  # 5 > LARGE_AT: switches
    assert groups.info(alice, gid)["group"]["storage"] == "read"
    events = [m["event"]["type"] for m in groups.history(carol, gid)["messages"] if m["kind"] == "system"]
    assert events == ["created", "added", "added", "large"]
    before = _rows(app)
    groups.send(bob, gid, "large 1")
    assert _rows(app)["im_msg_relation"] == before["im_msg_relation"]  # read diffusion from here on
    texts = [m["content"] for m in groups.history(carol, gid)["messages"] if m["kind"] == "text"]
    assert texts == ["small 1", "small 2", "large 1"]
    gseqs = [m["gseq"] for m in groups.history(carol, gid)["messages"]]
    assert gseqs == list(range(1, len(gseqs) + 1))  # one order across the switch, no gap, no repeat
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 3}  # two from before it, one after
    assert chat.get(erin, "/api/unread")["groups"] == {str(gid): 1}
    assert chat.get(carol, "/api/unread")["total"] == 3
    chat.post(carol, f"/api/groups/{gid}/read", {"up_to": groups.history(carol, gid)["messages"][1]["mid"]})
    assert chat.get(carol, "/api/unread")["groups"] == {str(gid): 2}


def test_a_restart_rebuilds_large_group_unread_exactly_from_the_database(make_config):
    config = make_config(large_group_at=LARGE_AT)
    app = create_app(config)
    chat = Chat(webtest.TestApp(app.wsgi))
    alice, bob, carol = (chat.register(n) for n in ("alice", "bob", "carol"))
    gid = _large(chat, alice, [bob, carol])
    for i in range(3):
        Groups(chat).send(alice, gid, f"m{i}")
    Groups(chat).send(bob, gid, "bob read them")
    expected = {u.username: chat.get(u, "/api/unread") for u in (alice, bob, carol)}
    app.redis.flushall()  # what a lost store looks like; the embedded one is also empty at every start
    app.services.reconciler.reconcile()
    assert {u.username: chat.get(u, "/api/unread") for u in (alice, bob, carol)} == expected
    assert expected["carol"]["groups"] == {str(gid): 4} and expected["bob"]["groups"] == {str(gid): 0}
    app.close()


def test_a_poll_that_first_hears_of_the_switch_gets_what_was_sent_after_it(world):
    """A client that polls from before its group grew large gives no cursor for it; the switch in its own
    timeline starts the group's place there, not at the group's newest, so the messages sent between the
    switch and that poll arrive (a short-polling page lost them: its badge said 3 for 5)."""
    app, chat, groups, p = world
    alice, bob, carol, dave, erin = (p[n] for n in ("alice", "bob", "carol", "dave", "erin"))
    gid = groups.create(alice, "grows", [bob, carol, dave])["gid"]
    caught_up = chat.get(carol, "/api/sync")  # while the group is small: nothing to follow by gseq
    assert caught_up["groups_next"] == {}
    groups.add(alice, gid, [erin])  # 5 > LARGE_AT: the switch, in carol's own timeline
    groups.send(bob, gid, "large 1")
    groups.send(bob, gid, "large 2")
    answer = chat.get(carol, "/api/sync", since=caught_up["next"])
    switch = [e for e in answer["events"] if "seq" in e and e["message"].get("event", {}).get("type") == "large"]
    brought = [e for e in answer["events"] if e.get("group") == gid and "seq" not in e]
    assert len(switch) == 1 and [e["message"]["content"] for e in brought] == ["large 1", "large 2"]
    assert [e["gseq"] for e in brought] == [switch[0]["message"]["gseq"] + 1, switch[0]["message"]["gseq"] + 2]
    assert answer["groups_next"] == {str(gid): brought[-1]["gseq"]}


def test_replaying_the_own_timeline_from_its_start_keeps_a_group_cursor_that_is_past_the_join(world):
    """The join event in the user's own timeline starts a group's place only when the client's cursor is not
    already past it (a client replaying its own timeline from 0 keeps what it holds of the group)."""
    app, chat, groups, p = world
    gid = _large(chat, p["alice"], [p["bob"]])
    for i in range(5):
        groups.send(p["alice"], gid, f"m{i}")
    answer = chat.get(p["bob"], "/api/sync", since=0, groups=f"{gid}:4")
    assert [e["gseq"] for e in answer["events"] if e.get("group") == gid and "seq" not in e] == [5, 6]


def test_search_finds_a_large_groups_messages_within_each_members_join_bounds(world):
    """A large group's messages have no row in a member's timeline: search finds them through the group's own,
    as history does: from each one's join, what a former member had, across the switch once each."""
    app, chat, groups, p = world
    alice, bob, carol, dave, erin, frank = (p[n] for n in ("alice", "bob", "carol", "dave", "erin", "frank"))

    def found(user, q, **params) -> list[str]:
        return [r["message"]["content"] for r in chat.get(user, "/api/search", q=q, **params)["results"]]

    gid = groups.create(alice, "grows", [bob, carol])["gid"]
    groups.send(bob, gid, "爬山 small")
    groups.add(alice, gid, [dave, erin])  # 5 > LARGE_AT: switches
    assert groups.info(alice, gid)["group"]["storage"] == "read"
    groups.send(carol, gid, "爬山 large")
    chat.client.delete(f"/api/groups/{gid}/members/{carol.uid}", headers=carol.headers, status=204)
    groups.add(alice, gid, [frank])
    groups.send(alice, gid, "爬山 later")
    assert found(alice, "爬山") == ["爬山 later", "爬山 large", "爬山 small"]  # newest first, each once
    assert found(alice, "爬山", conversation=f"g{gid}", limit=2) == ["爬山 later", "爬山 large"]
    assert found(dave, "爬山") == ["爬山 later", "爬山 large"]  # joined at the switch
    assert found(carol, "爬山") == ["爬山 large", "爬山 small"]  # left before the last one
    assert found(frank, "爬山") == ["爬山 later"]
    assert found(alice, "爬山", before=found_mid(chat, alice, "爬山 large")) == ["爬山 small"]
    outsider = chat.register("grace")
    assert found(outsider, "爬山") == []
    chat.get(outsider, "/api/search", 404, q="爬山", conversation=f"g{gid}")


def found_mid(chat: Chat, user: User, content: str) -> int:
    return next(r["message"]["mid"] for r in chat.get(user, "/api/search", q=content)["results"]
                if r["message"]["content"] == content)
