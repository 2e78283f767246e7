"""The loop probe (lecture 19; Zulip's check_send_receive_time): send a message around and time it.

    python -m imdemo.probe http://host:port [--receive-url URL] [--transport websocket|long_poll]
                           [--warn 3] [--critical 6] [--password P]   (or IMDEMO_PROBE_PASSWORD)

The probe's two accounts (services/probes.py) log in, probe_a through URL and probe_b through --receive-url
(another process of a scaled-out setup; URL by default); probe_b waits on the WebSocket or a long poll from
its newest seq; probe_a sends a message; the time from the send to probe_b holding it is the figure. One
line out, and the exit status of a monitoring plugin: 0 OK, 1 WARNING (above --warn), 2 CRITICAL (above
--critical, not received by then, the server unreachable, the login refused), 3 UNKNOWN (bad usage).
It speaks only the public API, as any client does.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request

from websockets.exceptions import InvalidHandshake
from websockets.sync.client import connect

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATUS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
SENDER, RECEIVER = "probe_a", "probe_b"


class Failed(Exception):
    """The probe could not go around: CRITICAL, with this reason (status: the HTTP status, if one came)."""

    def __init__(self, reason: str, status: int = 0):
        super().__init__(reason)
        self.status = status


class Client:
    """One probe account on one imdemo process, over its public HTTP API."""

    def __init__(self, url: str, timeout: float):
        self.url, self.timeout, self.token = url.rstrip("/"), timeout, None

    def call(self, method: str, path: str, body: dict | None = None, timeout: float | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data, method=method,
                                         headers={"Content-Type": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raise Failed(f"{method} {path} at {self.url} answered {e.code}: {_error_of(e)}", e.code) from None
        except (OSError, ValueError) as e:  # refused, unreachable, timed out, a URL that is not one
            raise Failed(f"cannot reach {self.url}: {getattr(e, 'reason', e)}") from None
        return json.loads(raw) if raw else {}

    def login(self, username: str, password: str) -> int:
        try:
            answer = self.call("POST", "/api/login", {"username": username, "password": password})
        except Failed as e:
            if e.status != 401:
                raise
            raise Failed(f"cannot log in as {username} at {self.url}: wrong password (is it the server's "
                         "--probe-password?)") from None
        self.token = answer["token"]
        return answer["user"]["uid"]

    def logout(self) -> None:
        if self.token:
            try:
                self.call("POST", "/api/logout")
            except Failed:  # the figure is taken; a session left behind expires by itself
                pass


def _error_of(e: urllib.error.HTTPError) -> str:
    try:
        return json.loads(e.read())["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return e.reason


def go_around(sender: Client, receiver: Client, to: int, transport: str, limit: float) -> float:
    """Send one message from sender to receiver (uid to); return the seconds until receiver held it."""
    since = receiver.call("GET", "/api/contacts")["seq"]  # probe_b's newest seq: wait after it
    client_msg_id = f"probe-{secrets.token_hex(8)}"
    got = threading.Event()
    with contextlib.ExitStack() as closing:
        if transport == "websocket":
            ws_url = receiver.call("GET", "/api/config")["ws_url"]
            try:
                socket = closing.enter_context(connect(ws_url, open_timeout=limit, close_timeout=1))
            except (OSError, TimeoutError, InvalidHandshake) as e:
                raise Failed(f"cannot open the WebSocket {ws_url}: {e}") from None
            socket.send(json.dumps({"type": "hello", "token": receiver.token, "since": since}))
            waiting = threading.Thread(target=_watch_socket, args=(socket, client_msg_id, got), daemon=True)
        else:
            waiting = threading.Thread(target=_watch_polls, args=(receiver, since, client_msg_id, got, limit),
                                       daemon=True)
        waiting.start()
        started = time.monotonic()
        sender.call("POST", "/api/messages", {"to": to, "content": f"probe {client_msg_id}",
                                              "client_msg_id": client_msg_id})
        if not got.wait(max(0.0, limit - (time.monotonic() - started))):
            raise Failed(f"{RECEIVER} did not get the message within {limit:g} s over {transport}")
        return time.monotonic() - started


def _watch_socket(socket, client_msg_id: str, got: threading.Event) -> None:
    try:
        for raw in socket:
            for frame in (parsed if isinstance(parsed := json.loads(raw), list) else [parsed]):
                if frame.get("type") == "message":
                    socket.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
                    if frame["message"].get("client_msg_id") == client_msg_id:
                        got.set()
                        return
    except Exception:  # noqa: BLE001 - closed under it: the waiting side reports the timeout
        return


def _watch_polls(receiver: Client, since: int, client_msg_id: str, got: threading.Event, limit: float) -> None:
    deadline, hints = time.monotonic() + limit, ""
    while (left := deadline - time.monotonic()) > 0:  # a hint may answer a long poll before the message does
        try:
            answer = receiver.call("GET", f"/api/sync?since={since}&timeout={min(30.0, left):.2f}{hints}",
                                   timeout=left + 5)
        except Failed:
            return
        if any(e.get("message", {}).get("client_msg_id") == client_msg_id for e in answer["events"]):
            got.set()
            return
        since, hints = answer["next"], f"&hints_since={answer['hints_next']}"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m imdemo.probe", description=__doc__.split("\n")[0])
    parser.error = lambda message: _exit(UNKNOWN, f"bad usage: {message}")
    parser.add_argument("url", help="the imdemo process probe_a sends through, e.g. http://127.0.0.1:8080")
    parser.add_argument("--receive-url", metavar="URL", help="the process probe_b receives through (default: url)")
    parser.add_argument("--transport", choices=["websocket", "long_poll"], default="websocket")
    parser.add_argument("--warn", type=float, default=3.0, metavar="SECONDS", help="WARNING above (default 3)")
    parser.add_argument("--critical", type=float, default=6.0, metavar="SECONDS",
                        help="CRITICAL above, and how long to wait (default 6)")
    parser.add_argument("--password", default=os.environ.get("IMDEMO_PROBE_PASSWORD", ""),
                        help="the probe accounts' password: the server's --probe-password (default: "
                             "IMDEMO_PROBE_PASSWORD, which ps does not show)")
    args = parser.parse_args(argv)
    if not args.password:
        _exit(UNKNOWN, "no password: give --password or set IMDEMO_PROBE_PASSWORD (the server's --probe-password)")
    if not 0 < args.warn <= args.critical:
        _exit(UNKNOWN, "bad usage: --warn must be above 0 and at most --critical")
    return args


def _exit(status: int, text: str):
    print(f"{STATUS[status]}: {text}", flush=True)
    sys.exit(status)


def main(argv: list[str]) -> int:
    args = parse(argv)
    sender = Client(args.url, args.critical)
    receiver = Client(args.receive_url or args.url, args.critical)
    try:
        sender_uid = sender.login(SENDER, args.password)
        to = receiver.login(RECEIVER, args.password)
        seconds = go_around(sender, receiver, to, args.transport, args.critical)
        receiver.call("POST", f"/api/conversations/{sender_uid}/read", {})  # so probe_b's unread stays at 0
    except Failed as e:
        _exit(CRITICAL, str(e))
    finally:
        receiver.logout()
        sender.logout()
    status = CRITICAL if seconds > args.critical else WARNING if seconds > args.warn else OK
    route = args.url if not args.receive_url else f"{args.url} -> {args.receive_url}"
    _exit(status, f"{SENDER} -> {RECEIVER} in {seconds:.3f} s over {args.transport} ({route})"
                  f" | time={seconds:.3f}s;{args.warn:g};{args.critical:g};0")


if __name__ == "__main__":
    main(sys.argv[1:])
