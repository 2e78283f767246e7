"""Run imdemo (run.main) with the CPU time of the parts of a send added up, for bench/profile.py --timed.

    python bench/serve_timed.py OUT_PATH [run.py flags...]

Each part is a function wrapped to add the calling thread's CPU time (time.thread_time: what the thread
ran, C code without the GIL included, waiting excluded) and its calls to a total, kept under the parts it
ran inside ("send/sql" is the SQL of a send, "sql" SQL run outside any send). SIGUSR1 writes the totals to
OUT_PATH as JSON; the caller reads them before and after a window and takes the difference.
"""
from __future__ import annotations

import functools
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOTALS: dict[str, list] = {}  # "outer/inner" part -> [calls, cpu seconds]
_lock = threading.Lock()
_local = threading.local()  # this thread's parts being timed, outermost first


def timed(part: str, function, label=None):
    """Wrap function so that its calls add their thread CPU time to TOTALS under the parts it runs inside
    ("send/sql: INSERT im_msg_relation": SQL run by a send); label(args) names the call (default: part). A
    part already open on this thread (a nested call) is not timed again."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        stack = _local.__dict__.setdefault("stack", [])
        if part in (p for p, _ in stack):
            return function(*args, **kwargs)
        stack.append((part, label(args) if label else part))
        key, started = "/".join(name for _, name in stack), time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent = time.thread_time() - started
            stack.pop()
            with _lock:
                calls_seconds = TOTALS.setdefault(key, [0, 0.0])
                calls_seconds[0] += 1
                calls_seconds[1] += spent
    return wrapper


def statement(args) -> str:
    """Name an execute_sql call by its verb and first table: "sql: INSERT im_msg_relation"."""
    words = str(args[0]).split()
    after = {"INTO", "UPDATE", "FROM"}
    table = next((w for before, w in zip(words, words[1:], strict=False) if before.upper() in after), "")
    return f"sql: {words[0].upper()} {table}".rstrip() if words else "sql"


def install() -> None:
    """Wrap the parts of a send: the SQL, the unread Lua step, the notice's JSON + PUBLISH, its dispatch."""
    import imdemo.app
    from imdemo.services.messages import MessageService
    from imdemo.store.announce import Announcer
    from imdemo.store.counters import UnreadCounters
    from imdemo.store.notices import Notifier

    for owner, name, part in [(UnreadCounters, "on_messages", "lua"), (UnreadCounters, "merge", "lua"),
                              (Notifier, "publish_many", "publish"),
                              (Announcer, "committed", "announce"), (Notifier, "_dispatch", "dispatch"),
                              (MessageService, "send", "send")]:
        setattr(owner, name, timed(part, getattr(owner, name)))
    open_database = imdemo.app.open_database

    def timed_database(*args, **kwargs):
        db = open_database(*args, **kwargs)
        # on the instance: the database's classes override them
        db.execute_sql = timed("sql", db.execute_sql, statement)
        db.execute_many = timed("sql", db.execute_many, statement)
        for name in ("begin", "commit", "rollback"):
            setattr(db, name, timed("sql", getattr(db, name), lambda _, name=name: f"sql: {name.upper()}"))
        return db
    imdemo.app.open_database = timed_database


class Timings:
    """The bench side: read a serve_timed server's totals before and after a window; report the difference."""

    def __init__(self, out: Path):
        self.out, self.first, self.before = out, {}, {}

    def read(self, pid: int) -> dict[str, list]:
        self.out.unlink(missing_ok=True)
        os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while not self.out.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server wrote no timings to {self.out}")
            time.sleep(0.01)
        return json.loads(self.out.read_text())

    def start(self, pid: int) -> None:
        self.first = self.before = self.read(pid)

    def window(self, pid: int, messages: int, whole: bool = False) -> dict[str, tuple[float, float]]:
        """{part: (CPU ms a message, calls a message)} since the last window (whole: since start())."""
        now, old = self.read(pid), self.first if whole else self.before
        self.before = now
        spent = {k: (v[0] - old.get(k, [0, 0.0])[0], v[1] - old.get(k, [0, 0.0])[1]) for k, v in now.items()}
        return {k: (seconds * 1000 / messages, n / messages) for k, (n, seconds) in spent.items() if n}

    @staticmethod
    def by_part(parts: dict[str, tuple[float, float]]) -> dict[str, float]:
        """The ms of the SQL, the Lua step, the PUBLISH and the dispatch, wherever they ran."""
        return {name: sum(ms for k, (ms, _) in parts.items() if k.split("/")[-1].startswith(name))
                for name in ("sql", "lua", "publish", "dispatch")}

    def report(self, pid: int, messages: int, cpu_ms: float) -> str:
        """Each part's CPU ms a message, inclusive and without its inner parts, and what no part covers."""
        parts = self.window(pid, messages, whole=True)
        lines = [f"-- CPU ms a message by part ({cpu_ms} ms of the whole process a message, from /proc)",
                 "  inclusive   own   calls  part"]
        for key in sorted(parts, key=lambda k: (k.split("/")[0], k)):
            inner = sum(ms for k, (ms, _) in parts.items()
                        if k.startswith(key + "/") and k.count("/") == key.count("/") + 1)
            lines.append(f"  {parts[key][0]:8.2f} {parts[key][0] - inner:7.2f} {parts[key][1]:6.1f}  {key}")
        outside = cpu_ms - sum(ms for k, (ms, _) in parts.items() if "/" not in k)
        lines.append(f"  {outside:8.2f} {outside:7.2f}         the rest: HTTP (cheroot, Bottle), sessions, "
                     "the WebSocket push and ACK, other threads")
        lines.append("-- by part: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in self.by_part(parts).items()))
        return "\n".join(lines)


def main(argv: list[str]) -> int:
    out = Path(argv[0])

    def dump(*_) -> None:
        with _lock:
            text = json.dumps(TOTALS)
        out.with_suffix(".tmp").write_text(text)
        out.with_suffix(".tmp").replace(out)  # whole, or not there yet
    signal.signal(signal.SIGUSR1, dump)
    sys.path.insert(0, str(ROOT))
    install()
    import run  # the repository's run.py

    return run.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
