"""Scale-out: two processes on one Redis and one PostgreSQL behave as one system (SPEC section 7)."""
import os
import threading
import time

import pytest

from imdemo.store.sessions import LOCAL_SECONDS

from .conftest import REAL_POSTGRES, REAL_REDIS
from .helpers import WsClient, wait_for
from .processes import Process

pytestmark = pytest.mark.real_backend


@pytest.fixture
def cluster(database_url, make_config):
    """Two `python run.py` processes sharing this test's PostgreSQL database and Redis prefix."""
    if not (REAL_REDIS and REAL_POSTGRES):
        if os.environ.get("IMDEMO_REQUIRE_REAL_BACKEND") == "1":
            pytest.fail("IMDEMO_TEST_REDIS_URL and IMDEMO_TEST_POSTGRES_URL are required here")
        pytest.skip("needs a real Redis and PostgreSQL: set IMDEMO_TEST_REDIS_URL and IMDEMO_TEST_POSTGRES_URL")
    prefix = make_config().redis_prefix
    args = ("--database", database_url, "--redis", REAL_REDIS, "--redis-prefix", prefix, "--no-demo",
            "--send-rate", "0", "--register-rate", "0", "--ack-timeout", "0.5")
    processes = [Process(*args), Process(*args)]
    try:
        yield [p.wait_ready() for p in processes]
    finally:
        for p in processes:
            p.stop()


def _users(http, names):
    for name in names:
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    return [http.login(name) for name in names]


def test_a_session_made_on_one_process_works_on_the_other_and_logout_ends_it_everywhere(cluster):
    a, b = cluster
    (alice, token), = _users(a.http, ["alice"])
    assert a.http.ok("GET", "/api/me", token=token)["user"]["uid"] == alice  # a keeps a copy of it now
    assert b.http.ok("GET", "/api/me", token=token)["user"]["uid"] == alice
    b.http.ok("POST", "/api/logout", token=token)
    assert b.http.call("GET", "/api/me", token=token)[0] == 401
    # a hears the logout notice within milliseconds; well before its copy would lapse by itself
    wait_for(lambda: a.http.call("GET", "/api/me", token=token)[0] == 401, timeout=LOCAL_SECONDS / 3,
             message="the other process to hear of the logout")


def test_a_message_sent_through_one_process_reaches_websocket_and_long_poll_on_the_other(cluster):
    a, b = cluster
    (alice, alice_token), (bob, bob_token) = _users(a.http, ["alice", "bob"])
    socket = WsClient(b.ws_url)
    socket.hello(bob_token, 0)
    polled = {}
    poll = threading.Thread(target=lambda: polled.update(
        body=b.http.ok("GET", "/api/sync?since=0&timeout=25", token=bob_token)))
    poll.start()
    sent = a.http.ok("POST", "/api/messages", {"to": bob, "content": "across"}, token=alice_token)["message"]
    sent_at = time.monotonic()
    pushed = socket.recv_until(lambda f: f.get("type") == "message")[-1]
    poll.join(timeout=30)
    assert time.monotonic() - sent_at < 15  # woken across processes, not released by its 25 s timeout
    assert pushed["message"] == sent
    assert [e["message"] for e in polled["body"]["events"] if e["type"] == "message"] == [sent]
    socket.close()


def _check_invariants(processes, users, expected_received):
    """Every SPEC section 9 invariant that the API can show, asked of every process."""
    for p in processes:
        for (_, token), received in zip(users, expected_received, strict=True):
            unread = p.http.ok("GET", "/api/unread", token=token)
            assert unread["total"] == sum(unread["conversations"].values()) == received
            seqs, since = [], 0
            while True:
                body = p.http.ok("GET", f"/api/sync?since={since}&limit=1000", token=token)
                seqs += [e["seq"] for e in body["events"]]
                since = body["next"]
                if not body["has_more"]:
                    break
            assert seqs == list(range(1, len(seqs) + 1))


def _send_from_both(cluster, users, per_thread, flush_midway=None):
    """Four threads per process send to one another; return how many each user received."""
    received = [0] * len(users)
    lock, errors = threading.Lock(), []

    def worker(process, me, n):
        uid, token = users[me]
        for i in range(per_thread):
            to = (me + 1 + (i + n) % (len(users) - 1)) % len(users)
            status, body, _ = process.http.call("POST", "/api/messages",
                                                {"to": users[to][0], "content": f"{n}.{i}"}, token=token)
            if status != 201:
                errors.append((status, body))
                continue
            with lock:
                received[to] += 1
            if flush_midway and n == 0 and i == per_thread // 2:
                flush_midway()
    workers = [threading.Thread(target=worker, args=(cluster[n % 2], n % len(users), n)) for n in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert errors == []
    return received


def test_concurrent_sends_through_both_processes_keep_every_invariant(cluster):
    a, _ = cluster
    users = _users(a.http, ["alice", "bob", "carol"])
    received = _send_from_both(cluster, users, per_thread=25)
    _check_invariants(cluster, users, received)


def test_flushing_redis_in_the_middle_of_traffic_loses_nothing(cluster):
    import redis
    a, _ = cluster
    users = _users(a.http, ["alice", "bob", "carol"])
    client = redis.Redis.from_url(REAL_REDIS)
    received = _send_from_both(cluster, users, per_thread=25, flush_midway=client.flushall)
    for uid, token in users:  # sessions come back from the database
        assert a.http.ok("GET", "/api/me", token=token)["user"]["uid"] == uid
    wait_for(lambda: client.exists(f"{cluster_prefix(a)}imdemo:counters_ready"), message="the rebuild")
    _check_invariants(cluster, users, received)


def cluster_prefix(process) -> str:
    args = process.popen.args
    return args[args.index("--redis-prefix") + 1]
