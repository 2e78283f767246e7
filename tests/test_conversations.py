"""One conversation model (SPEC section 14): a 1:1 chat and a group are both a conversation, named by its cid
(u<uid>, g<gid>); the cid routes send, page and mark read either kind, the older routes are aliases of the
same calls with the same answers, a WebSocket send frame may name a conversation, and each user keeps their
own settings of a conversation (muted)."""
from __future__ import annotations

import pytest

from .helpers import WsClient


@pytest.fixture
def trio(chat):
    """alice, bob and carol; a group of the three (alice owns it)."""
    alice, bob, carol = (chat.register(name) for name in ("alice", "bob", "carol"))
    gid = chat.post(alice, "/api/groups", {"name": "trio", "members": [bob.uid, carol.uid]}, 201)["group"]["gid"]
    return alice, bob, carol, gid


def test_a_cid_route_sends_to_either_kind_of_conversation_and_the_alias_answers_alike(chat, trio):
    alice, bob, carol, gid = trio
    direct = chat.post(alice, f"/api/conversations/u{bob.uid}/messages", {"content": "by cid"}, 201)["message"]
    grouped = chat.post(alice, f"/api/conversations/g{gid}/messages", {"content": "to the group"}, 201)["message"]
    assert (direct["to"], direct["content"], direct["kind"]) == (bob.uid, "by cid", "text")
    assert (grouped["group"], grouped["content"], grouped["gseq"]) == (gid, "to the group", 2)
    via_alias = chat.send(alice, bob.uid, "by alias")["message"]
    assert set(via_alias) == set(direct) and via_alias["mid"] > grouped["mid"]
    by_cid = chat.get(bob, f"/api/conversations/u{alice.uid}/messages")
    by_uid = chat.get(bob, f"/api/conversations/{alice.uid}/messages")
    assert by_cid == by_uid and [m["content"] for m in by_cid["messages"]] == ["by cid", "by alias"]
    assert chat.get(carol, f"/api/conversations/g{gid}/messages") == chat.get(carol, f"/api/groups/{gid}/messages")


def test_a_repeated_client_msg_id_on_a_cid_route_returns_the_first_message(chat, trio):
    alice, _, _, gid = trio
    first = chat.post(alice, f"/api/conversations/g{gid}/messages", {"content": "once", "client_msg_id": "c-1"}, 201)
    again = chat.post(alice, f"/api/groups/{gid}/messages", {"content": "once", "client_msg_id": "c-1"}, 200)
    assert first == again


def test_marking_read_by_cid_moves_the_same_counters_as_the_alias(chat, trio):
    alice, bob, carol, gid = trio
    for text in ("one", "two"):
        chat.post(alice, f"/api/conversations/g{gid}/messages", {"content": text}, 201)
        chat.send(alice, carol.uid, text)
    assert chat.get(carol, "/api/unread") == {"total": 4, "conversations": {str(alice.uid): 2},
                                              "groups": {str(gid): 2}}
    read = chat.post(carol, f"/api/conversations/g{gid}/read")
    assert (read["unread"], read["total_unread"]) == (0, 2)
    read = chat.post(carol, f"/api/conversations/u{alice.uid}/read")
    assert (read["unread"], read["total_unread"]) == (0, 0)
    assert chat.get(carol, "/api/unread")["total"] == 0


@pytest.mark.parametrize("cid, status, code", [
    ("x1", 400, "invalid_uid"), ("u0", 400, "invalid_uid"), ("g", 400, "invalid_uid"), ("u-5", 400, "invalid_uid"),
    ("u999999", 404, "no_such_user"), ("g999999", 404, "no_such_group"),
])
def test_a_bad_or_unknown_cid_is_refused_and_changes_nothing(chat, trio, cid, status, code):
    alice, *_ = trio
    before = chat.get(alice, "/api/contacts")
    for method, path, body in (("post", "messages", {"content": "hi"}), ("get", "messages", None),
                               ("post", "read", {}), ("put", "settings", {"muted": True})):
        url = f"/api/conversations/{cid}/{path}"
        if method == "get":
            answer = chat.client.get(url, headers=alice.headers, status=status).json
        else:
            answer = getattr(chat.client, f"{method}_json")(url, body, headers=alice.headers, status=status).json
        assert answer["error"]["code"] == code, (method, path)
    assert chat.get(alice, "/api/contacts") == before


