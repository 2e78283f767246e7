"""The long connection: hello, replay, push, ACK and retransmission, heartbeat, de-duplication, cleanup."""
import json
import random
import threading
import time

import pytest
import websocket

from .helpers import WsClient, wait_for


@pytest.fixture
def world(make_server):
    """A server with fast protocol timers and two users; returns a small namespace of handles."""
    clients = []

    def start(**overrides):
        settings = dict(ack_timeout=0.4, heartbeat=5.0, ack_retries=2)
        settings.update(overrides)
        app, http = make_server(**settings)
        for name in ("alice", "bob"):
            http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
        (alice, alice_token), (bob, bob_token) = http.login("alice"), http.login("bob")
        url = f"ws://127.0.0.1:{app.config.websocket_port}/"

        class World:
            pass
        w = World()
        w.app, w.http, w.url, w.gateway = app, http, url, app.servers.ws
        w.alice, w.alice_token, w.bob, w.bob_token = alice, alice_token, bob, bob_token
        w.send = lambda token, to, text, **kw: http.ok("POST", "/api/messages", {"to": to, "content": text, **kw},
                                                       token=token)["message"]
        w.connect = lambda token, since=0: clients.append(_connected(url, token, since)) or clients[-1]
        return w
    yield start
    for client in clients:
        client.close()


def _connected(url, token, since):
    client = WsClient(url)
    client.hello(token, since)
    return client


def _messages(frames):
    return [f for f in frames if f.get("type") == "message"]


def test_hello_replays_every_message_after_since_in_seq_order(world):
    w = world()
    for i in range(5):
        w.send(w.alice_token, w.bob, f"m{i}")
    bob = w.connect(w.bob_token, since=2)
    frames = bob.recv_until(lambda f: f.get("seq") == 5)
    assert [f["seq"] for f in _messages(frames)] == [3, 4, 5]
    assert [f["message"]["content"] for f in _messages(frames)] == ["m2", "m3", "m4"]
    bob.close()


@pytest.mark.parametrize("first_frame", [
    {"type": "hello", "token": "wrong", "since": 0},
    {"type": "ping"},
    {"type": "hello", "since": 0},
    {"type": "hello", "token": "x", "since": -1},
    "not json",
])
def test_bad_hello_is_closed_with_4401(world, first_frame):
    w = world()
    client = WsClient(w.url)
    client.send(first_frame)
    assert client.recv() is None and client.close_code == 4401


def test_no_hello_within_five_seconds_is_closed_with_4401(world):
    w = world()
    client = WsClient(w.url)
    assert client.recv(timeout=10) is None and client.close_code == 4401


def test_live_push_reaches_every_connection_of_both_users(world):
    w = world()
    bob1, bob2, alice = w.connect(w.bob_token), w.connect(w.bob_token), w.connect(w.alice_token)
    sent = w.send(w.alice_token, w.bob, "to every tab")
    for client in (bob1, bob2, alice):
        frames = client.recv_until(lambda f: f.get("type") == "message")
        assert frames[-1]["message"] == sent and frames[-1]["seq"] == 1
    hints = bob1.recv_until(lambda f: f.get("type") == "unread")
    assert hints[-1] == {"type": "unread", "total": 1, "conversation": {"uid": w.alice, "unread": 1}}


def test_unacknowledged_event_is_sent_three_times_then_4408_then_resumed_once(world):
    w = world()
    bob = w.connect(w.bob_token)
    w.send(w.alice_token, w.bob, "ack me")
    copies = []
    while (frame := bob.recv(timeout=10)) is not None:
        if frame.get("type") == "message":
            copies.append(frame["seq"])
    assert copies == [1, 1, 1] and bob.close_code == 4408
    wait_for(lambda: w.gateway.pending_count() == 0, message="the closed connection's pending state to go")
    again = w.connect(w.bob_token, since=0)
    frame = again.recv_until(lambda f: f.get("type") == "message")[-1]
    again.send({"type": "ack", "seq": frame["seq"]})
    again.send({"type": "ping"})
    later = again.recv_until(lambda f: f.get("type") == "pong")
    assert frame["seq"] == 1 and _messages(later) == []


def test_ack_stops_retransmission(world):
    w = world()
    bob = w.connect(w.bob_token)
    w.send(w.alice_token, w.bob, "one")
    first = bob.recv_until(lambda f: f.get("type") == "message")[-1]
    bob.send({"type": "ack", "seq": first["seq"]})
    deadline = time.monotonic() + 4 * 0.4
    while time.monotonic() < deadline:  # several ACK timeouts pass: nothing is sent again
        bob.send({"type": "ping"})
        assert _messages(bob.recv_until(lambda f: f.get("type") == "pong")) == []
    assert w.gateway.pending_count() == 0


