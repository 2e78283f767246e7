"""Configuration: one frozen dataclass, read from flags or the environment."""
from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# `--lab`: timers short enough that each experiment of the lab (SPEC section 12) plays out in seconds
LAB_TIMERS = {"heartbeat": 5.0, "ack_timeout": 2.0, "ack_retries": 2}


@dataclass(frozen=True)
class Config:
    """Every setting of one imdemo process; the defaults are the embedded demo."""

    host: str = "127.0.0.1"
    port: int = 8080
    ws_port: int = 0  # 0 means port + 1
    trust_proxy: bool = False  # behind nginx: take the client's address from X-Forwarded-For's last entry
    public_ws_url: str = ""  # what pages connect to behind a proxy, e.g. wss://chat.example/ws
    database: str = "sqlite:///imdemo.db"
    redis: str = ""  # empty means the in-process store
    redis_prefix: str = ""
    demo: bool = True
    heartbeat: float = 30.0
    ack_timeout: float = 5.0
    ack_retries: int = 2
    poll_interval: float = 3.0
    lab: bool = False  # the lab's short timers (LAB_TIMERS) unless flags say otherwise
    send_rate: int = 20
    max_group_members: int = 500
    # milliseconds over which a group's unread changes are merged (lecture 20); 0: counted in the send's commit.
    # 500 from the storm's figures (README, Performance): most of what merging buys, a badge at most 0.5 s late
    unread_merge: float = 500.0
    register_rate: int = 10  # new accounts per address a minute before 429 (each costs a 16 MiB scrypt); 0 = no limit
    reconcile: bool = False
    inspect: bool | None = None  # None: on for the embedded default on loopback only
    session_ttl: float = 7 * 24 * 3600.0
    session_purge_interval: float = 3600.0  # seconds between deletions of expired sessions (also done at start)
    login_attempts: int = 5  # failed logins per username per window before 429
    login_window: float = 60.0
    password_cost: int = 2**14  # scrypt N; tests lower it
    threads: int = 300
    web_root: str = field(default_factory=lambda: os.path.join(os.path.dirname(__file__), "..", "web"))

    @property
    def inspector_enabled(self) -> bool:
        """The inspector shows every user's messages: on by default only for the local embedded demo."""
        if self.inspect is not None:
            return self.inspect
        local = self.host in ("127.0.0.1", "localhost", "::1")
        return local and not self.redis and self.database.startswith("sqlite")

    @property
    def websocket_port(self) -> int:
        """Return the WebSocket port: the configured one, or the HTTP port + 1."""
        return self.ws_port or self.port + 1

    @classmethod
    def from_env(cls, environ: Mapping[str, str], **overrides) -> Config:
        """Build a Config from IMDEMO_* variables, then apply overrides."""
        values = {}
        for f in dataclasses.fields(cls):
            raw = environ.get("IMDEMO_" + f.name.upper())
            if f.name == "demo" and raw is None and "IMDEMO_NO_DEMO" in environ:  # the flag is --no-demo
                raw = str(not _parse("bool", environ["IMDEMO_NO_DEMO"]))
            if raw is None and f.name in ("database", "redis"):
                raw = environ.get(f"IMDEMO_{f.name.upper()}_URL")
            if raw is not None:
                values[f.name] = _parse(f.type, raw)
        values.update(overrides)
        if values.get("lab"):  # over the environment's timers, under the ones given explicitly
            values.update({name: value for name, value in LAB_TIMERS.items() if name not in overrides})
        return cls(**values)

    @classmethod
    def from_args(cls, argv: Sequence[str], environ: Mapping[str, str]) -> Config:
        """Build a Config from command-line flags over the environment."""
        parser = argparse.ArgumentParser(prog="python run.py", description="Run imdemo.")
        parser.add_argument("--host")
        parser.add_argument("--port", type=int)
        parser.add_argument("--ws-port", type=int)
        parser.add_argument("--trust-proxy", action="store_const", const=True,
                            help="behind a reverse proxy: the client address is X-Forwarded-For's last entry")
        parser.add_argument("--public-ws-url", metavar="URL", help="the WebSocket URL pages use behind a proxy")
        parser.add_argument("--database", metavar="URL", help="sqlite:///path or postgresql://...")
        parser.add_argument("--redis", metavar="URL", help="redis://...; absent = in-process store")
        parser.add_argument("--redis-prefix")
        parser.add_argument("--no-demo", dest="demo", action="store_const", const=False)
        parser.add_argument("--heartbeat", type=float, metavar="SECONDS")
        parser.add_argument("--ack-timeout", type=float, metavar="SECONDS")
        parser.add_argument("--ack-retries", type=int, metavar="N")
        parser.add_argument("--poll-interval", type=float, metavar="SECONDS")
        parser.add_argument("--lab", action="store_const", const=True,
                            help="short timers for the lab: heartbeat 5 s, ACK timeout 2 s, 2 retries")
        parser.add_argument("--send-rate", type=int, metavar="N", help="messages per user per second")
        parser.add_argument("--max-group-members", type=int, metavar="N", help="the most members a group may have")
        parser.add_argument("--unread-merge", type=float, metavar="MS",
                            help="merge a group's unread changes over MS milliseconds (lecture 20; default 500); "
                                 "0 = in the send's commit")
        parser.add_argument("--register-rate", type=int, metavar="N",
                            help="new accounts per address per minute (default 10; 0 = no limit)")
        parser.add_argument("--inspect", action="store_const", const=True,
                            help="serve the inspector at /inspect (default: only for the local embedded demo)")
        parser.add_argument("--no-inspect", dest="inspect", action="store_const", const=False)
        parser.add_argument("--reconcile", action="store_const", const=True,
                            help="rebuild unread counters from the database and exit")
        args = parser.parse_args(list(argv))
        given = {k: v for k, v in vars(args).items() if v is not None}
        return cls.from_env(environ, **given)


def _parse(kind, raw: str):
    """Turn an environment string into the field's type."""
    kind = str(kind)
    if kind in ("bool", "bool | None"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    return raw
