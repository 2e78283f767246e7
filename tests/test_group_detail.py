"""GET /api/groups/<gid>, the member list the group pages draw: members only; a former member 403; a group
that never was, or is gone since its last member left, 404 no_such_group."""


def test_the_members_of_a_group_are_listed_with_roles_and_read_marks_for_its_members(chat):
    alice, bob = chat.register("alice"), chat.register("bob")
    gid = chat.post(alice, "/api/groups", {"name": "pair", "members": [bob.uid]}, status=201)["group"]["gid"]
    detail = chat.get(bob, f"/api/groups/{gid}")
    assert detail["group"]["name"] == "pair" and detail["group"]["member_count"] == 2
    assert [(m["user"]["uid"], m["role"]) for m in detail["members"]] == [(alice.uid, "owner"), (bob.uid, "member")]


def test_a_group_that_never_was_is_404_not_403(chat):
    alice = chat.register("alice")
    assert chat.get(alice, "/api/groups/999", status=404)["error"]["code"] == "no_such_group"


def test_a_former_member_gets_403_and_someone_never_in_it_404(chat):
    alice, bob, carol = chat.register("alice"), chat.register("bob"), chat.register("carol")
    gid = chat.post(alice, "/api/groups", {"name": "pair", "members": [bob.uid]}, status=201)["group"]["gid"]
    chat.client.delete(f"/api/groups/{gid}/members/{bob.uid}", headers=bob.headers, status=204)
    assert chat.get(bob, f"/api/groups/{gid}", status=403)["error"]["code"] == "not_a_member"
    assert chat.get(carol, f"/api/groups/{gid}", status=404)["error"]["code"] == "no_such_group"


def test_a_group_whose_last_member_left_is_gone_for_everyone_who_was_in_it(chat):
    alice, bob = chat.register("alice"), chat.register("bob")
    gid = chat.post(alice, "/api/groups", {"name": "pair", "members": [bob.uid]}, status=201)["group"]["gid"]
    for user in (bob, alice):
        chat.client.delete(f"/api/groups/{gid}/members/{user.uid}", headers=user.headers, status=204)
    for user in (alice, bob):
        assert chat.get(user, f"/api/groups/{gid}", status=404)["error"]["code"] == "no_such_group"
        assert chat.get(user, f"/api/groups/{gid}/messages", status=404)["error"]["code"] == "no_such_group"
