"""GET /metrics (SPEC section 18, lecture 19): Prometheus text from prometheus_client, each process's own
registry, the figures of the way of a message moving as messages go, and never a user's words in it."""
from __future__ import annotations

import threading

import pytest
from prometheus_client.parser import text_string_to_metric_families

from imdemo.app import create_app
from imdemo.metrics import NO_METRICS

from .helpers import WsClient, wait_for

# Every metric of SPEC section 18, by its name in the exposition (a counter's family drops _total)
EXPECTED = {
    "imdemo_messages_stored": "counter", "imdemo_deliveries": "counter", "imdemo_send_to_push_seconds": "histogram",
    "imdemo_ws_retransmissions": "counter", "imdemo_ws_closes": "counter", "imdemo_ws_connections_open": "gauge",
    "imdemo_long_polls_open": "gauge", "imdemo_message_fanout_timelines": "histogram",
    "imdemo_commit_seconds": "histogram", "imdemo_commit_messages": "histogram", "imdemo_lua_seconds": "histogram",
}


class Scrape:
    """One reading of a server's /metrics."""

    def __init__(self, text: str):
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, name: str, **labels) -> float:
        """The sample called name whose labels include labels (0 when there is none yet)."""
        family = next((self.families[name.removesuffix(end)] for end in ("_total", "_count", "_sum", "_bucket", "")
                       if name.endswith(end) and name.removesuffix(end) in self.families), None)
        found = [s.value for s in (family.samples if family else []) if s.name == name
                 and all(s.labels.get(k) == str(v) for k, v in labels.items())]
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else 0.0


def scrape(http) -> Scrape:
    import urllib.request

    with urllib.request.urlopen(http.base + "/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=")
        return Scrape(response.read().decode())


def _pair(http):
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    return http.login("alice"), http.login("bob")


def test_metrics_are_prometheus_text_with_units_in_the_names_and_a_help_line_each(server):
    _, http = server
    metrics = scrape(http)
    ours = {name: f for name, f in metrics.families.items()  # (prometheus_client adds a _created beside each)
            if name.startswith("imdemo_") and not name.endswith("_created")}
    assert {name: f.type for name, f in ours.items()} == EXPECTED
    for name, family in ours.items():
        assert len(family.documentation) > 20, name  # a help line that says what it counts
        if family.type == "histogram":
            assert name.endswith(("_seconds", "_timelines", "_messages")), name  # the unit in the name
    assert "# HELP imdemo_messages_stored_total " in metrics.text and "# TYPE imdemo_messages_stored_total counter" \
        in metrics.text
    assert "process_cpu_seconds_total" in metrics.families.keys() | {
        s.name for f in metrics.families.values() for s in f.samples}  # the process's own: CPU, memory, files


def test_a_message_pushed_over_the_websocket_moves_stored_delivered_latency_commit_and_lua(server):
    _, http = server
    (alice, alice_token), (bob, bob_token) = _pair(http)
    before = scrape(http)
    socket = WsClient(f"ws://127.0.0.1:{server[0].config.websocket_port}/")
    socket.hello(bob_token, 0)
    wait_for(lambda: scrape(http).value("imdemo_ws_connections_open") == 1, message="the open connection")
    for i in range(3):
        http.ok("POST", "/api/messages", {"to": bob, "content": f"m{i}"}, token=alice_token)
        seq = socket.recv_until(lambda f: f.get("type") == "message")[-1]["seq"]
        socket.send({"type": "ack", "seq": seq})
    after = scrape(http)
    moved = {name: after.value(name, **labels) - before.value(name, **labels) for name, labels in [
        ("imdemo_messages_stored_total", {"kind": "text", "conversation": "direct"}),
        ("imdemo_deliveries_total", {"transport": "websocket"}),
        ("imdemo_send_to_push_seconds_count", {"transport": "websocket"}),
        ("imdemo_message_fanout_timelines_count", {"conversation": "direct"}),
        ("imdemo_message_fanout_timelines_sum", {"conversation": "direct"}),
        ("imdemo_commit_seconds_count", {}), ("imdemo_commit_messages_sum", {}),
        ("imdemo_lua_seconds_count", {"script": "unread.on_message"})]}
    assert moved == {"imdemo_messages_stored_total": 3, "imdemo_deliveries_total": 3,
                     "imdemo_send_to_push_seconds_count": 3, "imdemo_message_fanout_timelines_count": 3,
                     "imdemo_message_fanout_timelines_sum": 6, "imdemo_commit_seconds_count": 3,
                     "imdemo_commit_messages_sum": 3, "imdemo_lua_seconds_count": 3}
    assert 0 < after.value("imdemo_send_to_push_seconds_sum", transport="websocket") < 3 * 5
    socket.close()
    wait_for(lambda: scrape(http).value("imdemo_ws_closes_total", code=1000) == 1, message="the close counted")
    assert scrape(http).value("imdemo_ws_connections_open") == 0


def test_long_and_short_polls_count_their_deliveries_and_the_long_polls_open(server):
    _, http = server
    (_, alice_token), (bob, bob_token) = _pair(http)
    answer = {}
    poll = threading.Thread(target=lambda: answer.update(
        body=http.ok("GET", "/api/sync?since=0&timeout=20", token=alice_token)))
    poll.start()
    wait_for(lambda: scrape(http).value("imdemo_long_polls_open") == 1, message="the long poll counted open")
    http.ok("POST", "/api/messages", {"to": http.login("alice")[0], "content": "wake up"}, token=bob_token)
    poll.join(timeout=20)
    assert [e["type"] for e in answer["body"]["events"]][:1] == ["message"]
    http.ok("GET", "/api/sync?since=0&timeout=0", token=alice_token)  # a short poll reads the same message
    metrics = scrape(http)
    assert metrics.value("imdemo_long_polls_open") == 0
    assert metrics.value("imdemo_deliveries_total", transport="long_poll") == 1
    assert metrics.value("imdemo_send_to_push_seconds_count", transport="long_poll") == 1
    assert metrics.value("imdemo_deliveries_total", transport="short_poll") == 1