def test_sending_to_yourself_by_cid_is_refused(chat, trio):
    alice, *_ = trio
    answer = chat.post(alice, f"/api/conversations/u{alice.uid}/messages", {"content": "me"}, 400)
    assert answer["error"]["code"] == "self_message"


def test_a_former_member_cannot_send_by_cid_but_keeps_the_history(chat, trio):
    alice, bob, _, gid = trio
    chat.post(alice, f"/api/conversations/g{gid}/messages", {"content": "before"}, 201)
    chat.client.delete(f"/api/groups/{gid}/members/{bob.uid}", headers=alice.headers, status=204)
    refused = chat.post(bob, f"/api/conversations/g{gid}/messages", {"content": "after"}, 403)
    assert refused["error"]["code"] == "not_a_member"
    kept = chat.get(bob, f"/api/conversations/g{gid}/messages")["messages"]
    assert [m["content"] for m in kept if m["kind"] == "text"] == ["before"]


def test_muting_is_the_callers_own_setting_shown_in_their_contacts_and_told_to_their_sessions(chat, trio):
    alice, bob, _, gid = trio
    chat.send(bob, alice.uid, "hi")
    seen = chat.get(alice, "/api/sync")["hints_next"]
    assert chat.client.put_json(f"/api/conversations/g{gid}/settings", {"muted": True}, headers=alice.headers
                                ).json == {"conversation": f"g{gid}", "muted": True}
    muted = {(c.get("group") or c.get("user"))["name" if "group" in c else "uid"]: c["muted"]
             for c in chat.get(alice, "/api/contacts")["contacts"]}
    assert muted == {"trio": True, bob.uid: False}
    assert all(not c["muted"] for c in chat.get(bob, "/api/contacts")["contacts"])  # bob's are his own
    hints = [e for e in chat.get(alice, "/api/sync", hints_since=seen)["events"] if e["type"] == "settings"]
    assert hints == [{"type": "settings", "conversation": f"g{gid}", "muted": True}]
    chat.client.put_json(f"/api/conversations/g{gid}/settings", {"muted": False}, headers=alice.headers)
    assert all(not c["muted"] for c in chat.get(alice, "/api/contacts")["contacts"])


def test_a_websocket_send_frame_may_name_the_conversation_by_cid(server):
    app, http = server
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (alice, alice_token), (bob, bob_token) = http.login("alice"), http.login("bob")
    gid = http.ok("POST", "/api/groups", {"name": "pair", "members": [bob]}, token=alice_token)["group"]["gid"]
    ws = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    ws.hello(bob_token)
    try:
        ws.send({"type": "send", "conversation": f"u{alice}", "content": "to alice by cid", "client_msg_id": "w-1"})
        ws.send({"type": "send", "conversation": f"g{gid}", "content": "to the group by cid", "client_msg_id": "w-2"})
        sent = ws.recv_until(lambda f: f["type"] == "sent" and f["client_msg_id"] == "w-2")
        answers = {f["client_msg_id"]: f["message"] for f in sent if f["type"] == "sent"}
        assert answers["w-1"]["to"] == alice and answers["w-2"]["group"] == gid
        ws.send({"type": "read", "conversation": f"g{gid}"})
        ws.send({"type": "send", "conversation": "nonsense", "content": "x", "client_msg_id": "w-3"})
        error = ws.recv_until(lambda f: f["type"] == "error")[-1]
        assert (error["code"], error["client_msg_id"]) == ("invalid_uid", "w-3")
    finally:
        ws.ws.close()
    history = http.ok("GET", f"/api/conversations/u{bob}/messages", token=alice_token)["messages"]
    assert [m["content"] for m in history] == ["to alice by cid"]
