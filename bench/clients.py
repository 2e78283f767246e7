"""Bench clients: a keep-alive HTTP JSON client, accounts, and an asyncio WebSocket client of imdemo's frames."""
from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

PASSWORD = "bench-pass"


class Http:
    """One keep-alive HTTP/1.1 connection speaking JSON; reconnects once if the server closed it."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 60):
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        """Return (status, parsed JSON body or None)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, data, headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()  # an idle keep-alive connection the server closed: open a new one
                if attempt == 2:
                    raise
        return response.status, (json.loads(raw) if raw else None)

    def ok(self, method: str, path: str, body=None) -> dict:
        status, data = self.call(method, path, body)
        if not 200 <= status < 300:
            raise RuntimeError(f"{method} {path}: {status} {data}")
        return data

    def close(self) -> None:
        self.conn.close()


def account(port: int, username: str) -> tuple[int, str]:
    """Register username (unless it exists) and log in; return (uid, token)."""
    http = Http(port)
    try:
        status, data = http.call("POST", "/api/register", {"username": username, "password": PASSWORD})
        if status not in (201, 409):
            raise RuntimeError(f"register {username}: {status} {data}")
        data = http.ok("POST", "/api/login", {"username": username, "password": PASSWORD})
        return data["user"]["uid"], data["token"]
    finally:
        http.close()


def register(port: int, names: list[str]) -> list[int]:
    """Register every name that does not exist yet, without logging in (a member who only needs to exist);
    return their uids in order. Two at a time: each costs the server a scrypt hash."""
    def one(name: str) -> int:
        http = Http(port)
        try:
            status, data = http.call("POST", "/api/register", {"username": name, "password": PASSWORD})
            if status == 201:
                return data["user"]["uid"]
            if status == 409:  # taken on a shared server: logging in tells its uid
                return http.ok("POST", "/api/login", {"username": name, "password": PASSWORD})["user"]["uid"]
            raise RuntimeError(f"register {name}: {status} {data}")
        finally:
            http.close()
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(one, names))


def accounts(port: int, names: list[str]) -> list[tuple[int, str]]:
    """Register and log in every name (two at a time: each costs the server two scrypt hashes)."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda name: account(port, name), names))


def catch_up(port: int, token: str) -> int:
    """Return the newest seq of the token's timeline (short polls until nothing more is waiting)."""
    http, since = Http(port, token), 0
    try:
        while True:
            page = http.ok("GET", f"/api/sync?since={since}&timeout=0&limit=1000")
            since = page["next"]
            if not page["has_more"]:
                return since
    finally:
        http.close()


def stamp() -> str:
    """Message content that carries its send time, so any process can compute the delivery latency."""
    return f"t={time.time():.6f}"


def latency_ms(message: dict) -> float | None:
    content = message.get("content", "")
    return (time.time() - float(content[2:])) * 1000 if content.startswith("t=") else None


async def ws_open(ws_port: int, token: str, since: int = 0, open_timeout: float = 60, batch: bool = False,
                  groups: dict | None = None):
    """Connect, say hello (batch: ask for several events in one frame, as the page does; groups: the gseq held of
    each large group, {gid: gseq}), wait for welcome; return the connection (websockets asyncio client)."""
    from websockets.asyncio.client import connect

    ws = await connect(f"ws://127.0.0.1:{ws_port}/", compression=None, ping_interval=None,
                       open_timeout=open_timeout, close_timeout=1, max_queue=None)
    hello = {"type": "hello", "token": token, "since": since, **({"groups": groups} if groups else {})}
    await ws.send(json.dumps({**hello, "batch": True} if batch else hello))
    welcome = json.loads(await ws.recv())
    if welcome.get("type") != "welcome":
        raise RuntimeError(f"expected welcome, got {welcome}")
    return ws


async def ws_frames(ws, on_message=None):
    """Yield frames other than message events; ack every message event at once: by its seq, or a large group's
    (read diffusion, no seq) by its group and gseq. (The page waits up to 100 ms with a large group's ACK; here
    each message's ACK stays part of its cost, as it is for write diffusion, so the two compare.)"""
    async for raw in ws:
        frame = json.loads(raw)
        if frame.get("type") == "message":
            if on_message is not None:
                on_message(frame)
            ack = {"seq": frame["seq"]} if "seq" in frame else {"group": frame["group"], "gseq": frame["gseq"]}
            await ws.send(json.dumps({"type": "ack", **ack}))
            continue
        yield frame