def test_retransmissions_and_the_ack_timeout_close_are_counted(make_server):
    app, http = make_server(ack_timeout=0.2, ack_retries=1)
    (_, alice_token), (bob, bob_token) = _pair(http)
    socket = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    socket.hello(bob_token, 0)
    http.ok("POST", "/api/messages", {"to": bob, "content": "never acknowledged"}, token=alice_token)
    while socket.recv(timeout=10) is not None:  # the push, its retransmission, then the close
        pass
    assert socket.close_code == 4408
    wait_for(lambda: scrape(http).value("imdemo_ws_closes_total", code=4408) == 1, message="the 4408 close")
    assert scrape(http).value("imdemo_ws_retransmissions_total") == 1
    assert scrape(http).value("imdemo_deliveries_total", transport="websocket") == 1  # a retransmission is not one


def test_a_group_message_shows_its_fanout_and_its_kind(server):
    _, http = server
    for name in ("alice", "bob", "carol"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, token), (bob, _), (carol, _) = (http.login(n) for n in ("alice", "bob", "carol"))
    gid = http.ok("POST", "/api/groups", {"name": "three", "members": [bob, carol]}, token=token)["group"]["gid"]
    http.ok("POST", f"/api/groups/{gid}/messages", {"content": "hi all"}, token=token)
    metrics = scrape(http)
    assert metrics.value("imdemo_messages_stored_total", kind="text", conversation="group") == 1
    assert metrics.value("imdemo_messages_stored_total", kind="system", conversation="group") == 1  # created
    assert metrics.value("imdemo_message_fanout_timelines_bucket", conversation="group", le="2.0") == 0
    assert metrics.value("imdemo_message_fanout_timelines_bucket", conversation="group", le="3.0") == 2


def test_a_large_group_message_reached_one_timeline_its_groups_own(server):
    _, http = server
    for name in ("alice", "bob", "carol"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (_, token), (bob, _), (carol, _) = (http.login(n) for n in ("alice", "bob", "carol"))
    body = {"name": "big", "members": [bob, carol], "large": True}
    gid = http.ok("POST", "/api/groups", body, token=token)["group"]["gid"]
    before = scrape(http)
    http.ok("POST", f"/api/groups/{gid}/messages", {"content": "hi all"}, token=token)
    after = scrape(http)

    def grew(name: str, **labels) -> float:
        return after.value(name, **labels) - before.value(name, **labels)
    assert grew("imdemo_message_fanout_timelines_count", conversation="group") == 1
    assert grew("imdemo_message_fanout_timelines_sum", conversation="group") == 1  # the group's own: read diffusion


def test_metrics_never_show_user_content_names_tokens_or_a_code_the_client_chose(server):
    app, http = server
    secret_words = ["zebra_user_77", "Zebra Nickname 77", "unmistakable content 77", "Zebra Group 77"]
    http.ok("POST", "/api/register", {"username": secret_words[0], "password": "pw1234", "nickname": secret_words[1]})
    http.ok("POST", "/api/register", {"username": "bob", "password": "pw1234"})
    (_, token), (bob, bob_token) = http.login(secret_words[0]), http.login("bob")
    http.ok("POST", "/api/messages", {"to": bob, "content": secret_words[2], "client_msg_id": "cmid-zebra-77"},
            token=token)
    http.ok("POST", "/api/groups", {"name": secret_words[3], "members": [bob]}, token=token)
    socket = WsClient(f"ws://127.0.0.1:{app.config.websocket_port}/")
    socket.hello(bob_token, 0)
    socket.ws.close(status=3999, reason=secret_words[2].encode())  # a client picks any code and reason
    wait_for(lambda: scrape(http).value("imdemo_ws_closes_total", code="other") == 1, message="the close")
    text = scrape(http).text
    for word in [*secret_words, "cmid-zebra-77", token, bob_token, "pw1234"]:
        assert word not in text, word
    assert 'code="3999"' not in text  # the client's code is "other" (as a number, 3999 may be any sum's digits)


def test_no_metrics_serves_404_and_the_writer_records_nothing(chat_of):
    app, client = chat_of(metrics=False)
    assert client.get("/metrics", status=404).json["error"]["code"] == "not_found"
    assert app.services.messages.writer.metrics is NO_METRICS


def test_each_app_has_a_registry_of_its_own(chat_of):
    """Two apps in one process (as the tests build them) on one database: what one stores, only it counts."""
    (_, first), (_, second) = chat_of(), chat_of()
    for name in ("alice", "bob"):
        first.post_json("/api/register", {"username": name, "password": "pw1234"}, status=201)
    token = first.post_json("/api/login", {"username": "alice", "password": "pw1234"}).json["token"]
    bob = first.post_json("/api/login", {"username": "bob", "password": "pw1234"}).json["user"]["uid"]
    first.post_json("/api/messages", {"to": bob, "content": "one"}, headers={"Authorization": f"Bearer {token}"})
    counts = [Scrape(c.get("/metrics").text).value("imdemo_messages_stored_total", kind="text",
                                                    conversation="direct") for c in (first, second)]
    assert counts == [1, 0]


@pytest.fixture
def chat_of(make_config):
    """Return a function that builds an app on this test's database and a WebTest client of it."""
    import webtest
    apps = []

    def build(**overrides):
        app = create_app(make_config(**overrides))
        apps.append(app)
        return app, webtest.TestApp(app.wsgi)
    yield build
    for app in apps:
        app.close()
