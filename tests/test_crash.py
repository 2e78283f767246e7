"""Faults: the server killed (SIGKILL) mid-traffic, over HTTP or over WebSockets, and restarted on the same
database; a WebSocket client that stops reading; long polls whose clients vanished.

The crash test is SPEC invariants 1-4 under fire: every acknowledged message exists exactly once, every
client that resumes from its last seq holds each of its messages exactly once in seq order, retries with
the same client_msg_id never store twice, and the unread counters equal the database's count.
"""
from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.client import HTTPException

import pytest
import websocket
import webtest

from imdemo.api.ws_session import WINDOW
from imdemo.app import create_app

from .conftest import REAL_REDIS, Chat
from .helpers import Http, WsClient, wait_for
from .processes import Process
from .test_fuzz_ws import hang_up

CLIENTS = 4  # sending threads, one user each
PER_CLIENT = 60  # messages each sends
KILLS = 3
UNREAD_OF = ("SELECT r.other_uid, COUNT(*) FROM im_msg_relation r JOIN im_msg_contact ct"
             " ON ct.owner_uid = r.owner_uid AND ct.other_uid = r.other_uid"
             " WHERE r.owner_uid = ? AND r.type = 1 AND r.mid > ct.read_mid GROUP BY r.other_uid")


class Servers:
    """The one live `python run.py` at a time; clients follow it across restarts."""

    def __init__(self, args: tuple[str, ...]):
        self.args = args
        self.changed = threading.Condition()
        self.generation = 0
        self.process = self._start()
        self.restarts: list[float] = []

    def _start(self) -> Process:
        return Process(*self.args, env_extra={"IMDEMO_PASSWORD_COST": "16"}).wait_ready()

    def current(self) -> tuple[int, Http]:
        with self.changed:
            return self.generation, self.process.http

    def current_ws_url(self) -> tuple[int, str]:
        with self.changed:
            return self.generation, self.process.ws_url

    def wait_for_restart(self, seen: int, timeout: float) -> None:
        """Wait until a server newer than generation seen is up, or timeout seconds pass."""
        with self.changed:
            self.changed.wait_for(lambda: self.generation > seen, timeout)

    def kill_and_restart(self) -> None:
        """SIGKILL the server (no shutdown, no flush beyond what was committed), then start another."""
        self.process.kill()
        started = time.monotonic()
        fresh = self._start()
        self.restarts.append(time.monotonic() - started)
        with self.changed:
            self.process, self.generation = fresh, self.generation + 1
            self.changed.notify_all()

    def stop(self) -> None:
        self.process.stop()


