"""Groups over HTTP (SPEC section 11), rule by rule: make, list, read, rename, add, remove, leave, send,
history bounded by the join, unread in the course's structures, read marks; and every refusal changes
nothing."""
from __future__ import annotations

import json

import pytest

from imdemo.store.models import declare_models

from .conftest import Chat, User


class Groups:
    """The group routes, called as one user or another."""

    def __init__(self, chat: Chat):
        self.chat = chat

    def create(self, owner: User, name: str, members: list[User], status: int = 201) -> dict:
        body = self.chat.post(owner, "/api/groups", {"name": name, "members": [m.uid for m in members]}, status)
        return body.get("group", body)

    def send(self, user: User, gid: int, content: str, status: int = 201, **extra) -> dict:
        return self.chat.post(user, f"/api/groups/{gid}/messages", {"content": content, **extra}, status)

    def history(self, user: User, gid: int, status: int = 200, **params) -> dict:
        return self.chat.get(user, f"/api/groups/{gid}/messages", status, **params)

    def info(self, user: User, gid: int, status: int = 200) -> dict:
        return self.chat.get(user, f"/api/groups/{gid}", status)

    def add(self, user: User, gid: int, members: list[User], status: int = 200) -> dict:
        return self.chat.post(user, f"/api/groups/{gid}/members", {"uids": [m.uid for m in members]}, status)

    def remove(self, user: User, gid: int, member: User, status: int = 204) -> dict:
        response = self.chat.client.delete(f"/api/groups/{gid}/members/{member.uid}", headers=user.headers,
                                           status=status)
        return response.json if response.body else {}

    def rename(self, user: User, gid: int, name, status: int = 200) -> dict:
        response = self.chat.client.patch_json(f"/api/groups/{gid}", {"name": name}, headers=user.headers,
                                               status=status)
        return response.json

    def read(self, user: User, gid: int, status: int = 200, **body) -> dict:
        return self.chat.post(user, f"/api/groups/{gid}/read", body, status)


@pytest.fixture
def groups(chat) -> Groups:
    return Groups(chat)


@pytest.fixture
def trio(chat):
    """alice, bob and carol; dave stands outside."""
    return [chat.register(name, nickname=name.title()) for name in ("alice", "bob", "carol", "dave")]


def texts(page: dict) -> list[str]:
    return [m["content"] if m["kind"] == "text" else f"<{m['event']['type']}>" for m in page["messages"]]


def unread_in_database(app, uid: int) -> dict[str, int]:
    """The database's own count of uid's unread group messages, by gid: received, after the read marker."""
    m = declare_models(app.db)
    counts = {}
    for member in m.GroupMember.select().where((m.GroupMember.uid == uid) & m.GroupMember.left_mid.is_null()):
        n = m.MsgRelation.select().where((m.MsgRelation.owner_uid == uid) & (m.MsgRelation.other_uid == -member.gid)
                                         & (m.MsgRelation.type == 1) & (m.MsgRelation.mid > member.read_mid)).count()
        if n:
            counts[str(member.gid)] = n
    return counts


def state(app) -> tuple:
    """A fingerprint of every table a group change writes."""
    m = declare_models(app.db)
    return tuple(model.select().count() for model in (m.MsgContent, m.MsgRelation, m.Group, m.GroupMember)) + (
        [(g.gid, g.name, g.owner_uid, g.gseq, g.member_count) for g in m.Group.select().order_by(m.Group.gid)],
        [(x.gid, x.uid, x.role, x.left_mid, x.read_mid) for x in m.GroupMember.select().order_by(m.GroupMember.uid)])


# --- making and reading a group ---

