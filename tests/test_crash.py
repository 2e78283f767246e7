"""Faults: the server killed (SIGKILL) mid-traffic, over HTTP or over WebSockets, and restarted on the same
database; a WebSocket client that stops reading; long polls whose clients vanished.

The crash test is SPEC invariants 1-4 under fire: every acknowledged message exists exactly once, every
client that resumes from its last seq holds each of its messages exactly once in seq order, retries with
the same client_msg_id never store twice, and the unread counters equal the database's count. Half the
messages go to a group of all the clients, while its owner keeps removing and re-adding one more member,
so the kills also land in group commits and membership changes (SPEC section 11: gseqs gapless, each
message reaching exactly the members of its moment, tests/group_checks.py).
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import re
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
from imdemo.services.conversations import direct, group

from .conftest import REAL_REDIS, Chat
from .group_checks import check_tables, counters_in_redis, peewee_query
from .helpers import Http, WsClient, wait_for
from .processes import Process
from .test_fuzz_ws import hang_up

CLIENTS = 4  # sending threads, one user each
PER_CLIENT = 60  # messages each sends
KILLS = 3


class Servers:
    """The one live `python run.py` at a time; clients follow it across restarts."""

    def __init__(self, args: tuple[str, ...], logs):
        self.args, self.logs = args, logs  # a directory: one log file per server started
        self.changed = threading.Condition()
        self.generation = 0
        self.started: list[Process] = []
        self.process = self._start()
        self.restarts: list[float] = []

    def _start(self) -> Process:
        self.started.append(Process(*self.args, env_extra={"IMDEMO_PASSWORD_COST": "16"},
                                    log_path=self.logs / f"server{len(self.started)}.log"))
        return self.started[-1].wait_ready()

    def errors(self) -> list[str]:
        """The ERROR lines every server started so far logged, each with the traceback that follows it."""
        entries = (re.split(r"\n(?=\d{4}-\d\d-\d\d )", p.log()) for p in self.started)
        return [entry for log in entries for entry in log if " ERROR " in entry]

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
    group: int = 0  # the group of all the clients: every other message goes there
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

    def target(self, k: int) -> tuple[str, int]:
        """Where message k goes: the group (odd k) or another client."""
        return ("group", self.group) if k % 2 else ("to", self.rng.choice(self.others))

    def send(self, k: int) -> None:
        client_msg_id, (kind, to) = f"{self.name}-{k}", self.target(k)
        content = f"{self.name} #{k} to {kind} {to}"
        attempts = self.counts["connection lost"]
        body = {"content": content, "client_msg_id": client_msg_id}
        path = f"/api/groups/{to}/messages" if kind == "group" else "/api/messages"
        status, data = self.call("POST", path, body if kind == "group" else {"to": to, **body})
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
        other = self.rng.choice([*self.others, -self.group])
        path = f"/api/groups/{-other}/read" if other < 0 else f"/api/conversations/{other}/read"
        status, data = self.call("POST", path, {})
        if status != 200:
            self.problems.append(f"read {path}: {status} {data}")

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
        client_msg_id, (kind, to) = f"{self.name}-{k}", self.target(k)
        frame = {"type": "send", kind: to, "content": f"{self.name} #{k} to {kind} {to}",
                 "client_msg_id": client_msg_id}
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


@dataclass
class Churner(Client):
    """The group's owner removing one more member and adding them back, again and again, while the
    others send: a kill may cut a change after its commit, so a retried removal may find them gone."""

    member: int = 0
    changes: int = 0

    def churn(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(0.02):
                status, data = self.call("DELETE", f"/api/groups/{self.group}/members/{self.member}")
                if status == 404 and data["error"]["code"] == "no_such_member":
                    self.counts["retried removal found it done"] += 1
                elif status != 204:
                    self.problems.append(f"remove: {status} {data}")
                status, data = self.call("POST", f"/api/groups/{self.group}/members", {"uids": [self.member]})
                if status != 200:
                    self.problems.append(f"add: {status} {data}")
                self.changes += 2
        except Exception as e:  # reported by the main thread
            self.problems.append(f"{type(e).__name__}: {e}")


def _database(path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)


@pytest.mark.parametrize("transport, merge", [("http", "0"), ("websocket", "0"), ("http", "5")],
                         ids=["http", "websocket", "http-merged-unread"])
def test_killed_three_times_mid_traffic_nothing_acknowledged_is_lost_or_doubled(tmp_path, transport, merge):
    """merge: --unread-merge, the window (ms) over which a group's unread changes wait; a kill loses what
    waited, and the restart's rebuild must make up for it."""
    seed = int(os.environ.get("IMDEMO_CRASH_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    transport_name, transport = transport + ("" if merge == "0" else f", unread merged over {merge} ms"), transport
    print(f"\ncrash test over {transport_name}: seed {seed} (IMDEMO_CRASH_SEED={seed} repeats the schedule)")
    db_path = tmp_path / "crash.db"
    servers = Servers(("--database", f"sqlite:///{db_path}", "--no-demo", "--send-rate", "0",
                       "--register-rate", "0", "--unread-merge", merge), tmp_path)
    try:
        clients, churner, crashx = _register(servers, rng, Client if transport == "http" else SocketClient)
        threads = [threading.Thread(target=c.run, name=c.name) for c in clients]
        stop_churning = threading.Event()
        churning = threading.Thread(target=churner.churn, args=(stop_churning,), name="churn")
        for t in [*threads, churning]:
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
        stop_churning.set()
        churning.join(timeout=120)
        assert not any(t.is_alive() for t in [*threads, churning])
        for c in clients:
            c.catch_up()
        _report(transport_name, clients, servers, kills, churner)
        assert [p for c in [*clients, churner] for p in c.problems] == [], servers.errors()
        assert servers.errors() == []
        _check_every_acknowledged_message_exists_once(db_path, clients)
        _check_every_timeline_is_held_once_in_seq_order(db_path, clients)
        _check_unread_equals_the_database(db_path, [*clients, crashx])  # as the traffic left them
        servers.kill_and_restart()  # at rest: nothing read since can hide a counter the restart got wrong
        _check_unread_equals_the_database(db_path, [*clients, crashx])  # as rebuilt from the database
    finally:
        servers.stop()


def _register(servers: Servers, rng: random.Random, kind: type[Client]) -> tuple[list[Client], Churner, Client]:
    """The clients and their group: crash0 its owner (and the churner), with crashx, who comes and goes
    (returned as a client that only asks for its unread)."""
    _, http = servers.current()
    clients = []
    for i in range(CLIENTS):
        http.ok("POST", "/api/register", {"username": f"crash{i}", "password": "pw1234"})
        uid, token = http.login(f"crash{i}")
        clients.append(kind(f"crash{i}", uid, token, servers, random.Random(rng.random())))
    http.ok("POST", "/api/register", {"username": "crashx", "password": "pw1234"})
    member, member_token = http.login("crashx")
    gid = http.ok("POST", "/api/groups", {"name": "crash", "members": [c.uid for c in clients[1:]] + [member]},
                  token=clients[0].token)["group"]["gid"]
    for c in clients:
        c.others, c.group = [o.uid for o in clients if o is not c], gid
    owner = clients[0]
    churner = Churner("churn", owner.uid, owner.token, servers, random.Random(rng.random()), group=gid, member=member)
    return clients, churner, Client("crashx", member, member_token, servers, random.Random(0))


def _report(transport: str, clients: list[Client], servers: Servers, kills: list[int], churner: Churner) -> None:
    counts = sum((c.counts for c in [*clients, churner]), Counter())
    print(f"crash test over {transport}: {CLIENTS} clients x {PER_CLIENT} messages, half of them to a group; "
          f"{churner.changes} membership changes; SIGKILL after {kills} acknowledged; restarts took "
          f"{[round(s, 2) for s in servers.restarts]} s; {dict(counts)}")


def _check_every_acknowledged_message_exists_once(db_path, clients: list[Client]) -> None:
    with _database(db_path) as db:  # the system messages of membership changes have no client_msg_id
        stored = db.execute("SELECT sender_id, client_msg_id, mid, content, COUNT(*) FROM im_msg_content"
                            " WHERE client_msg_id IS NOT NULL GROUP BY sender_id, client_msg_id").fetchall()
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
    """The tables hold every group invariant, and each client's counters equal the database's count (once
    a merge window has passed, if any)."""
    with _database(db_path) as db:
        expected = check_tables(lambda sql: db.execute(sql).fetchall())
    with contextlib.suppress(AssertionError):  # any difference left is shown below
        wait_for(lambda: all(c.call("GET", "/api/unread")[1] == expected[c.uid] for c in clients), timeout=10,
                 message="the counters to equal the database's count")
    for c in clients:
        status, unread = c.call("GET", "/api/unread")
        assert (status, unread) == (200, expected[c.uid]), c.name
        status, contacts = c.call("GET", "/api/contacts")
        listed = [("groups", x["group"]["gid"]) if "group" in x else ("conversations", x["user"]["uid"])
                  for x in contacts["contacts"]]
        assert {f"{kind} {key}": x["unread"] for (kind, key), x in zip(listed, contacts["contacts"], strict=True)
                if x["unread"]} == {f"{kind} {key}": n for kind in ("groups", "conversations")
                                    for key, n in expected[c.uid][kind].items()}, c.name


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
            send.send(alice, direct(bob), f"flood {i} " + "x" * 900)  # near the 1000-character limit
            if i % 100 == 99:  # carol's messages must arrive promptly while bob's pile up
                mid = send.send(alice, direct(carol), f"to carol {i}")[0]["mid"]
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
@pytest.mark.parametrize("action", ["send", "read", "group send", "group read", "group removal"])
def test_a_crash_between_the_unread_script_and_the_commit_leaves_no_drift_after_restart(real_redis, action):
    """The unread Lua script is the send's (and the read's, and a removal's) last step inside the
    transaction; if the process dies right after it, the database rolls back but Redis keeps the change.
    After a restart on the same database and Redis, the counters must equal the database again (SPEC
    invariant 3), a group's field of `{uid}_C` included."""
    app = create_app(real_redis())
    chat = Chat(webtest.TestApp(app.wsgi))
    alice, bob = chat.register("alice"), chat.register("bob")
    for text in ("one", "two"):
        chat.send(alice, bob.uid, text)
    gid = chat.post(alice, "/api/groups", {"name": "g", "members": [bob.uid]}, status=201)["group"]["gid"]
    for text in ("three", "four", "five"):
        chat.post(alice, f"/api/groups/{gid}/messages", {"content": text}, status=201)
    counters = app.services.messages.unread.counters
    script = counters.on_messages if action.endswith("send") else counters.set_conversation

    def then_die(*args):
        script(*args)
        raise Died
    setattr(counters, script.__name__, then_die)
    with pytest.raises(Died):
        if action == "send":
            app.services.messages.send(alice.uid, direct(bob.uid), "never committed")
        elif action == "read":
            app.services.messages.mark_read(bob.uid, direct(alice.uid))
        elif action == "group send":
            app.services.messages.send(alice.uid, group(gid), "never committed")
        elif action == "group read":
            app.services.messages.mark_read(bob.uid, group(gid))
        else:
            app.services.groups.remove(alice.uid, gid, bob.uid)
    app.close()
    again = create_app(real_redis())  # the restart: same database, same Redis
    try:
        chat = Chat(webtest.TestApp(again.wsgi))
        assert len(chat.get(bob, f"/api/conversations/{alice.uid}/messages")["messages"]) == 2
        assert len(chat.get(bob, f"/api/groups/{gid}/messages")["messages"]) == 4  # "created", then three
        expected = {"total": 5, "conversations": {str(alice.uid): 2}, "groups": {str(gid): 3}}
        assert chat.get(bob, "/api/unread") == expected == check_tables(peewee_query(again.db))[bob.uid]
        assert counters_in_redis(again.redis, again.config.redis_prefix, bob.uid) == expected
    finally:
        again.close()
