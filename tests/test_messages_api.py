"""Messages over HTTP: send, history, recent contacts, unread, read; and bad input that changes nothing."""
import pytest


@pytest.fixture
def pair(chat):
    return chat.register("alice", nickname="Alice"), chat.register("bob", nickname="Bob")


def test_send_stores_message_and_counts_it_unread_for_the_recipient(chat, pair):
    alice, bob = pair
    message = chat.send(alice, bob.uid, "  hello bob  ")["message"]
    assert message["from"] == alice.uid and message["to"] == bob.uid and message["content"] == "hello bob"
    assert message["created_at"].endswith("Z")
    assert chat.get(bob, "/api/unread") == {"total": 1, "conversations": {str(alice.uid): 1}, "groups": {}}
    assert chat.get(alice, "/api/unread") == {"total": 0, "conversations": {}, "groups": {}}


def test_send_with_same_client_msg_id_returns_first_message_and_stores_nothing(chat, pair):
    alice, bob = pair
    first = chat.send(alice, bob.uid, "once", client_msg_id="c-1")["message"]
    again = chat.send(alice, bob.uid, "once", client_msg_id="c-1", status=200)["message"]
    assert again == first
    assert len(chat.get(bob, f"/api/conversations/{alice.uid}/messages")["messages"]) == 1
    assert chat.get(bob, "/api/unread")["total"] == 1


def test_contacts_are_newest_first_with_last_message_and_unread(chat, pair):
    alice, bob = pair
    carol = chat.register("carol")
    chat.send(bob, alice.uid, "from bob")
    chat.send(carol, alice.uid, "from carol 1")
    chat.send(carol, alice.uid, "from carol 2")
    body = chat.get(alice, "/api/contacts")
    assert body["total_unread"] == 3
    assert [c["user"]["username"] for c in body["contacts"]] == ["carol", "bob"]
    assert body["contacts"][0]["last_message"]["content"] == "from carol 2"
    assert [c["unread"] for c in body["contacts"]] == [2, 1]
    chat.send(alice, bob.uid, "reply to bob")
    body = chat.get(alice, "/api/contacts")
    assert [c["user"]["username"] for c in body["contacts"]] == ["bob", "carol"]
    assert body["contacts"][0]["last_message"]["from"] == alice.uid


def test_history_pages_backwards_and_forwards(chat, pair):
    alice, bob = pair
    mids = [chat.send(alice if i % 2 else bob, bob.uid if i % 2 else alice.uid, f"m{i}")["message"]["mid"]
            for i in range(7)]
    path = f"/api/conversations/{bob.uid}/messages"
    newest = chat.get(alice, path, limit=3)
    assert [m["mid"] for m in newest["messages"]] == mids[4:] and newest["has_more"]
    older = chat.get(alice, path, limit=3, before=mids[4])
    assert [m["mid"] for m in older["messages"]] == mids[1:4] and older["has_more"]
    oldest = chat.get(alice, path, limit=3, before=mids[1])
    assert [m["mid"] for m in oldest["messages"]] == mids[:1] and not oldest["has_more"]
    after = chat.get(alice, path, limit=3, after=mids[2])
    assert [m["mid"] for m in after["messages"]] == mids[3:6] and after["has_more"]


def test_history_shows_only_the_callers_own_conversation(chat, pair):
    alice, bob = pair
    carol = chat.register("carol")
    chat.send(alice, bob.uid, "private")
    assert chat.get(carol, f"/api/conversations/{alice.uid}/messages")["messages"] == []
    assert chat.get(carol, f"/api/conversations/{bob.uid}/messages")["messages"] == []


def test_mark_read_clears_conversation_and_moves_total(chat, pair):
    alice, bob = pair
    carol = chat.register("carol")
    for text in ("a", "b", "c"):
        chat.send(bob, alice.uid, text)
    chat.send(carol, alice.uid, "d")
    body = chat.post(alice, f"/api/conversations/{bob.uid}/read")
    assert body["unread"] == 0 and body["total_unread"] == 1
    assert chat.get(alice, "/api/unread") == {"total": 1, "conversations": {str(carol.uid): 1}, "groups": {}}