def test_a_new_group_has_its_owner_and_members_and_says_so_in_its_first_message(groups, trio):
    alice, bob, carol, _ = trio
    group = groups.create(alice, "  三人行  ", [bob, carol])
    assert group["name"] == "三人行" and group["owner"] == alice.uid and group["member_count"] == 3
    info = groups.info(bob, group["gid"])
    assert [(m["user"]["uid"], m["role"]) for m in info["members"]] == [
        (alice.uid, "owner"), (bob.uid, "member"), (carol.uid, "member")]
    for user in (alice, bob, carol):
        page = groups.history(user, group["gid"])
        assert texts(page) == ["<created>"]
        first = page["messages"][0]
        assert first["kind"] == "system" and first["gseq"] == 1 and first["group"] == group["gid"]
        assert first["event"] == {"type": "created", "by": alice.uid, "uids": [bob.uid, carol.uid], "name": "三人行"}
        assert first["content"] == "Alice created the group 三人行 with Bob, Carol"
        assert groups.chat.get(user, "/api/groups")["groups"] == [group]


def test_the_caller_is_owner_is_listed_once_and_a_body_naming_an_owner_is_refused(app, groups, trio):
    alice, bob, _, _ = trio
    before = state(app)
    body = {"name": "g", "members": [alice.uid, bob.uid, bob.uid], "owner": bob.uid}
    error = groups.chat.post(alice, "/api/groups", body, 400)["error"]
    assert error["code"] == "unknown_field" and "'owner'" in error["message"]
    assert state(app) == before
    del body["owner"]
    group = groups.chat.post(alice, "/api/groups", body, 201)["group"]
    assert group["owner"] == alice.uid and group["member_count"] == 2


@pytest.mark.parametrize("name, code", [("", "invalid_name"), ("   ", "invalid_name"), ("x" * 65, "invalid_name"),
                                        (None, "invalid_name"), (7, "invalid_name"), ("a\x00b", "invalid_name")])
def test_a_group_needs_a_name_of_1_to_64_characters(app, groups, trio, name, code):
    alice, bob, _, _ = trio
    before = state(app)
    body = groups.chat.post(alice, "/api/groups", {"name": name, "members": [bob.uid]}, 400)
    assert body["error"]["code"] == code and state(app) == before


def test_a_name_of_64_characters_is_taken(groups, trio):
    alice, bob, _, _ = trio
    assert groups.create(alice, "名" * 64, [bob])["name"] == "名" * 64


@pytest.mark.parametrize("members, status, code", [
    ([999_999], 404, "no_such_user"), ("1001", 400, "invalid_members"), ([True], 400, "invalid_members"),
    ([0], 400, "invalid_members"), ([{"uid": 1}], 400, "invalid_members")])
def test_an_unknown_or_malformed_member_creates_no_group(app, groups, trio, members, status, code):
    alice, bob, _, _ = trio
    before = state(app)
    body = groups.chat.post(alice, "/api/groups", {"name": "g", "members": [bob.uid, *members]
                                                   if isinstance(members, list) else members}, status)
    assert body["error"]["code"] == code and state(app) == before
    assert groups.chat.get(alice, "/api/groups")["groups"] == []


def test_a_group_over_the_member_limit_is_refused_and_nothing_changes(make_config):
    import webtest

    from imdemo.app import create_app
    app = create_app(make_config(max_group_members=3))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        g = Groups(chat)
        alice, bob, carol, dave = (chat.register(n) for n in ("alice", "bob", "carol", "dave"))
        before = state(app)
        assert g.create(alice, "four", [bob, carol, dave], 400)["error"]["code"] == "group_too_large"
        assert state(app) == before
        gid = g.create(alice, "three", [bob, carol])["gid"]
        before = state(app)
        assert g.add(bob, gid, [dave], 400)["error"]["code"] == "group_too_large"
        assert state(app) == before
        g.remove(carol, gid, carol)
        assert g.add(bob, gid, [dave])["group"]["member_count"] == 3
    finally:
        app.close()