def test_retried_send_frame_stores_one_message(world):
    w = world()
    alice = w.connect(w.alice_token)
    frame = {"type": "send", "to": w.bob, "content": "only once", "client_msg_id": "retry-1"}
    alice.send(frame)
    first = alice.recv_until(lambda f: f.get("type") == "sent")[-1]
    alice.send(frame)
    second = alice.recv_until(lambda f: f.get("type") == "sent")[-1]
    assert first == second and first["client_msg_id"] == "retry-1"
    history = w.http.ok("GET", f"/api/conversations/{w.alice}/messages", token=w.bob_token)["messages"]
    assert [m["content"] for m in history] == ["only once"]


def test_ack_over_websocket_tells_the_sender_it_was_delivered(world):
    w = world()
    alice, bob = w.connect(w.alice_token), w.connect(w.bob_token)
    sent = w.send(w.alice_token, w.bob, "did you get it?")
    seq = bob.recv_until(lambda f: f.get("type") == "message")[-1]["seq"]
    bob.send({"type": "ack", "seq": seq})
    frames = alice.recv_until(lambda f: f.get("type") == "delivered")
    assert frames[-1] == {"type": "delivered", "to": w.bob, "up_to": sent["mid"]}


def test_read_frame_marks_read_and_tells_the_other_party(world):
    w = world()
    alice, bob = w.connect(w.alice_token), w.connect(w.bob_token)
    sent = w.send(w.alice_token, w.bob, "read me")
    bob.send({"type": "read", "with": w.alice, "up_to": sent["mid"]})
    frames = alice.recv_until(lambda f: f.get("type") == "read")
    assert frames[-1] == {"type": "read", "with": w.bob, "by": w.bob, "up_to": sent["mid"]}
    assert w.http.ok("GET", "/api/unread", token=w.bob_token)["total"] == 0


@pytest.mark.parametrize("frame, code", [
    ("{broken", "malformed_frame"),
    ("[1]", "malformed_frame"),
    ({"type": "dance"}, "unknown_type"),
    ({"type": "ack", "seq": "x"}, "invalid_seq"),
    ({"type": "send", "to": 1, "content": ""}, "invalid_content"),
    ({"type": "send", "to": 99999, "content": "x"}, "no_such_user"),
    ({"type": "read", "with": "nobody"}, "invalid_uid"),
])
def test_bad_frame_gets_an_error_frame_and_the_connection_keeps_serving(world, frame, code):
    w = world()
    alice = w.connect(w.alice_token)
    alice.send(frame)
    assert alice.recv_until(lambda f: f.get("type") == "error")[-1]["code"] == code
    alice.send({"type": "ping"})
    assert alice.recv_until(lambda f: f.get("type") == "pong")
    assert w.http.ok("GET", "/api/sync?since=0", token=w.alice_token)["events"] == []


def test_binary_and_oversize_frames_are_refused(world):
    w = world()
    alice = w.connect(w.alice_token)
    alice.ws.send_binary(b"\x00\x01")
    assert alice.recv_until(lambda f: f.get("type") == "error")[-1]["code"] == "binary_frame"
    alice.send(json.dumps({"type": "ping", "pad": "x" * 20000}))
    assert alice.recv() is None and alice.close_code == 1009


def test_silent_client_is_closed_after_three_heartbeats(world):
    w = world(heartbeat=0.3)
    alice = w.connect(w.alice_token)
    started = time.monotonic()
    assert alice.recv(timeout=10) is None and alice.close_code == 4408
    assert time.monotonic() - started >= 0.9


def test_heartbeat_pings_keep_a_connection_open(world):
    w = world(heartbeat=0.3)
    alice = w.connect(w.alice_token)
    deadline = time.monotonic() + 1.5  # five heartbeat periods, well past the 0.9 s silence limit
    while time.monotonic() < deadline:
        alice.send({"type": "ping"})
        assert alice.recv(timeout=2) == {"type": "pong"}
        time.sleep(0.1)


def test_clients_that_vanish_without_a_close_frame_leave_nothing_behind(world):
    w = world(heartbeat=5)
    baseline_threads = _threads_outside_the_pool()
    clients = [w.connect(w.bob_token) for _ in range(10)]
    w.send(w.alice_token, w.bob, "to the vanishing")
    wait_for(lambda: w.gateway.pending_count() == 10, message="every connection to hold the event")
    for client in clients:
        client.ws.sock.close()  # no close frame, as a phone losing its network
    wait_for(lambda: not w.gateway.sessions and w.gateway.pending_count() == 0, timeout=10,
             message="the dead connections to be freed")
    assert w.app.notifier.listener_count() == 0
    assert _threads_outside_the_pool() <= baseline_threads