def test_mark_read_up_to_a_mid_leaves_later_messages_unread_and_never_moves_back(chat, pair):
    alice, bob = pair
    mids = [chat.send(bob, alice.uid, t)["message"]["mid"] for t in ("a", "b", "c")]
    assert chat.post(alice, f"/api/conversations/{bob.uid}/read", {"up_to": mids[1]})["unread"] == 1
    back = chat.post(alice, f"/api/conversations/{bob.uid}/read", {"up_to": mids[0]})
    assert back["unread"] == 1 and back["read_mid"] == mids[1]
    assert chat.get(alice, "/api/unread")["total"] == 1


def test_own_messages_never_count_as_unread(chat, pair):
    alice, bob = pair
    chat.send(alice, bob.uid, "mine")
    chat.send(bob, alice.uid, "theirs")
    chat.send(alice, bob.uid, "mine again")
    assert chat.get(alice, "/api/unread")["total"] == 1
    assert chat.post(alice, f"/api/conversations/{bob.uid}/read")["unread"] == 0


def test_peer_read_mid_tells_the_sender_how_far_the_recipient_read(chat, pair):
    alice, bob = pair
    mid = chat.send(alice, bob.uid, "read me")["message"]["mid"]
    path = f"/api/conversations/{bob.uid}/messages"
    assert chat.get(alice, path)["peer_read_mid"] == 0
    chat.post(bob, f"/api/conversations/{alice.uid}/read")
    assert chat.get(alice, path)["peer_read_mid"] == mid
    assert chat.get(alice, "/api/contacts")["contacts"][0]["peer_read_mid"] == mid


def _state(chat, alice, bob):
    return (chat.get(alice, "/api/unread"), chat.get(bob, "/api/unread"),
            chat.get(alice, f"/api/conversations/{bob.uid}/messages"), chat.get(alice, "/api/contacts"))


@pytest.mark.parametrize("body, status, code", [
    ({"to": 99999, "content": "hi"}, 404, "no_such_user"),
    ({"to": "self", "content": "hi"}, 400, "invalid_to"),
    ({"to": None, "content": "hi"}, 400, "invalid_to"),
    ({"to": 1.5, "content": "hi"}, 400, "invalid_to"),
    ({"to": True, "content": "hi"}, 400, "invalid_to"),
    ({"to": -1, "content": "hi"}, 400, "invalid_to"),
    ({"to": 10**30, "content": "hi"}, 400, "invalid_to"),
    ({"content": "hi"}, 400, "invalid_to"),
    ({"to": "BOB", "content": ""}, 400, "invalid_content"),
    ({"to": "BOB"}, 400, "invalid_content"),
    ({"to": "BOB", "content": "   "}, 400, "invalid_content"),
    ({"to": "BOB", "content": "x" * 1001}, 400, "invalid_content"),
    ({"to": "BOB", "content": ["list"]}, 400, "invalid_content"),
    ({"to": "BOB", "content": "nul\x00byte"}, 400, "invalid_content"),
    ({"to": "BOB", "content": "hi", "client_msg_id": "x" * 65}, 400, "invalid_client_msg_id"),
    ({"to": "BOB", "content": "hi", "client_msg_id": 12}, 400, "invalid_client_msg_id"),
    ({"to": "ME", "content": "hi"}, 400, "self_message"),
])
def test_bad_send_gets_json_error_and_changes_nothing(chat, client, pair, body, status, code):
    alice, bob = pair
    chat.send(bob, alice.uid, "before")
    body = {k: {"BOB": bob.uid, "ME": alice.uid}.get(v, v) if k == "to" else v for k, v in body.items()}
    before = _state(chat, alice, bob)
    response = client.post_json("/api/messages", body, headers=alice.headers, status=status)
    assert response.json["error"]["code"] == code and response.json["error"]["message"]
    assert _state(chat, alice, bob) == before