def test_someone_who_was_never_a_member_finds_no_group(app, groups, trio):
    alice, bob, _, dave = trio
    gid = groups.create(alice, "g", [bob])["gid"]
    groups.send(bob, gid, "secret")
    before = state(app)
    for call in (lambda: groups.info(dave, gid, 404), lambda: groups.history(dave, gid, 404),
                 lambda: groups.send(dave, gid, "let me in", 404), lambda: groups.read(dave, gid, 404),
                 lambda: groups.add(dave, gid, [dave], 404), lambda: groups.rename(dave, gid, "mine", 404),
                 lambda: groups.remove(dave, gid, bob, 404), lambda: groups.remove(dave, gid, dave, 404)):
        body = call()
        assert body["error"]["code"] == "no_such_group" and "secret" not in json.dumps(body)
    assert groups.info(dave, gid + 1, 404)["error"]["code"] == "no_such_group"
    assert state(app) == before


@pytest.mark.parametrize("gid", ["abc", "-1", "0", "1.5", "99999999999999999999999"])
def test_a_malformed_gid_is_a_400(groups, trio, gid):
    alice = trio[0]
    assert groups.chat.get(alice, f"/api/groups/{gid}", 400)["error"]["code"] == "invalid_gid"


# --- sending ---

def test_a_message_reaches_every_member_once_and_counts_unread_for_the_others(app, groups, trio):
    alice, bob, carol, dave = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    message = groups.send(bob, gid, "  hello all  ")["message"]
    assert message["content"] == "hello all" and message["from"] == bob.uid and message["gseq"] == 2
    assert "to" not in message and message["kind"] == "text"
    for user, unread in ((alice, 1), (bob, 0), (carol, 1), (dave, 0)):
        counts = groups.chat.get(user, "/api/unread")
        assert counts["groups"] == ({str(gid): unread} if unread else {}), user.username
        assert counts["total"] == sum(counts["conversations"].values()) + sum(counts["groups"].values())
        assert counts["groups"] == unread_in_database(app, user.uid)
    m = declare_models(app.db)
    assert m.MsgContent.select().where(m.MsgContent.mid == message["mid"]).count() == 1  # the body once
    assert m.MsgRelation.select().where(m.MsgRelation.mid == message["mid"]).count() == 3  # a row per member


