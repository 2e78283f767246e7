"""Run imdemo: read flags and environment, build the app, serve it until Ctrl-C."""
from __future__ import annotations

import ctypes
import ipaddress
import logging
import os
import signal
import sys
import threading

from imdemo.api.serve import CannotListen, Servers
from imdemo.app import create_app
from imdemo.config import Config
from imdemo.services.demo import DEMO_PASSWORD, DEMO_USERS

# What to do when a port is taken (by an imdemo still running, or anything else): the flag that picks another
ANOTHER_PORT = {"port": "Pick another HTTP port with --port N (the WebSocket then takes N + 1), or stop what uses it.",
                "ws_port": "Pick another WebSocket port with --ws-port N, or stop what uses it."}
M_MMAP_THRESHOLD = -3  # mallopt(3): blocks above this size are mmapped, and unmapped when freed


def main(argv: list[str]) -> int:
    _return_freed_memory()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)  # not a line per connection
    config = Config.from_args(argv, os.environ)
    pinned = _run_on_one_cpu(config.cpu)  # first: every thread started after this one inherits it
    try:
        app = create_app(config)
    except Exception as e:  # a missing driver or an unreachable server: one clear line, no traceback
        print(f"imdemo: cannot start: {e}", file=sys.stderr)
        return 2
    if config.reconcile:
        print(f"imdemo: rebuilt the unread counters of {app.services.reconciler.reconcile()} users")
        app.close()
        return 0
    try:
        servers = Servers(app)
    except CannotListen as e:
        print(f"imdemo: {e}. {ANOTHER_PORT[e.setting]}", file=sys.stderr)
        app.close()
        return 2
    _announce(config, pinned)
    if not is_loopback(config.host) and app.services.auth.demo_password_works():
        print(f"imdemo: WARNING: listening on {config.host} while the demo accounts still have password "
              f"{DEMO_PASSWORD}: anyone who can reach this host can log in as them. Use --no-demo on a fresh "
              "database, or change their passwords.", file=sys.stderr, flush=True)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C, or a service manager; even where SIGINT was ignored
        signal.signal(number, lambda *_: stop.set())
    stop.wait()
    print("imdemo: stopping", flush=True)
    servers.stop()
    app.close()
    return 0


def _run_on_one_cpu(cpu: str) -> int | None:
    """Keep this process on one CPU (config.py, cpu: why); return it, or None when it runs on any. The threads
    made after this call inherit it, and every thread of the server is made after it."""
    if cpu == "all" or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    try:
        chosen = allowed[os.getpid() % len(allowed)] if cpu == "auto" else int(cpu)
        os.sched_setaffinity(0, {chosen})
    except (OSError, ValueError) as e:
        print(f"imdemo: cannot run on CPU {cpu}: {e}; running on any of {allowed}", file=sys.stderr)
        return None
    return chosen


def _return_freed_memory() -> None:
    """Let glibc give large freed blocks back to the system. Each password hash (scrypt) takes 16 MiB in
    whichever of the server's threads runs it; glibc's default keeps that in the thread's arena, so RSS
    grew by ~12 MB a login (40 logins: 68 -> 545 MB) and never came down."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1 << 20)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


def is_loopback(host: str) -> bool:
    """Tell whether host is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _announce(config: Config, cpu: int | None) -> None:
    where = f", on CPU {cpu}" if cpu is not None else ""
    print(f"imdemo: serving http://{config.host}:{config.port}/ (WebSocket on port {config.websocket_port}{where})",
          flush=True)
    if config.lab:
        print(f"imdemo: lab timers: heartbeat {config.heartbeat:g} s, ACK timeout {config.ack_timeout:g} s, "
              f"{config.ack_retries} retries", flush=True)
    if config.demo:
        accounts = ", ".join(f"{name} ({uid})" for uid, name, _ in DEMO_USERS)
        print(f"imdemo: demo accounts {accounts}, password {DEMO_PASSWORD}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
