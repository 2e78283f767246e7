"""The WebSocket fast path: live events pushed from the notice itself, gaps and a full window read from the
database by seq, own sends acknowledged without a receipt, and a hello cursor clamped to the newest seq."""
from dataclasses import dataclass, field

import pytest

from imdemo.api import ws_session

from .helpers import WsClient, wait_for


@dataclass
class Pair:
    """alice and bob on a server started for one test; every client opened here is closed after it."""

    app: object
    http: object
    url: str
    alice: int
    alice_token: str
    bob: int
    bob_token: str
    clients: list = field(default_factory=list)

    def connect(self, token: str, since: int = 0) -> WsClient:
        client = WsClient(self.url)
        self.clients.append(client)
        client.hello(token, since)
        return client

    def send(self, token: str, to: int, text: str) -> dict:
        return self.http.ok("POST", "/api/messages", {"to": to, "content": text}, token=token)["message"]


@pytest.fixture
def pair(make_server):
    """Return a function that starts a server with overrides (no retransmission within a test by default)."""
    started = []

    def start(**overrides) -> Pair:
        app, http = make_server(**{"ack_timeout": 30.0, **overrides})
        for name in ("alice", "bob"):
            http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
        (alice, alice_token), (bob, bob_token) = http.login("alice"), http.login("bob")
        started.append(Pair(app, http, f"ws://127.0.0.1:{app.config.websocket_port}/", alice, alice_token,
                            bob, bob_token))
        return started[-1]
    yield start
    for p in started:
        for client in p.clients:
            client.close()


def _calls(monkeypatch, owner, name: str) -> list:
    """Wrap owner.name so each call's arguments are recorded; return the record."""
    made, real = [], getattr(owner, name)

    def recorded(*args):
        result = real(*args)
        made.append(args)  # once it has returned
        return result
    monkeypatch.setattr(owner, name, recorded)
    return made


def _seqs(frames) -> list[int]:
    return [f["seq"] for f in frames if f.get("type") == "message"]


def _receive(client: WsClient, last: int, ack: bool = False) -> list[dict]:
    """Return the message frames up to the one of seq last, acknowledging each one when asked."""
    frames = []
    while not frames or frames[-1]["seq"] != last:
        frames.append(client.recv_until(lambda f: f.get("type") == "message")[-1])
        if ack:
            client.send({"type": "ack", "seq": frames[-1]["seq"]})
    return frames


def _messages_before_pong(client: WsClient) -> list[int]:
    """Ping, and return the seqs of the message frames that come before the pong (the server has handled
    every frame sent before the ping by then, ACKs included)."""
    client.send({"type": "ping"})
    return _seqs(client.recv_until(lambda f: f.get("type") == "pong"))


def _session(p: Pair, uid: int):
    return wait_for(lambda: next((s for s in list(p.app.servers.ws.sessions) if s.uid == uid), None),
                    message=f"the session of {uid}")


def test_live_messages_are_pushed_from_the_notice_without_reading_the_database(pair, monkeypatch):
    p = pair()
    for i in range(2):
        p.send(p.alice_token, p.bob, f"before {i}")
    bob, alice = p.connect(p.bob_token), p.connect(p.alice_token)
    assert _seqs(_receive(bob, 2)) == [1, 2] and _seqs(_receive(alice, 2)) == [1, 2]  # the replay, from the database
    reads = _calls(monkeypatch, p.app.services.sync.reader, "timeline")
    sent = [p.send(p.alice_token, p.bob, f"live {i}") for i in range(20)]
    to_bob, to_alice = _receive(bob, 22, ack=True), _receive(alice, 22, ack=True)  # own sends come back alike
    assert _seqs(to_bob) == _seqs(to_alice) == list(range(3, 23))
    assert [f["message"] for f in to_bob] == [f["message"] for f in to_alice] == sent
    assert _messages_before_pong(bob) == [] and _messages_before_pong(alice) == []  # each seq once
    assert reads == []


