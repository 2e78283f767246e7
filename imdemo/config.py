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
    max_group_members: int = 10_000
    # a group with more members than this is stored by read diffusion (SPEC 15): a small group that grows past
    # it switches once, for good. 200, not the sender's crossover (read diffusion's message costs less from
    # 2-10 members on: bench/groups.py, README Performance), because each large group adds an SQL statement and
    # about 0.1 ms to every idle poll of each of its members and gives up "read by k of n": kept for the big
    # groups, which a user is in few of (write diffusion costs 18 ms a message at 200 against 1.6)
    large_group_at: int = 200
    # milliseconds over which a group's unread changes are merged (lecture 20); 0: counted in the send's commit.
    # 500 from the storm's figures (README, Performance): most of what merging buys, a badge at most 0.5 s late
    unread_merge: float = 500.0
    max_upload_mb: int = 25  # the largest file a user may upload (SPEC section 16); 413 above
    recall_window: float = 120.0  # seconds after sending during which its sender may recall a message (撤回)
    register_rate: int = 10  # new accounts per address a minute before 429 (each costs a 16 MiB scrypt); 0 = no limit
    reconcile: bool = False
    # the CPU the server runs on: "auto" one of the CPUs it may use, chosen by its pid; a number; "all" any of
    # them. A CPython process runs Python on one core at a time; its threads hand a message to each other
    # several times on its way, and each hand-off between cores costs a cross-core wake-up of the GIL
    # (bench/loop.py: 2.36 against 1.44 ms of CPU a message, 432 against 671 msg/s)
    cpu: str = "auto"
    inspect: bool | None = None  # None: on for the embedded default on loopback only
    metrics: bool = True  # GET /metrics (Prometheus); off: nothing is recorded either
    probe_password: str = ""  # the loop probe's two accounts (services/probes.py); empty: there are none
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
            negative = f"IMDEMO_NO_{f.name.upper()}"  # a flag --no-x is the variable IMDEMO_NO_X
            if raw is None and f.name in ("demo", "inspect", "metrics") and negative in environ:
                raw = str(not _parse("bool", environ[negative]))
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
        args = parser().parse_args(list(argv))
        given = {k: v for k, v in vars(args).items() if v is not None}
        return cls.from_env(environ, **given)


ON, OFF = {"action": "store_const", "const": True}, {"action": "store_const", "const": False}
# Every flag of `python run.py`: (flag, argparse options, what it does, its default in words when the
# field's own value would not say it). The help adds the default and the environment variable.
FLAGS = [
    ("--host", {"metavar": "HOST"}, "the address to listen on (0.0.0.0: every interface)", None),
    ("--port", {"type": int, "metavar": "N"}, "the HTTP port: pages and API", None),
    ("--ws-port", {"type": int, "metavar": "N"}, "the WebSocket port", "port + 1"),
    ("--trust-proxy", ON, "behind a reverse proxy: the client address is X-Forwarded-For's last entry", None),
    ("--public-ws-url", {"metavar": "URL"}, "the WebSocket URL pages use behind a proxy (a bare path: on the "
                                            "page's own host)", "the WebSocket port on the page's host"),
    ("--database", {"metavar": "URL"}, "sqlite:///path or postgresql://user:password@host/name", None),
    ("--redis", {"metavar": "URL"}, "redis://host:port/db", "the in-process store"),
    ("--redis-prefix", {"metavar": "PREFIX"}, "put PREFIX before every Redis key (several apps on one Redis)",
     "none"),
    ("--no-demo", {"dest": "demo", **OFF}, "do not seed the demo accounts and messages into an empty database",
     "seed them"),
    ("--heartbeat", {"type": float, "metavar": "SECONDS"},
     "how often a WebSocket client pings; a connection silent for 3 heartbeats is closed", None),
    ("--ack-timeout", {"type": float, "metavar": "SECONDS"},
     "push a message again when its ACK has not come within SECONDS", None),
    ("--ack-retries", {"type": int, "metavar": "N"},
     "pushes again before the server closes the connection (4408)", None),
    ("--poll-interval", {"type": float, "metavar": "SECONDS"}, "how often the pages' short polling asks", None),
    ("--lab", ON, "short timers for the lab: heartbeat 5 s, ACK timeout 2 s, 2 retries (flags given with it "
                  "still win)", None),
    ("--send-rate", {"type": int, "metavar": "N"}, "messages a user may send per second, then 429; 0 = no limit",
     None),
    ("--max-group-members", {"type": int, "metavar": "N"}, "the most members a group may have", None),
    ("--large-group-at", {"type": int, "metavar": "N"}, "a group with more members is stored by read diffusion "
                                                        "(one row a message, lecture 20's 万人群); a small one "
                                                        "that grows past it switches once. Read diffusion is "
                                                        "cheaper to send from a few members on, but each large "
                                                        "group costs every member's idle poll an SQL statement "
                                                        "and has no read receipts: the default keeps it for "
                                                        "big groups", None),
    ("--unread-merge", {"type": float, "metavar": "MS"},
     "merge a group's unread changes over MS milliseconds (lecture 20); 0 = in the send's commit", None),
    ("--max-upload-mb", {"type": int, "metavar": "N"}, "the largest file a user may upload, in MiB; 413 above",
     None),
    ("--recall-window", {"type": float, "metavar": "SECONDS"},
     "how long after sending its sender may recall a message (a group's owner: any time)", None),
    ("--register-rate", {"type": int, "metavar": "N"},
     "new accounts per client address per minute, then 429; 0 = no limit", None),
    ("--inspect", ON, "serve the inspector at /inspect (it shows every user's messages)",
     "on only for the local embedded demo"),
    ("--no-inspect", {"dest": "inspect", **OFF}, "never serve the inspector", "on only for the local embedded demo"),
    ("--no-metrics", {"dest": "metrics", **OFF}, "neither record nor serve the Prometheus metrics at /metrics",
     "served"),
    ("--probe-password", {"metavar": "PASSWORD"}, "the password of the loop probe's two accounts (python -m "
                                                  "imdemo.probe), made at start if missing", "no probe accounts"),
    ("--reconcile", ON, "rebuild the unread counters from the database and exit", None),
    ("--cpu", {"metavar": "N|auto|all"}, "the CPU the server runs on: N, auto (one of those it may use, by its "
                                         "pid: several processes spread), or all (any, as the system likes)", None),
]


def parser() -> argparse.ArgumentParser:
    """The flags of `python run.py`, each with what it does, its default and its environment variable."""
    defaults = {f.name: f.default for f in dataclasses.fields(Config)}
    result = argparse.ArgumentParser(prog="python run.py", description="Run imdemo: the web server, the "
                                     "WebSocket server, the database and the store, in one process.")
    for flag, options, what, default in FLAGS:
        dest = options.get("dest", flag[2:].replace("-", "_"))
        default = default or _in_words(defaults[dest])
        result.add_argument(flag, **options, help=f"{what}. Default: {default}. Environment: {variable(flag, options)}"
                            .replace("%", "%%"))
    return result


def variable(flag: str, options: dict) -> str:
    """The environment variable of a flag: its name in capitals (--ack-timeout: IMDEMO_ACK_TIMEOUT), with
    the value that stands for an on-off flag (IMDEMO_NO_DEMO=1)."""
    name = "IMDEMO_" + flag[2:].upper().replace("-", "_") + ("_URL" if flag in ("--database", "--redis") else "")
    return name + ("=1" if options.get("action") == "store_const" else "")


def _in_words(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


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