@dataclass
class Client:
    """One user sending steadily, resuming its timeline by short polls, and reading now and then."""

    name: str
    uid: int
    token: str
    servers: Servers
    rng: random.Random
    others: list[int] = field(default_factory=list)
    acknowledged: dict[str, dict] = field(default_factory=dict)  # client_msg_id -> message
    held: list[tuple[int, int]] = field(default_factory=list)  # (seq, mid) in the order received
    problems: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def call(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        """Call the live server; on a dead connection, wait for the restart and try again (same request)."""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            generation, http = self.servers.current()
            try:
                status, data, _ = http.call(method, path, body, self.token, timeout=15)
            except (OSError, HTTPException):  # refused, reset, cut mid-answer: the server died
                self.counts["connection lost"] += 1
                self.servers.wait_for_restart(generation, timeout=2)
                continue
            if status == 503:  # busy: the answer says to try again
                self.counts["503"] += 1
                self.servers.wait_for_restart(generation, timeout=0.2)
                continue
            return status, data
        raise AssertionError(f"{self.name}: {method} {path} got no answer for 90 s")

    def send(self, k: int) -> None:
        client_msg_id, to = f"{self.name}-{k}", self.rng.choice(self.others)
        content = f"{self.name} #{k} to {to}"
        attempts = self.counts["connection lost"]
        status, data = self.call("POST", "/api/messages", {"to": to, "content": content,
                                                           "client_msg_id": client_msg_id})
        if status not in (200, 201) or data["message"]["content"] != content:
            self.problems.append(f"send {client_msg_id}: {status} {data}")
            return
        self.acknowledged[client_msg_id] = data["message"]
        if status == 200:  # stored before a crash, its answer lost: the retry found it, stored nothing
            self.counts["retry found it stored"] += 1
        elif self.counts["connection lost"] > attempts:
            self.counts["retry stored it"] += 1

    def catch_up(self, timeout: float = 0) -> None:
        """Resume from the last seq held; every event must be the next seq (no gap, no repeat)."""
        while True:
            since = self.held[-1][0] if self.held else 0
            status, page = self.call("GET", f"/api/sync?since={since}&timeout={timeout}&limit=50")
            if status != 200:
                self.problems.append(f"sync since {since}: {status} {page}")
                return
            for event in (e for e in page["events"] if e["type"] == "message"):
                if event["seq"] != len(self.held) + 1:
                    self.problems.append(f"sync since {since}: got seq {event['seq']}, expected {len(self.held) + 1}")
                self.held.append((event["seq"], event["message"]["mid"]))
            if not page["has_more"]:
                return

    def read_some(self) -> None:
        other = self.rng.choice(self.others)
        status, data = self.call("POST", f"/api/conversations/{other}/read", {})
        if status != 200:
            self.problems.append(f"read {other}: {status} {data}")

    def run(self) -> None:
        try:
            for k in range(PER_CLIENT):
                self.send(k)
                if k % 5 == 4:
                    self.catch_up(timeout=0.2 if self.name.endswith("0") else 0)  # one of them long-polls
                if k % 7 == 6:
                    self.read_some()
        except Exception as e:  # reported by the main thread
            self.problems.append(f"{type(e).__name__}: {e}")


@dataclass
class SocketClient(Client):
    """The same user over a WebSocket: send frames, every event acknowledged and held once in seq order;
    after a crash it reconnects from its last seq and sends again, with the same client_msg_id, what had
    no "sent" answer."""

    ws: WsClient | None = None

    def connect(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            generation, url = self.servers.current_ws_url()
            try:
                self.ws = WsClient(url, timeout=15)
                self.ws.hello(self.token, since=self.held[-1][0] if self.held else 0)
                return
            except (OSError, websocket.WebSocketException, AssertionError):
                self.servers.wait_for_restart(generation, timeout=2)
        raise AssertionError(f"{self.name}: could not reconnect for 90 s")

    def take(self, frame: dict) -> None:
        """Hold a message event once (a replayed or retransmitted seq is dropped), acknowledge it."""
        if frame.get("type") == "message":
            seq = frame["seq"]
            if seq > len(self.held) + 1:
                self.problems.append(f"gap: seq {seq} after {len(self.held)}")
            if seq > len(self.held):
                self.held.append((seq, frame["message"]["mid"]))
            else:
                self.counts["repeats dropped"] += 1
            self.ws.send({"type": "ack", "seq": seq})
        elif frame.get("type") == "sent":
            self.acknowledged[frame["client_msg_id"]] = frame["message"]
        elif frame.get("type") == "error" and frame["code"] != "unavailable":
            self.problems.append(f"error frame {frame}")

    def send(self, k: int) -> None:
        client_msg_id, to = f"{self.name}-{k}", self.rng.choice(self.others)
        frame = {"type": "send", "to": to, "content": f"{self.name} #{k} to {to}", "client_msg_id": client_msg_id}
        while client_msg_id not in self.acknowledged:
            try:
                self.ws.send(frame)
                while client_msg_id not in self.acknowledged:
                    answer = self.ws.recv(timeout=15)
                    if answer is None or (answer.get("type") == "error" and answer["code"] == "unavailable"):
                        break  # closed, or busy: send it again
                    self.take(answer)
                if answer is None:
                    raise ConnectionError(f"closed with {self.ws.close_code}")
            except (OSError, websocket.WebSocketException):
                self.counts["connection lost"] += 1
                self.counts["sends repeated"] += 1
                hang_up(self.ws)
                self.connect()

    def run(self) -> None:
        try:
            self.connect()
            for k in range(PER_CLIENT):
                self.send(k)
        except Exception as e:  # reported by the main thread
            self.problems.append(f"{type(e).__name__}: {e}")
        finally:
            if self.ws is not None:
                hang_up(self.ws)


def _database(path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


@pytest.mark.parametrize("transport", ["http", "websocket"])
def test_killed_three_times_mid_traffic_nothing_acknowledged_is_lost_or_doubled(tmp_path, transport):
    seed = int(os.environ.get("IMDEMO_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    print(f"\ncrash test over {transport}: seed {seed} (IMDEMO_CRASH_SEED={seed} repeats the schedule)")
    db_path = tmp_path / "crash.db"
    servers = Servers(("--database", f"sqlite:///{db_path}", "--no-demo", "--send-rate", "0",
                       "--register-rate", "0"))
    try:
        clients = _register(servers, rng, Client if transport == "http" else SocketClient)
        threads = [threading.Thread(target=c.run, name=c.name) for c in clients]
        for t in threads:
            t.start()
        kills = []
        for n in range(KILLS):
            target = sum(len(c.acknowledged) for c in clients) + rng.randint(20, 45)
            wait_for(lambda target=target: sum(len(c.acknowledged) for c in clients) >= target, timeout=60,
                     interval=0.005, message=f"{target} acknowledged messages before kill {n + 1}")
            time.sleep(rng.uniform(0, 0.03))  # the fault's moment, drawn from the seed: mid-request, likely
            kills.append(sum(len(c.acknowledged) for c in clients))
            servers.kill_and_restart()
        for t in threads:
            t.join(timeout=180)
        assert not any(t.is_alive() for t in threads)
        for c in clients:
            c.catch_up()
        _report(transport, clients, servers, kills)
        assert [p for c in clients for p in c.problems] == []
        _check_every_acknowledged_message_exists_once(db_path, clients)
        _check_every_timeline_is_held_once_in_seq_order(db_path, clients)
        _check_unread_equals_the_database(db_path, clients)
    finally:
        servers.stop()


def _register(servers: Servers, rng: random.Random, kind: type[Client]) -> list[Client]:
    _, http = servers.current()
    clients = []
    for i in range(CLIENTS):
        http.ok("POST", "/api/register", {"username": f"crash{i}", "password": "pw1234"})
        uid, token = http.login(f"crash{i}")
        clients.append(kind(f"crash{i}", uid, token, servers, random.Random(rng.random())))
    for c in clients:
        c.others = [o.uid for o in clients if o is not c]
    return clients


def _report(transport: str, clients: list[Client], servers: Servers, kills: list[int]) -> None:
    counts = sum((c.counts for c in clients), Counter())
    print(f"crash test over {transport}: {CLIENTS} clients x {PER_CLIENT} messages; SIGKILL after {kills} "
          f"acknowledged; restarts took {[round(s, 2) for s in servers.restarts]} s; {dict(counts)}")


def _check_every_acknowledged_message_exists_once(db_path, clients: list[Client]) -> None:
    with _database(db_path) as db:
        stored = db.execute("SELECT sender_id, client_msg_id, mid, content, COUNT(*) FROM im_msg_content"
                            " GROUP BY sender_id, client_msg_id").fetchall()
    by_key = {(sender, cid): (mid, content, n) for sender, cid, mid, content, n in stored}
    assert len(stored) == sum(len(c.acknowledged) for c in clients) == CLIENTS * PER_CLIENT
    for c in clients:
        for cid, message in c.acknowledged.items():
            assert by_key[(c.uid, cid)] == (message["mid"], message["content"], 1), cid


def _check_every_timeline_is_held_once_in_seq_order(db_path, clients: list[Client]) -> None:
    with _database(db_path) as db:
        for c in clients:
            rows = db.execute("SELECT seq, mid FROM im_msg_relation WHERE owner_uid = ? ORDER BY seq",
                              (c.uid,)).fetchall()
            (last_seq,) = db.execute("SELECT seq FROM im_user WHERE uid = ?", (c.uid,)).fetchone()
            assert [seq for seq, _ in rows] == list(range(1, last_seq + 1)), c.name  # gapless
            assert c.held == [tuple(r) for r in rows], c.name


def _check_unread_equals_the_database(db_path, clients: list[Client]) -> None:
    with _database(db_path) as db:
        for c in clients:
            expected = {str(other): n for other, n in db.execute(UNREAD_OF, (c.uid,)).fetchall() if n}
            status, unread = c.call("GET", "/api/unread")
            assert status == 200
            assert unread == {"total": sum(expected.values()), "conversations": expected, "groups": {}}, c.name
            status, contacts = c.call("GET", "/api/contacts")
            assert {str(x["user"]["uid"]): x["unread"] for x in contacts["contacts"] if x["unread"]} == expected


# --- a WebSocket client that stops reading ---

def test_a_client_that_stops_reading_holds_at_most_a_window_and_slows_nobody_else(make_server):
    app, http = make_server(ack_timeout=60.0, heartbeat=60.0)  # the stalled client is not closed meanwhile
    for name in ("alice", "bob", "carol"):
        http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
    (alice, _), (bob, bob_token), (carol, carol_token) = (http.login(n) for n in ("alice", "bob", "carol"))
    url, gateway, send = f"ws://127.0.0.1:{app.config.websocket_port}/", app.servers.ws, app.services.messages
    stalled = websocket.create_connection(url, timeout=10, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    stalled.send(json.dumps({"type": "hello", "token": bob_token, "since": 0}))  # and then it never reads again
    carol_ws = WsClient(url)
    carol_ws.hello(carol_token)
    arrived: dict[int, float] = {}
    reader = threading.Thread(target=_read_and_ack, args=(carol_ws, arrived), daemon=True)
    reader.start()
    flood, delays, worst = 1500, [], {"pending": 0, "buffer": 0}
    try:
        for i in range(flood):
            send.send_message(alice, bob, f"flood {i} " + "x" * 900)  # near the 1000-character limit
            if i % 100 == 99:  # carol's messages must arrive promptly while bob's pile up
                mid = send.send_message(alice, carol, f"to carol {i}")[0]["mid"]
                sent_at = time.monotonic()
                wait_for(lambda mid=mid: mid in arrived, timeout=5, interval=0.002, message=f"carol's message {i}")
                delays.append(arrived[mid] - sent_at)
                _sample(gateway, bob, worst)
        print(f"\nstalled reader: {flood} messages to bob, carol's delays max {max(delays) * 1000:.0f} ms, "
              f"bob's connection held at most {worst['pending']} unacknowledged events and "
              f"{worst['buffer']} bytes of write buffer")
        assert worst["pending"] <= WINDOW and gateway.pending_count() <= WINDOW + 1  # + carol's newest at most
        assert worst["buffer"] < 2**20
        _drain(stalled, flood)  # bob reads again: every message, once, in seq order, from the database
    finally:
        hang_up(carol_ws)
        stalled.close()
        stalled.shutdown()


def _read_and_ack(client: WsClient, arrived: dict) -> None:
    try:
        while (frame := client.recv(timeout=30)) is not None:
            if frame.get("type") == "message":
                arrived[frame["message"]["mid"]] = time.monotonic()
                client.send({"type": "ack", "seq": frame["seq"]})
    except (OSError, websocket.WebSocketException):
        pass  # closed at the end of the test


def _sample(gateway, uid: int, worst: dict) -> None:
    """Record the stalled connection's pending events and its socket's unsent bytes, read from the loop's
    objects (a racy read of two sizes, enough for a bound)."""
    for session in [s for s in list(gateway.sessions) if s.uid == uid]:
        worst["pending"] = max(worst["pending"], len(session.pending))
        transport = session.websocket.transport
        if transport is not None:
            worst["buffer"] = max(worst["buffer"], transport.get_write_buffer_size())


def _drain(ws: websocket.WebSocket, expected: int) -> None:
    ws.settimeout(30)
    seqs = []
    while len(seqs) < expected:
        frame = json.loads(ws.recv())
        if frame.get("type") == "message":
            if not seqs or frame["seq"] > seqs[-1]:  # a retransmission of a held seq is dropped, as clients do
                seqs.append(frame["seq"])
            ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
    assert seqs == list(range(1, expected + 1))


# --- long polls whose clients vanished ---

def test_long_polls_whose_clients_vanished_leave_no_listener_after_their_timeout(server):
    app, http = server
    http.ok("POST", "/api/register", {"username": "alice", "password": "pw1234"})
    _, token = http.login("alice")
    request = (f"GET /api/sync?since=0&timeout=1.5 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
               "\r\n").encode()
    vanished = []
    for _ in range(30):
        s = socket.create_connection(("127.0.0.1", app.config.port))
        s.sendall(request)
        vanished.append(s)
    wait_for(lambda: app.notifier.listener_count() == 30, message="every long poll to be waiting")
    for s in vanished:  # gone without reading the answer, as a closed laptop lid
        s.close()
    started = time.monotonic()
    wait_for(lambda: app.notifier.listener_count() == 0, timeout=10, message="the vanished polls' listeners to go")
    print(f"\nvanished long polls: 30 listeners gone {time.monotonic() - started:.1f} s after the clients left")
    assert http.ok("GET", "/api/sync?since=0&timeout=0", token=token)["events"] == []
    assert http.ok("GET", "/healthz")["status"] == "ok"


# --- a crash between the unread script and the commit, with a Redis that outlives the process ---

@pytest.fixture
def real_redis(make_config):
    """A Config factory on a real Redis, which keeps its counters when the process dies (the embedded store
    dies with it and is rebuilt from the database at every start, so it cannot drift this way)."""
    if not REAL_REDIS:
        if os.environ.get("IMDEMO_REQUIRE_REAL_BACKEND") == "1":
            pytest.fail("IMDEMO_TEST_REDIS_URL is required here")
        pytest.skip("needs a real Redis: set IMDEMO_TEST_REDIS_URL")
    return make_config


class Died(BaseException):
    """The process ending at this very line: no handler of the app catches it, the transaction rolls back."""


@pytest.mark.real_backend
@pytest.mark.parametrize("action", ["send", "read"])
def test_a_crash_between_the_unread_script_and_the_commit_leaves_no_drift_after_restart(real_redis, action):
    """The unread Lua script is the send's (and the read's) last step inside the transaction; if the process
    dies right after it, the database rolls back but Redis keeps the change. After a restart on the same
    database and Redis, the counters must equal the database again (SPEC invariant 3)."""
    app = create_app(real_redis())
    chat = Chat(webtest.TestApp(app.wsgi))
    alice, bob = chat.register("alice"), chat.register("bob")
    for text in ("one", "two"):
        chat.send(alice, bob.uid, text)
    counters = app.services.messages.messages.counters
    script = counters.on_messages if action == "send" else counters.set_conversation

    def then_die(*args):
        script(*args)
        raise Died
    setattr(counters, script.__name__, then_die)
    with pytest.raises(Died):
        if action == "send":
            app.services.messages.send_message(alice.uid, bob.uid, "never committed")
        else:
            app.services.contacts.mark_read(bob.uid, alice.uid)
    app.close()
    again = create_app(real_redis())  # the restart: same database, same Redis
    try:
        chat = Chat(webtest.TestApp(again.wsgi))
        assert len(chat.get(bob, f"/api/conversations/{alice.uid}/messages")["messages"]) == 2
        assert chat.get(bob, "/api/unread") == {"total": 2, "conversations": {str(alice.uid): 2}, "groups": {}}
    finally:
        again.close()
