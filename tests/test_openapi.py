"""The OpenAPI document describes every HTTP route, and nothing else, with every constraint the server
enforces on its input: requests generated from the document (hypothesis-jsonschema) are never refused
with 400, and what the server refuses, the document calls invalid."""
import json
import re

import jsonschema
import pytest
import webtest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from imdemo.api.openapi import DOCUMENT

from .media import upload


def _api_routes(app):
    routes = set()
    for route in app.http.routes:
        if route.rule.startswith("/api/") or route.rule == "/healthz":
            routes.add((re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", route.rule), route.method.lower()))
    return routes


def test_openapi_document_lists_exactly_the_routes_served(make_config):
    from imdemo.app import create_app
    app = create_app(make_config(inspect=True))  # with every optional route
    try:
        document = webtest.TestApp(app.wsgi).get("/api/openapi.json").json
    finally:
        app.close()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert documented == _api_routes(app)


def test_openapi_marks_public_routes_and_every_schema_reference_resolves(client):
    document = client.get("/api/openapi.json").json
    public = {p for p, ops in document["paths"].items() for op in ops.values() if op.get("security") == []}
    assert public == {"/api/register", "/api/login", "/api/config", "/healthz", "/api/openapi.json",
                      "/api/inspect/actions", "/api/inspect/state", "/api/inspect/group",
                      "/api/inspect/connections", "/api/inspect/traces", "/api/inspect/uploads",
                      "/api/uploads/"}  # tus discovery (OPTIONS) needs no token
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', client.get("/api/openapi.json").text))
    assert refs <= set(document["components"]["schemas"])
    for path in public - {"/api/register", "/api/login", "/api/inspect/actions", "/api/inspect/state",
                          "/api/inspect/group", "/api/inspect/connections", "/api/inspect/traces",
                          "/api/inspect/uploads", "/api/uploads/"}:
        client.get(path, status=200)


# --- every constraint the server enforces is in the document ---

DOCUMENTED = settings(max_examples=100, deadline=None, database=None, print_blob=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                             HealthCheck.filter_too_much])
# The tus routes take their input in headers and raw bytes (test_uploads.py sends them as tus clients do)
TAKES_INPUT = sorted((path, method) for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()
                     if (op.get("parameters") or "requestBody" in op)
                     and not any(p["in"] == "header" for p in op.get("parameters", ())))
WAIT_AT_MOST = 0.01  # seconds: /api/sync accepts any timeout in 0..30; waiting it out would only be slow


def _requests(op: dict) -> st.SearchStrategy:
    """Requests valid by an operation's schemas: path values, query values (optional ones or not), a body."""
    params = op.get("parameters", [])
    return st.fixed_dictionaries({
        "path": st.fixed_dictionaries({p["name"]: from_schema(p["schema"]) for p in params if p["in"] == "path"}),
        "query": st.fixed_dictionaries(
            {p["name"]: from_schema(p["schema"]) for p in params if p["in"] == "query" and p["required"]},
            optional={p["name"]: from_schema(p["schema"]) for p in params if p["in"] == "query" and not p["required"]}),
        "body": from_schema(op["requestBody"]["content"]["application/json"]["schema"]) if "requestBody" in op
        else st.none(),
    })


def _stated_in_words(path: str, request: dict, me: int) -> bool:
    """The refusals the document states in its descriptions, as no schema can (they depend on the caller,
    or on two parameters together); test_the_rules_stated_in_words_are_refused checks them."""
    if path == "/api/messages":
        return request["body"]["to"] == me
    if path == "/api/conversations/{cid}/messages" and request["body"] is not None:  # a send to the caller's own
        if str(request["path"]["cid"]).removeprefix("u") == str(me):  # cid: self_message, as `to` above
            return True
    if isinstance(request["body"], dict) and request["body"].get("mentions"):
        return True  # members only, @all the owner only, groups only: the mentions field says so in words
    both = "before" in request["query"] and "after" in request["query"]
    return both and "bad_cursor" in DOCUMENT["paths"][path]["get"].get("description", "")


@pytest.fixture
def documented(make_config):
    """An app with every route (the inspector on) and no login throttle in the way, alice and bob, a message
    between them and a group of theirs (gid 1), so history, sync, groups and read have something to serve."""
    from imdemo.app import create_app

    from .conftest import Chat
    app = create_app(make_config(inspect=True, login_attempts=10**9))
    chat = Chat(webtest.TestApp(app.wsgi))
    alice, bob = chat.register("alice"), chat.register("bob")
    chat.send(bob, alice.uid, "hello")
    gid = chat.post(alice, "/api/groups", {"name": "g", "members": [bob.uid]}, 201)["group"]["gid"]
    chat.post(bob, f"/api/groups/{gid}/messages", {"content": "hello group"}, 201)
    upload(chat.client, alice, b"a file of alice's", "a.txt")  # file 1, for links and attachments
    yield chat, alice
    app.close()


@pytest.mark.parametrize("path, method", TAKES_INPUT)
@DOCUMENTED
@given(data=st.data())
def test_every_request_valid_by_the_document_is_accepted(documented, path, method, data):
    chat, alice = documented
    op = DOCUMENT["paths"][path][method]
    request = data.draw(_requests(op), "request")
    assume(not _stated_in_words(path, request, alice.uid))
    url = path.format(**{name: str(value) for name, value in request["path"].items()})
    query = {name: str(value) for name, value in request["query"].items()}
    if "timeout" in query:
        query["timeout"] = str(min(request["query"]["timeout"], WAIT_AT_MOST))
    headers = {} if op.get("security") == [] else alice.headers
    if method == "get":
        response = chat.client.get(url, query, headers=headers, status="*")
    elif request["body"] is None:
        response = chat.client.request(url, method=method.upper(), headers=headers, status="*")
    else:
        response = chat.client.request(url, method=method.upper(), body=json.dumps(request["body"]).encode(),
                                       headers=headers, status="*", content_type="application/json")
    assert response.status_int != 400 and response.status_int < 500, (url, query, request["body"], response.text)


def _schema_of(path: str, method: str = "post") -> dict:
    return DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def _param_schema(path: str, name: str) -> dict:
    return next(p["schema"] for p in DOCUMENT["paths"][path]["get"]["parameters"] if p["name"] == name)


@pytest.mark.parametrize("where, value", [
    ("/api/messages", {"to": 0, "content": "hi"}),
    ("/api/messages", {"to": 1001, "content": ""}),
    ("/api/messages", {"to": 1001, "content": " \t\n"}),
    ("/api/messages", {"to": 1001, "content": "x" * 1001}),
    ("/api/messages", {"to": 1001, "content": "hi", "client_msg_id": "has space"}),
    ("/api/register", {"username": "a", "password": "pw1234"}),
    ("/api/register", {"username": "alice", "password": "pw"}),
    ("/api/register", {"username": "alice", "password": "pw1234", "nickname": " "}),
    ("/api/conversations/{cid}/read", {"up_to": -1}),
    ("after", -1), ("before", "x"), ("limit", 0), ("limit", 101),
])
def test_what_the_server_refuses_the_document_calls_invalid(documented, where, value):
    """The cases the issue found: a client generated from the document sent them and got 400."""
    chat, alice = documented
    if where.startswith("/"):
        validator = jsonschema.Draft202012Validator(_schema_of(where))
        url = where.format(cid=1001)
        answer = chat.client.post(url, json.dumps(value), headers=alice.headers, content_type="application/json",
                                  status="*")
    else:
        validator = jsonschema.Draft202012Validator(_param_schema("/api/conversations/{cid}/messages", where))
        value = int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value
        answer = chat.client.get("/api/conversations/1001/messages", {where: value}, headers=alice.headers,
                                 status="*")
    assert not validator.is_valid(value), f"the document accepts {value!r}"
    assert answer.status_int == 400, answer.text


def test_the_rules_stated_in_words_are_refused(documented):
    chat, alice = documented
    words = DOCUMENT["info"]["description"]
    assert "self_message" in words and "bad_cursor" in words
    assert chat.send(alice, alice.uid, "me?", status=400)["error"]["code"] == "self_message"
    assert chat.post(alice, f"/api/conversations/u{alice.uid}/messages", {"content": "me?"}, 400)["error"]["code"] \
        == "self_message"
    for path in ("/api/conversations/{cid}/messages", "/api/groups/{gid}/messages"):
        op = DOCUMENT["paths"][path]["get"]
        assert "bad_cursor" in op["description"], path  # where a client reads about the operation
        assert all("bad_cursor" in p["description"] for p in op["parameters"] if p["name"] in ("before", "after"))
        url = path.format(cid=alice.uid + 1, gid=1)
        assert chat.get(alice, url, before=5, after=1, status=400)["error"]["code"] == "bad_cursor", path


BODY_ROUTES = [(path, method) for path, method in TAKES_INPUT if "requestBody" in DOCUMENT["paths"][path][method]]


def _accepted_body(path: str, bob: int) -> dict:
    """A body each route accepts from alice in the documented world (the message of a recall or an edit is one
    she has just sent)."""
    return {"/api/register": {"username": "zed", "password": "pw1234"},
            "/api/login": {"username": "alice", "password": "pw1234"},
            "/api/messages": {"to": bob, "content": "hi"}, "/api/groups": {"name": "g2", "members": [bob]},
            "/api/groups/{gid}": {"name": "renamed"}, "/api/groups/{gid}/members": {"uids": [bob]},
            "/api/groups/{gid}/messages": {"content": "hi"}, "/api/conversations/{cid}/messages": {"content": "hi"},
            "/api/conversations/{cid}/settings": {"muted": True},
            "/api/files/check": {"sha256": "0" * 64, "size": 1}, "/api/files/links": {"fids": [1]},
            "/api/conversations/{cid}/messages/{mid}": {"content": "edited"}}.get(path, {})


def _what_alice_sees(chat, alice) -> list:
    return [chat.get(alice, path, **params) for path, params in (
        ("/api/sync", {"since": 0, "limit": 1000}), ("/api/users", {}), ("/api/groups", {}), ("/api/unread", {}),
        ("/api/groups/1", {}))]


@pytest.mark.parametrize("path, method", BODY_ROUTES)
def test_a_body_property_the_document_does_not_list_is_refused_and_changes_nothing(documented, path, method):
    """A client's typo ("contnet") is an error the client sees, not a field the server drops in silence."""
    chat, alice = documented
    bob = chat.get(alice, "/api/users")["users"][0]["uid"]
    mine = chat.send(alice, bob, "to recall or edit")["message"]["mid"]
    url, body = path.format(cid=bob, gid=1, mid=mine), _accepted_body(path, bob)
    typo = {**body, "contnet": "hello"}
    assert not jsonschema.Draft202012Validator(_schema_of(path, method)).is_valid(typo)
    before = _what_alice_sees(chat, alice)

    def call(payload):
        return chat.client.request(url, method=method.upper(), body=json.dumps(payload).encode(), status="*",
                                   headers=alice.headers, content_type="application/json")
    refused = call(typo)
    assert refused.status_int == 400 and refused.json["error"]["code"] == "unknown_field", refused.text
    assert "'contnet'" in refused.json["error"]["message"]
    assert _what_alice_sees(chat, alice) == before
    assert call(body).status_int in (200, 201, 204)  # the same body without it is accepted


QUERY_PARAMS = sorted((path, p["name"]) for path, ops in DOCUMENT["paths"].items() for op in ops.values()
                      for p in op.get("parameters", ()) if p["in"] == "query")


@pytest.mark.parametrize("path, name", QUERY_PARAMS)
def test_an_empty_query_value_is_refused_as_the_document_says(documented, path, name):
    """`?hints_since=` was taken for an absent cursor (its hints since the last poll silently lost), though
    the document's pattern refuses it; the same holds for every query value: leave it out instead."""
    chat, alice = documented
    assert not jsonschema.Draft202012Validator(_param_schema(path, name)).is_valid("")
    url = path.format(cid=alice.uid + 1, gid=1, fid=1)
    answer = chat.client.get(f"{url}?{name}=", headers=alice.headers, status="*")
    assert answer.status_int == 400 and answer.json["error"]["code"] == f"invalid_{name}", answer.text


def test_a_username_taken_is_409_as_the_document_says(documented):
    chat, _ = documented
    assert "409" in DOCUMENT["paths"]["/api/register"]["post"]["responses"]
    taken = chat.client.post_json("/api/register", {"username": "alice", "password": "pw1234"}, status="*")
    assert taken.status_int == 409 and taken.json["error"]["code"] == "username_taken"


def test_a_whole_number_written_with_a_fraction_is_the_integer_it_names(documented):
    """JSON has one number type and the document's `integer` includes 1001.0, so the server takes it."""
    chat, alice = documented
    bob = chat.get(alice, "/api/users")["users"][0]["uid"]
    sent = chat.send(alice, float(bob), "as a float")["message"]
    assert sent["to"] == bob