def test_the_same_client_msg_id_twice_in_a_group_stores_one_message(app, groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    first = groups.send(bob, gid, "once", client_msg_id="g-1")["message"]
    again = groups.send(bob, gid, "once", 200, client_msg_id="g-1")["message"]
    assert again == first
    assert texts(groups.history(carol, gid)) == ["<created>", "once"]
    assert groups.chat.get(carol, "/api/unread")["groups"] == {str(gid): 1}


@pytest.mark.parametrize("body, code", [
    ({"content": ""}, "invalid_content"), ({"content": "x" * 1001}, "invalid_content"), ({}, "invalid_content"),
    ({"content": "ok", "client_msg_id": "bad id"}, "invalid_client_msg_id")])
def test_bad_group_sends_are_refused_and_store_nothing(app, groups, trio, body, code):
    alice, bob, _, _ = trio
    gid = groups.create(alice, "g", [bob])["gid"]
    before = state(app)
    assert groups.chat.post(bob, f"/api/groups/{gid}/messages", body, 400)["error"]["code"] == code
    assert state(app) == before


def test_a_former_member_cannot_send_and_nothing_is_stored(app, groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    groups.send(bob, gid, "before")
    groups.remove(alice, gid, bob)
    before = state(app)
    assert groups.send(bob, gid, "after", 403)["error"]["code"] == "not_a_member"
    assert groups.info(bob, gid, 403)["error"]["code"] == "not_a_member"
    assert groups.add(bob, gid, [bob], 403)["error"]["code"] == "not_a_member"
    assert groups.read(bob, gid, 403)["error"]["code"] == "not_a_member"
    assert state(app) == before
    # what they had received stays theirs; what followed their removal is not
    groups.send(carol, gid, "later")
    assert texts(groups.history(bob, gid)) == ["<created>", "before", "<removed>"]


def test_a_former_member_keeps_the_read_marks_as_they_were_when_they_left_and_nothing_after(app, groups, trio):
    """Their own messages stay "read by all" on their screen; later reads, members and messages stay unseen."""
    alice, bob, carol, dave = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    mine = groups.send(bob, gid, "read by all before I go")["message"]
    groups.read(alice, gid)
    groups.read(carol, gid)
    before = groups.history(bob, gid)["read_marks"]
    assert all(before[str(u.uid)] >= mine["mid"] for u in (alice, carol))
    groups.remove(bob, gid, bob)  # bob leaves
    left = groups.history(bob, gid)["messages"][-1]["mid"]  # the message that says so, his last
    assert groups.history(bob, gid)["read_marks"] == before  # nothing moved since: the same marks
    groups.send(alice, gid, "after bob left")
    groups.add(alice, gid, [dave])
    groups.read(carol, gid)
    groups.read(dave, gid)
    groups.remove(alice, gid, carol)
    marks = groups.history(bob, gid)["read_marks"]
    assert set(marks) == {str(u.uid) for u in (alice, bob, carol)}  # those he left; not dave, who came later
    assert marks[str(carol.uid)] == left  # carol read past his leaving: shown only as far as it
    assert all(mid <= left for mid in marks.values())
    assert all(marks[str(u.uid)] >= mine["mid"] for u in (alice, carol))  # still read by all


# --- membership ---

def test_any_member_adds_present_members_are_ignored_and_the_added_see_from_then_on(app, groups, trio):
    alice, bob, carol, dave = trio
    gid = groups.create(alice, "g", [bob])["gid"]
    groups.send(alice, gid, "before carol")
    group = groups.add(bob, gid, [carol, alice, carol])["group"]
    assert group["member_count"] == 3
    page = groups.history(carol, gid)
    assert texts(page) == ["<added>"]
    assert page["messages"][0]["event"] == {"type": "added", "by": bob.uid, "uids": [carol.uid]}
    assert page["messages"][0]["content"] == "Bob added Carol"
    assert groups.chat.get(carol, "/api/unread")["groups"] == {}  # a system message is never unread
    groups.send(alice, gid, "after carol")
    assert texts(groups.history(carol, gid)) == ["<added>", "after carol"]
    before = state(app)
    assert groups.add(bob, gid, [alice, carol])["group"]["member_count"] == 3  # nothing to add: no message
    assert state(app) == before
    bad = groups.chat.post(bob, f"/api/groups/{gid}/members", {"uids": [dave.uid, {"x": 1}]}, 400)
    assert bad["error"]["code"] == "invalid_uids"
    assert groups.chat.post(bob, f"/api/groups/{gid}/members", {"uids": [999_999]}, 404)["error"]["code"] == \
        "no_such_user"
    assert state(app) == before


def test_only_the_owner_renames_and_removes(app, groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    before = state(app)
    assert groups.rename(bob, gid, "bob's", 403)["error"]["code"] == "not_owner"
    assert groups.remove(bob, gid, carol, 403)["error"]["code"] == "not_owner"
    assert groups.rename(alice, gid, "", 400)["error"]["code"] == "invalid_name"
    assert groups.rename(alice, gid, "y" * 65, 400)["error"]["code"] == "invalid_name"
    assert state(app) == before
    assert groups.rename(alice, gid, "新名字")["group"]["name"] == "新名字"
    last = groups.history(carol, gid)["messages"][-1]
    assert last["event"] == {"type": "renamed", "by": alice.uid, "uids": [], "name": "新名字"}
    groups.remove(alice, gid, carol)
    assert [m["user"]["uid"] for m in groups.info(bob, gid)["members"]] == [alice.uid, bob.uid]
    assert groups.remove(alice, gid, carol, 404)["error"]["code"] == "no_such_member"


def test_a_removed_member_gets_the_removal_and_nothing_after_and_their_unread_drops_to_zero(app, groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    groups.send(alice, gid, "one")
    groups.send(alice, gid, "two")
    assert groups.chat.get(bob, "/api/unread")["groups"] == {str(gid): 2}
    since = groups.chat.get(bob, "/api/sync", since=0)["next"]
    groups.remove(alice, gid, bob)
    groups.send(carol, gid, "three")
    events = [e for e in groups.chat.get(bob, "/api/sync", since=since)["events"] if e["type"] == "message"]
    assert [e["message"]["event"]["type"] for e in events] == ["removed"]
    assert events[0]["message"]["event"]["uids"] == [bob.uid]
    unread = groups.chat.get(bob, "/api/unread")
    assert unread == {"total": 0, "conversations": {}, "groups": {}}
    assert groups.chat.get(bob, "/api/groups")["groups"] == []
    entry = [c for c in groups.chat.get(bob, "/api/contacts")["contacts"] if "group" in c]
    assert [(c["group"]["gid"], c["member"], c["last_message"]["event"]["type"]) for c in entry] == [
        (gid, False, "removed")]  # the conversation stays in their list, ending with their removal


def test_a_rejoined_member_sees_nothing_of_the_gap(app, groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    groups.send(alice, gid, "while bob was in")
    groups.remove(bob, gid, bob)  # bob leaves
    groups.send(alice, gid, "the gap")
    groups.send(carol, gid, "the gap 2")
    groups.add(carol, gid, [bob])
    groups.send(alice, gid, "welcome back")
    page = groups.history(bob, gid)
    assert texts(page) == ["<created>", "while bob was in", "<left>", "<added>", "welcome back"]
    timeline = [e["message"]["content"] for e in groups.chat.get(bob, "/api/sync", since=0)["events"]
                if e["type"] == "message"]
    assert "the gap" not in timeline and "the gap 2" not in timeline
    assert groups.chat.get(bob, "/api/unread")["groups"] == {str(gid): 1}  # only "welcome back"
    assert groups.history(bob, gid, after=page["messages"][1]["mid"])["messages"] == page["messages"][2:]


def test_the_owner_leaving_passes_ownership_to_the_longest_standing_member(groups, trio):
    alice, bob, carol, dave = trio
    gid = groups.create(alice, "g", [carol])["gid"]
    groups.add(alice, gid, [bob])
    groups.add(bob, gid, [dave])
    groups.remove(alice, gid, alice)
    info = groups.info(bob, gid)
    assert info["group"]["owner"] == carol.uid  # joined first, with the group
    assert [(m["user"]["uid"], m["role"]) for m in info["members"]] == [
        (carol.uid, "owner"), (bob.uid, "member"), (dave.uid, "member")]
    events = [m["event"] for m in groups.history(dave, gid)["messages"]]
    assert events[-2:] == [{"type": "left", "by": alice.uid, "uids": [alice.uid]},
                           {"type": "owner", "by": alice.uid, "uids": [carol.uid]}]
    assert groups.rename(carol, gid, "carol's")["group"]["owner"] == carol.uid


def test_the_last_member_leaving_removes_the_group_from_everyones_lists(groups, trio):
    alice, bob, _, _ = trio
    gid = groups.create(alice, "g", [bob])["gid"]
    groups.send(bob, gid, "bye")
    groups.remove(alice, gid, bob)
    assert any("group" in c for c in groups.chat.get(bob, "/api/contacts")["contacts"])  # bob keeps it a while
    groups.remove(alice, gid, alice)
    for user in (alice, bob):
        assert groups.chat.get(user, "/api/groups")["groups"] == []
        assert not any("group" in c for c in groups.chat.get(user, "/api/contacts")["contacts"])
        assert groups.history(user, gid, 404)["error"]["code"] == "no_such_group"
    assert groups.send(alice, gid, "anyone?", 404)["error"]["code"] == "no_such_group"


# --- reading ---

def test_history_pages_back_from_the_newest_with_has_more(groups, trio):
    alice, bob, _, _ = trio
    gid = groups.create(alice, "g", [bob])["gid"]
    for i in range(5):
        groups.send(alice if i % 2 else bob, gid, f"m{i}")
    newest = groups.history(bob, gid, limit=2)
    assert texts(newest) == ["m3", "m4"] and newest["has_more"] is True
    older = groups.history(bob, gid, before=newest["messages"][0]["mid"], limit=4)
    assert texts(older) == ["<created>", "m0", "m1", "m2"] and older["has_more"] is False
    assert [m["gseq"] for m in older["messages"] + newest["messages"]] == [1, 2, 3, 4, 5, 6]
    assert groups.history(bob, gid, 400, before=1, after=1)["error"]["code"] == "bad_cursor"
    assert groups.history(bob, gid, 400, limit=101)["error"]["code"] == "invalid_limit"


def test_marking_read_moves_the_marker_the_counters_and_the_read_marks(app, groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    one = groups.send(alice, gid, "one")["message"]
    groups.send(alice, gid, "two")
    groups.send(bob, gid, "from bob")
    assert groups.chat.get(carol, "/api/unread")["groups"] == {str(gid): 3}
    assert groups.read(carol, gid, up_to=one["mid"]) == {"unread": 2, "total_unread": 2, "read_mid": one["mid"]}
    assert groups.read(carol, gid, up_to=1) == {"unread": 2, "total_unread": 2, "read_mid": one["mid"]}  # never back
    newest = groups.read(carol, gid)
    assert newest["unread"] == 0 and groups.chat.get(carol, "/api/unread")["groups"] == {}
    marks = groups.history(alice, gid)["read_marks"]
    assert marks[str(carol.uid)] == newest["read_mid"] and set(marks) == {str(u.uid) for u in (alice, bob, carol)}
    assert groups.chat.get(alice, "/api/unread")["groups"] == {str(gid): 1}  # own messages never count
    for user in (alice, bob, carol):
        assert groups.chat.get(user, "/api/unread")["groups"] == unread_in_database(app, user.uid)


def test_a_read_tells_the_senders_of_what_it_covered(groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    cursors = {u.uid: groups.chat.get(u, "/api/sync", since=0)["hints_next"] for u in (alice, bob, carol)}
    groups.send(alice, gid, "from alice")
    mid = groups.send(bob, gid, "from bob")["message"]["mid"]
    groups.read(carol, gid)

    def hints(user):
        page = groups.chat.get(user, "/api/sync", since=10**6, hints_since=cursors[user.uid])
        return [e for e in page["events"] if e["type"] == "read"]
    expected = {"type": "read", "group": gid, "by": carol.uid, "up_to": mid}
    assert hints(alice) == [expected] and hints(bob) == [expected] and hints(carol) == [expected]


def test_contacts_list_groups_beside_people_newest_first_with_unread(groups, trio):
    alice, bob, carol, _ = trio
    gid = groups.create(alice, "g", [bob, carol])["gid"]
    groups.chat.send(bob, alice.uid, "1:1 from bob")
    groups.send(carol, gid, "in the group")
    body = groups.chat.get(alice, "/api/contacts")
    kinds = [("group", c["group"]["gid"]) if "group" in c else ("user", c["user"]["uid"]) for c in body["contacts"]]
    assert kinds == [("group", gid), ("user", bob.uid)]
    assert body["contacts"][0]["unread"] == 1 and body["contacts"][0]["member"] is True
    assert body["contacts"][0]["last_message"]["content"] == "in the group"
    assert body["total_unread"] == 2
    groups.chat.send(bob, alice.uid, "bob again")
    assert [("group" in c) for c in groups.chat.get(alice, "/api/contacts")["contacts"]] == [False, True]
