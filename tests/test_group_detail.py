"""GET /api/groups/<gid>, the member list the group pages draw, of a group that is gone (its last member
left): 404 no_such_group for everyone who was in it, never 403 (tests/test_groups.py covers the rest)."""


def test_a_group_whose_last_member_left_is_gone_for_everyone_who_was_in_it(chat):
    alice, bob = chat.register("alice"), chat.register("bob")
    gid = chat.post(alice, "/api/groups", {"name": "pair", "members": [bob.uid]}, status=201)["group"]["gid"]
    chat.client.delete(f"/api/groups/{gid}/members/{bob.uid}", headers=bob.headers, status=204)
    assert chat.get(bob, f"/api/groups/{gid}", status=403)["error"]["code"] == "not_a_member"  # still there
    chat.client.delete(f"/api/groups/{gid}/members/{alice.uid}", headers=alice.headers, status=204)
    for user in (alice, bob):
        assert chat.get(user, f"/api/groups/{gid}", status=404)["error"]["code"] == "no_such_group"
