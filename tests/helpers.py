"""Test helpers: an HTTP client for a real server, free ports, and waiting on conditions with deadlines."""
from __future__ import annotations

import json
import random
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

_GIVEN: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, not handed out before in this run, and below the kernel's ephemeral
    range: a port from bind(0) is an ephemeral one, which any outgoing connection (to Redis, PostgreSQL, a
    test server) may take as its own end before the server binds it ("Address already in use")."""
    low = _ephemeral_low()
    for _ in range(1000):
        port = random.randrange(max(1024, low - 16000), low)
        if port in _GIVEN:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    raise RuntimeError(f"no free port below {low}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):  # not Linux: its usual range starts at 49152
        return 49152


def wait_for(condition, timeout: float = 10.0, interval: float = 0.02, message: str = "condition"):
    """Return condition()'s first truthy value, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Http:
    """A tiny JSON client for a server started by a test."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body=None, token: str | None = None, timeout: float = 40):
        """Return (status, parsed JSON or None, headers)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw, status, headers = response.read(), response.status, response.headers
        except urllib.error.HTTPError as e:
            raw, status, headers = e.read(), e.code, e.headers
        return status, (json.loads(raw) if raw else None), headers

    def ok(self, method: str, path: str, body=None, token=None, timeout: float = 40):
        status, data, _ = self.call(method, path, body, token, timeout)
        assert 200 <= status < 300, (status, data)
        return data

    def login(self, username: str, password: str = "pw1234") -> tuple[int, str]:
        data = self.ok("POST", "/api/login", {"username": username, "password": password})
        return data["user"]["uid"], data["token"]


class WsClient:
    """A plain WebSocket client speaking imdemo's frames (websocket-client), for protocol tests."""

    def __init__(self, url: str, timeout: float = 10):
        import websocket

        self.ws = websocket.create_connection(url, timeout=timeout)
        self.close_code: int | None = None

    def send(self, frame) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def hello(self, token: str, since: int = 0, **extra) -> dict:
        self.send({"type": "hello", "token": token, "since": since, **extra})
        welcome = self.recv()
        assert welcome["type"] == "welcome", welcome
        return welcome

    def recv(self, timeout: float = 10):
        """Return the next JSON frame, or None once the server has closed (close_code says how)."""
        import websocket

        self.ws.settimeout(timeout)
        while True:
            opcode, data = self.ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_TEXT:
                return json.loads(data)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
                return None

    def recv_until(self, predicate, timeout: float = 10) -> list:
        """Collect frames until predicate(frame) holds; return them all, the matching one last."""
        frames, deadline = [], time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching frame within {timeout}s; got {frames}")
            frame = self.recv(left)
            if frame is None:
                raise AssertionError(f"closed with {self.close_code} before a matching frame; got {frames}")
            frames.append(frame)
            if predicate(frame):
                return frames

    def close(self) -> None:
        """Close, and shut the socket down even when the server closed first (then close() does nothing)."""
        try:
            self.ws.close()
        except OSError:
            pass
        if self.ws.sock is not None:
            try:
                self.ws.sock.shutdown(2)
            except OSError:
                pass
            self.ws.sock.close()


class LiveGroup:
    """A live server with a group of alice (its owner), bob and carol, and dave outside it: stored by write
    diffusion, or by read diffusion when large (SPEC 15)."""

    def __init__(self, make_server, large: bool = False):
        self.app, self.http = make_server(ack_timeout=1.0, heartbeat=5.0)
        self.url = f"ws://127.0.0.1:{self.app.config.websocket_port}/"
        self.clients: list[WsClient] = []
        self.users = {}
        for name in ("alice", "bob", "carol", "dave"):
            self.http.ok("POST", "/api/register", {"username": name, "password": "pw1234"})
            self.users[name] = self.http.login(name)
        body = {"name": "big" if large else "live", "members": [self.uid("bob"), self.uid("carol")], "large": large}
        self.gid = self.http.ok("POST", "/api/groups", body, token=self.token("alice"))["group"]["gid"]

    def uid(self, name: str) -> int:
        return self.users[name][0]

    def token(self, name: str) -> str:
        return self.users[name][1]

    def cursors(self, name: str) -> tuple[int, dict]:
        """The user's newest seq and each of their large groups' newest gseq."""
        answer = self.http.ok("GET", "/api/sync?since=0&limit=1000", token=self.token(name))
        return answer["next"], answer["groups_next"]

    def seq(self, name: str) -> int:
        return self.cursors(name)[0]

    def connect(self, name: str, since: int | None = None, groups: dict | None = None) -> WsClient:
        """A WebSocket of name's, from their newest cursors unless told others (closed after the test)."""
        newest_seq, newest = self.cursors(name)
        client = WsClient(self.url)
        since, groups = newest_seq if since is None else since, newest if groups is None else groups
        client.hello(self.token(name), since, groups=groups)
        self.clients.append(client)
        return client

    def send(self, name: str, content: str, **extra) -> dict:
        return self.http.ok("POST", f"/api/groups/{self.gid}/messages", {"content": content, **extra},
                            token=self.token(name))["message"]

    def close(self) -> None:
        for client in self.clients:
            client.close()