@pytest.mark.parametrize("raw, content_type, status, code", [
    (b"{not json", "application/json", 400, "malformed_json"),
    (b"[1, 2]", "application/json", 400, "malformed_json"),
    (b"\xff\xfe\x00", "application/json", 400, "malformed_json"),
    (b"[" * 100000 + b"]" * 100000, "application/json", 413, "body_too_large"),
    (b'{"to": 1, "content": "' + b"x" * 17000 + b'"}', "application/json", 413, "body_too_large"),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400, "malformed_json"),
])
def test_malformed_or_oversize_body_gets_json_error(client, pair, raw, content_type, status, code):
    alice, _ = pair
    headers = {**alice.headers, "Content-Type": content_type}
    response = client.post("/api/messages", raw, headers=headers, status=status)
    assert response.json["error"]["code"] == code


@pytest.mark.parametrize("path, params, code", [
    ("/api/conversations/abc/messages", {}, "invalid_uid"),
    ("/api/conversations/BOB/messages", {"limit": "0"}, "invalid_limit"),
    ("/api/conversations/BOB/messages", {"limit": "101"}, "invalid_limit"),
    ("/api/conversations/BOB/messages", {"before": "x"}, "invalid_before"),
    ("/api/conversations/BOB/messages", {"before": "5", "after": "1"}, "bad_cursor"),
    ("/api/sync", {"since": "-1"}, "invalid_since"),
    ("/api/sync", {"timeout": "31"}, "invalid_timeout"),
    ("/api/sync", {"timeout": "nan"}, "invalid_timeout"),
    ("/api/sync", {"limit": "100000"}, "invalid_limit"),
])
def test_bad_query_values_get_400(chat, pair, path, params, code):
    alice, bob = pair
    body = chat.get(alice, path.replace("BOB", str(bob.uid)), status=400, **params)
    assert body["error"]["code"] == code


def test_mark_read_of_unknown_user_is_404_and_bad_up_to_is_400(chat, pair):
    alice, bob = pair
    assert chat.post(alice, "/api/conversations/99999/read", status=404)["error"]["code"] == "no_such_user"
    body = chat.post(alice, f"/api/conversations/{bob.uid}/read", {"up_to": "all"}, status=400)
    assert body["error"]["code"] == "invalid_up_to"


@pytest.mark.parametrize("params", [{}, {"before": 5}, {"after": 0}, {"limit": 1}])
def test_history_with_an_unknown_user_is_404_and_with_a_silent_one_an_empty_page(chat, pair, params):
    alice, bob = pair
    body = chat.get(alice, "/api/conversations/99999/messages", status=404, **params)
    assert body["error"]["code"] == "no_such_user"
    assert chat.get(alice, f"/api/conversations/{bob.uid}/messages", **params)["messages"] == []


def test_unknown_route_and_wrong_method_answer_json(client):
    assert client.get("/api/nope", status=404).json["error"]["code"] == "not_found"
    assert client.delete("/api/messages", status=405).json["error"]["code"] == "method_not_allowed"


def test_a_crash_in_a_route_answers_500_without_a_stack_trace(app, chat, pair, monkeypatch):
    alice, _ = pair

    def broken(uid):
        raise RuntimeError("secret detail")
    monkeypatch.setattr(app.services.contacts, "unread", broken)
    response = chat.client.get("/api/unread", headers=alice.headers, status=500, expect_errors=True)
    assert response.json == {"error": {"code": "internal_error", "message": "internal error"}}
    assert "secret" not in response.text and "Traceback" not in response.text
    assert chat.get(alice, "/api/me")["user"]["uid"] == alice.uid


def test_uids_are_ascii_digits_only(chat, pair):
    alice, bob = pair
    from urllib.parse import quote
    arabic = quote("".join("٠١٢٣٤٥٦٧٨٩"[int(d)] for d in str(bob.uid)))  # Arabic-Indic digits of bob's uid
    assert chat.get(alice, f"/api/conversations/{arabic}/messages", status=400)["error"]["code"] == "invalid_uid"