def _threads_outside_the_pool() -> int:
    """Threads other than the gateway's fixed pool of database workers (which start lazily)."""
    return sum(not t.name.startswith("imdemo-ws-db") for t in threading.enumerate())


def test_events_arrive_in_seq_order_under_concurrent_senders(world, make_server):
    w = world(ack_timeout=5)
    http = w.http
    senders = []
    for i in range(4):
        http.ok("POST", "/api/register", {"username": f"sender{i}", "password": "pw1234"})
        senders.append(http.login(f"sender{i}")[1])
    bob = w.connect(w.bob_token)

    def burst(token):
        for j in range(15):
            w.send(token, w.bob, str(j))
    workers = [threading.Thread(target=burst, args=(t,)) for t in senders]
    for t in workers:
        t.start()
    got = []
    while len(got) < 60:
        frame = bob.recv(timeout=10)
        if frame["type"] == "message":
            got.append(frame["seq"])
            bob.send({"type": "ack", "seq": frame["seq"]})
    for t in workers:
        t.join()
    assert got == list(range(1, 61))


def test_connections_killed_at_random_still_end_with_every_message_exactly_once(world):
    """Chaos: clients are cut at random moments while messages flow; each resumes from its last seq."""
    w = world(ack_timeout=0.3)
    rng = random.Random(7)
    total, held, stop = 60, {}, threading.Event()

    def receiver():
        since, seen = 0, []
        while not stop.is_set() or since < total:
            client = WsClient(w.url)
            client.hello(w.bob_token, since)
            cut_after = rng.randint(1, 8)
            try:
                while cut_after > 0 and since < total:
                    frame = client.recv(timeout=5)
                    if frame is None:
                        break
                    if frame.get("type") == "message" and frame["seq"] > since:  # drop what is held already
                        seen.append(frame["seq"])
                        since = frame["seq"]
                        if rng.random() < 0.7:
                            client.send({"type": "ack", "seq": since})
                        cut_after -= 1
            except (OSError, websocket.WebSocketException):
                pass  # the cut may land mid-frame; the next connection resumes from since
            client.ws.sock.close()  # cut without a goodbye
            if since >= total:
                break
        held["seqs"] = seen

    receiving = threading.Thread(target=receiver)
    receiving.start()
    for i in range(total):
        w.send(w.alice_token, w.bob, f"chaos {i}")
    stop.set()
    receiving.join(timeout=60)
    assert held["seqs"] == list(range(1, total + 1))
    wait_for(lambda: w.gateway.pending_count() == 0 and not w.gateway.sessions, message="cleanup")


def test_logout_closes_the_connections_opened_with_that_token_only(world):
    w = world()
    doomed, other = w.connect(w.alice_token), w.connect(w.bob_token)
    w.http.ok("POST", "/api/logout", token=w.alice_token)
    assert doomed.recv(timeout=10) is None and doomed.close_code == 4401
    other.send({"type": "ping"})
    assert other.recv_until(lambda f: f.get("type") == "pong")


def test_an_error_answering_a_send_names_its_client_msg_id(world):
    w = world()
    alice = w.connect(w.alice_token)
    alice.send({"type": "send", "to": 99999, "content": "to nobody", "client_msg_id": "lost-1"})
    error = alice.recv_until(lambda f: f.get("type") == "error")[-1]
    assert error["code"] == "no_such_user" and error["client_msg_id"] == "lost-1"


def test_a_client_that_asks_for_batches_gets_several_events_in_one_frame_and_acks_each_seq(world):
    w = world()
    for i in range(4):
        w.send(w.alice_token, w.bob, f"m{i}")
    plain = w.connect(w.bob_token, since=1)  # without batch: one event a frame, as always
    frames = plain.recv_until(lambda f: f.get("seq") == 4)
    assert [f["seq"] for f in _messages(frames)] == [2, 3, 4]
    plain.send({"type": "ack", "seq": 4})
    batched = WsClient(w.url)
    batched.send({"type": "hello", "token": w.bob_token, "since": 1, "batch": True})
    try:
        assert batched.recv()["batch"] is True  # the welcome says it was understood
        replay = batched.recv()
        assert isinstance(replay, list) and [e["seq"] for e in replay] == [2, 3, 4]  # one frame
        assert [e["message"]["content"] for e in replay] == ["m1", "m2", "m3"]
        batched.send({"type": "ack", "seq": 3})  # ACK stays per seq: seq 4 alone comes again
        again = batched.recv_until(lambda f: isinstance(f, dict) and f.get("type") == "message"
                                   or isinstance(f, list))[-1]
        assert (again["seq"] if isinstance(again, dict) else [e["seq"] for e in again]) in (4, [4])
        batched.send({"type": "ack", "seq": 4})
        wait_for(lambda: w.gateway.pending_count() == 0, message="every event acknowledged")
    finally:
        batched.close()
