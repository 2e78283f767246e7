"""Observability across two processes on one Redis and one PostgreSQL (SPEC 18): each process's /metrics
counts what it did itself (Prometheus scrapes both and sums), the probe goes in through one and out through
the other, and one message's trace shows its steps in both, in the inspector of either."""
from __future__ import annotations

import os

import pytest

from .conftest import REAL_POSTGRES, REAL_REDIS
from .helpers import WsClient, wait_for
from .processes import Process
from .test_metrics import scrape
from .test_probe import PASSWORD, probe

pytestmark = pytest.mark.real_backend


@pytest.fixture
def pair(database_url, make_config, tmp_path):
    """Two `python run.py` with the inspector and the probe's accounts, on this test's database and prefix."""
    if not (REAL_REDIS and REAL_POSTGRES):
        if os.environ.get("IMDEMO_REQUIRE_REAL_BACKEND") == "1":
            pytest.fail("IMDEMO_TEST_REDIS_URL and IMDEMO_TEST_POSTGRES_URL are required here")
        pytest.skip("needs a real Redis and PostgreSQL: set IMDEMO_TEST_REDIS_URL and IMDEMO_TEST_POSTGRES_URL")
    args = ("--database", database_url, "--redis", REAL_REDIS, "--redis-prefix", make_config().redis_prefix,
            "--no-demo", "--send-rate", "0", "--register-rate", "0", "--inspect")
    processes = [Process(*args, env_extra={"IMDEMO_PROBE_PASSWORD": PASSWORD}, log_path=tmp_path / f"p{n}.log")
                 for n in range(2)]
    try:
        yield [p.wait_ready() for p in processes]
    finally:
        for p in processes:
            p.stop()


def _users(http):
    for name in ("alice", "bob"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    return http.login("alice"), http.login("bob")


def test_each_process_counts_what_it_did_and_the_sum_is_the_system(pair):
    a, b = pair
    (_, alice_token), (bob, bob_token) = _users(a.http)
    socket = WsClient(b.ws_url)
    socket.hello(bob_token, 0)
    for i in range(3):
        a.http.ok("POST", "/api/messages", {"to": bob, "content": f"across {i}"}, token=alice_token)
        socket.send({"type": "ack", "seq": socket.recv_until(lambda f: f.get("type") == "message")[-1]["seq"]})
    socket.close()
    stored = {"kind": "text", "conversation": "direct"}
    scrapes = [scrape(p.http) for p in pair]
    assert [s.value("imdemo_messages_stored_total", **stored) for s in scrapes] == [3, 0]  # stored through a
    assert [s.value("imdemo_deliveries_total", transport="websocket") for s in scrapes] == [0, 3]  # pushed by b
    assert [s.value("imdemo_send_to_push_seconds_count", transport="websocket") for s in scrapes] == [0, 3]
    assert all(0 < s.value("process_resident_memory_bytes") for s in scrapes)  # each process's own


@pytest.mark.parametrize("transport", ["websocket", "long_poll"])
def test_the_probe_goes_in_through_one_process_and_out_through_the_other(pair, transport):
    a, b = pair
    status, lines = probe(a.http.base, "--receive-url", b.http.base, "--transport", transport)
    assert status == 0, lines
    assert lines[0].startswith("OK: probe_a -> probe_b") and f"({a.http.base} -> {b.http.base})" in lines[0]
    assert scrape(b.http).value("imdemo_deliveries_total", transport=transport) == 1


def test_one_messages_trace_shows_its_steps_in_both_processes_in_either_inspector(pair):
    a, b = pair
    (_, alice_token), (bob, bob_token) = _users(a.http)
    socket = WsClient(b.ws_url)
    socket.hello(bob_token, 0)
    b.http.ok("GET", "/api/inspect/actions")  # only b's inspector is open: it tells a to record too
    where = {p: f"127.0.0.1:{p.port} pid {p.popen.pid}" for p in pair}

    def traced_from_a():
        """Send one message through a (b pushes it, bob acknowledges); return its trace, once a records too."""
        sent = a.http.ok("POST", "/api/messages", {"to": bob, "content": "trace me"}, token=alice_token)
        mid = sent["message"]["mid"]
        socket.send({"type": "ack", "seq": socket.recv_until(lambda f: f.get("type") == "message")[-1]["seq"]})
        return next((t for t in b.http.ok("GET", "/api/inspect/traces")["traces"] if t["mids"] == [mid]), None)
    trace = wait_for(traced_from_a, timeout=20, interval=0.2, message="a traced message")
    steps = wait_for(lambda: _complete(b, trace["trace"]), timeout=10, message="the push and the ACK")
    by_step = {(s["step"], s["process"]) for s in steps}
    assert {("request", where[a]), ("committed", where[a]), ("heard", where[a]), ("heard", where[b]),
            ("pushed", where[b]), ("acknowledged", where[b])} <= by_step
    order = [s["step"] for s in steps if s["process"] == where[b]]
    assert order.index("heard") < order.index("pushed") < order.index("acknowledged")
    assert steps[0]["step"] == "request" and steps[-1]["at"] - steps[0]["at"] < 5  # in time order, one clock
    from_a = next(t for t in a.http.ok("GET", "/api/inspect/traces")["traces"] if t["trace"] == trace["trace"])
    assert from_a["steps"] == steps  # a's inspector shows the same way, from the same list
    pushed = next(s for s in steps if s["step"] == "pushed")
    assert (pushed["uid"], pushed["transport"], pushed["way"]) == (bob, "websocket", "push")
    socket.close()


def _complete(process, trace_id: str) -> list[dict] | None:
    trace = next(t for t in process.http.ok("GET", "/api/inspect/traces")["traces"] if t["trace"] == trace_id)
    return trace["steps"] if "acknowledged" in {s["step"] for s in trace["steps"]} else None