def test_a_missed_notice_is_repaired_from_the_database_each_event_once_in_order(pair, monkeypatch):
    p = pair()
    dropped, subscribe = [], p.app.services.sync.subscribe

    def lossy(uid, listener):  # bob's connection never hears the notice of his seq 4
        def hear(notice):
            if uid == p.bob and notice.get("seq") == 4 and not dropped:
                return dropped.append(notice)
            listener(notice)
        return subscribe(uid, hear)
    monkeypatch.setattr(p.app.services.sync, "subscribe", lossy)
    for i in range(2):
        p.send(p.alice_token, p.bob, f"before {i}")
    bob = p.connect(p.bob_token)
    assert _seqs(_receive(bob, 2)) == [1, 2]
    reads = _calls(monkeypatch, p.app.services.sync.reader, "timeline")
    sent = [p.send(p.alice_token, p.bob, f"m{i}") for i in range(2, 7)]
    frames = _receive(bob, 7)
    assert _seqs(frames) == [3, 4, 5, 6, 7] and _messages_before_pong(bob) == []
    assert [f["message"] for f in frames] == sent
    assert len(dropped) == 1 and (p.bob, 3) in [call[:2] for call in reads]  # seq 4 was read after seq 3


def test_a_full_window_gets_the_rest_after_the_ack_every_seq_once_in_order(pair, monkeypatch):
    monkeypatch.setattr(ws_session, "WINDOW", 4)
    p = pair()
    bob = p.connect(p.bob_token)
    session = _session(p, p.bob)
    for i in range(10):
        p.send(p.alice_token, p.bob, f"m{i}")
    got = _seqs(_receive(bob, 4))
    wait_for(lambda: session.feed.announced == 10, message="bob's connection to hear every notice")
    assert _messages_before_pong(bob) == [] and p.app.servers.ws.pending_count() == 4  # the window holds
    bob.send({"type": "ack", "seq": 4})  # one cumulative ACK for the whole window
    got += _seqs(_receive(bob, 8))
    bob.send({"type": "ack", "seq": 8})
    got += _seqs(_receive(bob, 10))
    bob.send({"type": "ack", "seq": 10})
    got += _messages_before_pong(bob)
    assert got == list(range(1, 11))
    assert p.app.servers.ws.pending_count() == 0


def test_acks_of_own_sends_record_nothing_and_a_later_receipt_still_reaches_the_sender(pair, monkeypatch):
    p = pair()
    alice, bob = p.connect(p.alice_token), p.connect(p.bob_token)
    sync = p.app.services.sync
    acked = lambda: sync.counters.client.get(sync.counters.keys.acked_seq(p.alice))  # noqa: E731
    before, recorded = acked(), _calls(monkeypatch, sync, "acknowledge_pushed")
    for i in range(10):
        alice.send({"type": "send", "to": p.bob, "content": f"mine {i}", "client_msg_id": f"own-{i}"})
    assert _seqs(_receive(alice, 10, ack=True)) == list(range(1, 11))
    alice.send({"type": "ack", "seq": 10})
    assert _messages_before_pong(alice) == []
    assert _seqs(_receive(bob, 10)) == list(range(1, 11))
    assert recorded == [] and acked() == before
    assert p.app.servers.ws.pending_count() == 10  # bob's, not ACKed; alice's ACKs freed all of hers
    reply = p.send(p.bob_token, p.alice, "got them")
    assert _seqs(_receive(alice, 11, ack=True)) == [11]
    frames = bob.recv_until(lambda f: f.get("type") == "delivered")
    assert frames[-1] == {"type": "delivered", "to": p.alice, "up_to": reply["mid"]}
    wait_for(lambda: recorded, message="acknowledge_pushed to return")  # it published the receipt just before
    assert recorded == [(p.alice, 11)] and acked() == "11"


def test_hello_since_beyond_the_newest_seq_still_gets_the_next_message(pair, monkeypatch):
    p = pair()
    for i in range(3):
        p.send(p.alice_token, p.bob, f"old {i}")
    hellos = _calls(monkeypatch, p.app.services.sync, "acknowledge")
    bob = p.connect(p.bob_token, since=10**9)
    wait_for(lambda: hellos, message="the hello to record bob's cursor")  # a send before it would count as held
    sent = p.send(p.alice_token, p.bob, "new")
    frames = bob.recv_until(lambda f: f.get("type") == "message")
    assert _seqs(frames) == [4] and frames[-1]["message"] == sent
