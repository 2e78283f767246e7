"""Bench helpers: start imdemo as users run it (a subprocess), wait for it, read its /proc figures, stats."""
from __future__ import annotations

import http.client
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "run.py"
TRACED = ROOT / "bench" / "serve_traced.py"
READY_TIMEOUT = 120.0  # a server on a million messages rebuilds its counters before it answers


@dataclass
class Context:
    """One bench run: its options, a temp folder, and progress output."""

    quick: bool
    database: str | None  # a real server's URL; None means a temp SQLite file per server
    redis: str | None  # a real Redis URL; None means the embedded store
    tmp: Path
    tag: str  # makes usernames and key prefixes unique on a shared real server
    server_args: tuple[str, ...] = ()  # more run.py flags for every server (e.g. --no-inspect)
    baseline: str | None = None  # a revision whose 1:1 send the groups figure measures beside this tree's
    started: float = field(default_factory=time.monotonic)
    servers: int = 0

    def say(self, text: str) -> None:
        """Print one progress line with the time since the bench started."""
        print(f"  [{time.monotonic() - self.started:6.1f}s] {text}", flush=True)

    def scale(self, full, quick):
        """Return the full-run value, or the quick one under --quick."""
        return quick if self.quick else full

    @property
    def embedded_sqlite(self) -> bool:
        return self.database is None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python run.py --port P --ws-port Q --database URL --no-demo --send-rate 0 --register-rate 0`, started
    and stopped (the load tools register hundreds of users from one address).

    database, redis: this server's own, instead of the run's; run: another checkout's run.py (a baseline) or a
    wrapper of it (serve_timed.py), run_args its arguments before run.py's flags; register_limit: False for
    a checkout older than --register-rate (it has no such limit, and no such flag); flags: more run.py flags
    for this server alone (e.g. --unread-merge 100).
    """

    def __init__(self, ctx: Context, database: str | None = None, sql_log: Path | None = None,
                 redis: str | None = None, run: Path = RUN, run_args: tuple[str, ...] = (),
                 register_limit: bool = True, flags: tuple[str, ...] = ()):
        ctx.servers += 1
        n = ctx.servers
        self.port = free_port()
        self.ws_port = free_port()
        while self.ws_port == self.port:
            self.ws_port = free_port()
        self.database = database or ctx.database or f"sqlite:///{ctx.tmp / f'server{n}.db'}"
        args = ["--port", str(self.port), "--ws-port", str(self.ws_port), "--database", self.database,
                "--no-demo", "--send-rate", "0"] + (["--register-rate", "0"] if register_limit else [])
        self.redis, self.redis_prefix = redis or ctx.redis, f"{ctx.tag}{n}:"
        if self.redis:
            args += ["--redis", self.redis, "--redis-prefix", self.redis_prefix]
        args += [*ctx.server_args, *flags]
        script = [str(TRACED), str(sql_log)] if sql_log else [str(run), *run_args]
        self.log_path = ctx.tmp / f"server{n}.log"
        self._log = open(self.log_path, "w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMDEMO_")}
        self.launched = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, *script, *args], cwd=ctx.tmp, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.ready_seconds = self._wait_ready()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait_ready(self) -> float:
        """Return the seconds from launch to the first 200 from /healthz."""
        deadline = self.launched + READY_TIMEOUT
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return time.perf_counter() - self.launched
            except OSError:
                time.sleep(0.002)
            finally:
                conn.close()
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz within {READY_TIMEOUT:.0f}s")

    def status(self) -> dict[str, int]:
        """Return VmRSS (kB) and Threads from /proc/<pid>/status."""
        figures = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "Threads"):
                    figures[key] = int(value.split()[0])
        return figures

    def cpu_seconds(self) -> float:
        """Return the CPU time (user + system) the server has used so far, from /proc/<pid>/stat."""
        return cpu_seconds(self.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the server, as a crash would: nothing is flushed, nothing is closed."""
        self.proc.kill()
        self.proc.wait(10)
        self._log.close()

    def stop(self) -> None:
        """Ctrl-C the server and wait for it; kill it if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) process pid has used so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RedisServer:
    """A private `redis-server` on a free loopback port, no persistence, started and stopped."""

    def __init__(self, ctx: Context):
        import redis  # the bench's own client, only for the figures that start a real Redis

        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log = open(ctx.tmp / f"redis{self.port}.log", "w")
        self.proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(ctx.tmp)], stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start: see {self._log.name}") from None
                time.sleep(0.02)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self._log.close()

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def percentiles(values: list[float]) -> dict:
    """Return n, p50, p90, p99 and max of values (nearest rank), rounded to 0.01."""
    if not values:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 2)
    return {"n": len(ordered), "p50": rank(50), "p90": rank(90), "p99": rank(99), "max": round(ordered[-1], 2)}


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None
