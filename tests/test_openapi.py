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
                      "/api/inspect/connections"}
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', client.get("/api/openapi.json").text))
    assert refs <= set(document["components"]["schemas"])
    for path in public - {"/api/register", "/api/login", "/api/inspect/actions", "/api/inspect/state",
                          "/api/inspect/group", "/api/inspect/connections"}:
        client.get(path, status=200)


# --- every constraint the server enforces is in the document ---

DOCUMENTED = settings(max_examples=100, deadline=None, database=None, print_blob=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                             HealthCheck.filter_too_much])
TAKES_INPUT = sorted((path, method) for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()
                     if op.get("parameters") or "requestBody" in op)
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
    """The refusals the document states in its description, as no schema can (they depend on the caller,
    or on two parameters together); test_the_rules_stated_in_words_are_refused checks them."""
    if path == "/api/messages":
        return request["body"]["to"] == me
    return "before" in request["query"] and "after" in request["query"]


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
    body = chat.get(alice, f"/api/conversations/{alice.uid + 1}/messages", status=400, before=5, after=1)
    assert body["error"]["code"] == "bad_cursor"


def test_a_whole_number_written_with_a_fraction_is_the_integer_it_names(documented):
    """JSON has one number type and the document's `integer` includes 1001.0, so the server takes it."""
    chat, alice = documented
    bob = chat.get(alice, "/api/users")["users"][0]["uid"]
    sent = chat.send(alice, float(bob), "as a float")["message"]
    assert sent["to"] == bob
