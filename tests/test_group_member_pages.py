"""A group's members a page at a time (GET /api/groups/<gid>/members): a 万人群's page shows its first members
and finds one by name without reading its ten thousand. The pages, walked by their `next`, hold the members of
GET /api/groups/<gid> once each and in its order; a search matches a username or nickname anywhere, in any case,
its % and _ taken as themselves; members only; bad input is refused and changes nothing."""
from __future__ import annotations

import pytest
import webtest

from imdemo.app import create_app

from .conftest import Chat
from .test_groups import Groups


@pytest.fixture
def world(make_config):
    """alice's group "crowd" of alice and eleven others (bob first, then m01..m10), stored by read diffusion
    (its storage does not change what the pages say: write-diffusion groups are paged alike)."""
    app = create_app(make_config(large_group_at=4))
    chat = Chat(webtest.TestApp(app.wsgi))
    alice, bob = chat.register("alice", nickname="Alice"), chat.register("bob", nickname="Bob Li")
    crowd = [chat.register(f"m{i:02d}", nickname=f"成员{i}") for i in range(1, 11)]
    gid = chat.post(alice, "/api/groups", {"name": "crowd", "members": [bob.uid] + [m.uid for m in crowd]}, 201)
    yield app, chat, Groups(chat), alice, bob, crowd, gid["group"]["gid"]
    app.close()


def walk(chat, user, gid, **params) -> list[int]:
    """Every page in turn, by next; the uids in the order they came."""
    uids, after = [], None
    for _ in range(100):
        page = chat.get(user, f"/api/groups/{gid}/members", **params, **({"after": after} if after else {}))
        uids += [m["user"]["uid"] for m in page["members"]]
        after = page["next"]
        if after is None:
            return uids
    raise AssertionError("the pages never ended")


def uids_of(page) -> list[int]:
    return [m["user"]["uid"] for m in page["members"]]


@pytest.mark.parametrize("limit", [1, 5, 12, 200])
def test_the_pages_hold_every_member_once_in_the_order_of_the_whole_list(world, limit):
    app, chat, groups, alice, bob, crowd, gid = world
    whole = [m["user"]["uid"] for m in groups.info(bob, gid)["members"]]
    assert len(whole) == 12
    assert walk(chat, bob, gid, limit=limit) == whole


def test_a_page_says_the_group_roles_and_read_marks_as_the_whole_list_does(world):
    app, chat, groups, alice, bob, crowd, gid = world
    page = chat.get(bob, f"/api/groups/{gid}/members", limit=3)
    whole = groups.info(bob, gid)
    assert page["group"] == whole["group"]
    assert page["group"]["member_count"] == 12 and page["group"]["storage"] == "read"
    assert page["members"] == whole["members"][:3]
    assert page["members"][0]["role"] == "owner" and page["next"] is not None
    assert chat.get(bob, f"/api/groups/{gid}/members")["next"] is None  # 50 by default: all twelve


def test_a_search_finds_a_name_anywhere_in_any_case_also_past_the_first_page(world):
    app, chat, groups, alice, bob, crowd, gid = world
    assert walk(chat, bob, gid, q="M1") == [crowd[9].uid]  # m10, the last member
    assert walk(chat, bob, gid, q="li") == [alice.uid, bob.uid]  # alICe's nickname, bob's "Bob Li"
    assert walk(chat, bob, gid, q="成员1", limit=1) == [crowd[0].uid, crowd[9].uid]  # 成员1, 成员10
    assert walk(chat, bob, gid, q="  bob  ") == [bob.uid]  # trimmed
    assert walk(chat, bob, gid, q="nobody") == []


def test_percent_and_underscore_in_a_search_are_themselves(world):
    app, chat, groups, alice, bob, crowd, gid = world
    under = chat.register("a_b", nickname="under")
    groups.add(alice, gid, [under, chat.register("axb", nickname="100% sure")])
    assert walk(chat, bob, gid, q="a_b") == [under.uid]  # not axb: _ is no wildcard
    assert [m["user"]["nickname"] for m in chat.get(bob, f"/api/groups/{gid}/members", q="0%")["members"]] == [
        "100% sure"]
    assert walk(chat, bob, gid, q="%") == walk(chat, bob, gid, q="100%")


def test_who_leaves_is_on_no_page_and_who_joins_comes_last_and_nobody_is_skipped_between_pages(world):
    app, chat, groups, alice, bob, crowd, gid = world
    first = chat.get(bob, f"/api/groups/{gid}/members", limit=4)
    groups.remove(alice, gid, crowd[0])  # on the first page, already read
    groups.remove(alice, gid, crowd[5])  # on a later page
    late = chat.register("late")
    groups.add(alice, gid, [late])
    uids, after = uids_of(first), first["next"]
    while after:
        page = chat.get(bob, f"/api/groups/{gid}/members", limit=4, after=after)
        uids += uids_of(page)
        after = page["next"]
    now = [m["user"]["uid"] for m in groups.info(bob, gid)["members"]]
    assert now[-1] == late.uid and crowd[5].uid not in now
    assert uids == uids_of(first) + [u for u in now if u not in uids_of(first)]  # the rest, each once
    assert walk(chat, bob, gid, limit=4) == now


def test_only_members_read_the_pages(world):
    app, chat, groups, alice, bob, crowd, gid = world
    stranger = chat.register("stranger")
    assert chat.get(stranger, f"/api/groups/{gid}/members", 404)["error"]["code"] == "no_such_group"
    groups.remove(alice, gid, crowd[0])
    gone = chat.login("m01")
    assert chat.get(gone, f"/api/groups/{gid}/members", 403)["error"]["code"] == "not_a_member"
    assert chat.get(None, f"/api/groups/{gid}/members", 401)["error"]["code"] == "unauthorized"
    assert chat.get(bob, "/api/groups/999/members", 404)["error"]["code"] == "no_such_group"


@pytest.mark.parametrize("params, code", [
    ({"limit": "0"}, "invalid_limit"), ({"limit": "201"}, "invalid_limit"), ({"limit": "x"}, "invalid_limit"),
    ({"after": "abc"}, "invalid_after"), ({"after": "1"}, "invalid_after"), ({"after": "1."}, "invalid_after"),
    ({"after": ".1"}, "invalid_after"), ({"after": "1.2.3"}, "invalid_after"), ({"after": "-1.2"}, "invalid_after"),
    ({"after": "１.2"}, "invalid_after"), ({"after": ""}, "invalid_after"), ({"q": ""}, "invalid_q"),
    ({"q": "   "}, "invalid_q"), ({"q": "x" * 65}, "invalid_q"), ({"q": "a\x00"}, "invalid_q"),
])
def test_bad_paging_input_is_refused_with_its_code(world, params, code):
    app, chat, groups, alice, bob, crowd, gid = world
    before = groups.info(bob, gid)
    error = chat.get(bob, f"/api/groups/{gid}/members", 400, **params)["error"]
    assert error["code"] == code and error["message"]
    assert groups.info(bob, gid) == before
