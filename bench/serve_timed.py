"""Run imdemo (run.main) with the CPU time of the parts of a send added up, for bench/profile.py --timed: the
SQL, the Lua steps, the notices, the WebSocket's frames and writes, the delivered mark, the thread hand-offs.

    python bench/serve_timed.py OUT_PATH [run.py flags...]

Each part is a function wrapped to add the calling thread's CPU time (time.thread_time: what the thread
ran, C code without the GIL included, waiting excluded) and its calls to a total, kept under the parts it
ran inside ("send/sql" is the SQL of a send, "sql" SQL run outside any send). SIGUSR1 writes the totals to
OUT_PATH as JSON, with each thread's CPU so far (its CPU clock); the caller reads them before and after a window
and takes the difference. A coroutine (a WebSocket frame handled, a write) is timed step by step: what it runs
between two awaits, not the waits, when the loop runs other tasks.
"""
from __future__ import annotations

import functools
import json
import os
import re
import signal
import sys
import threading
import time
import types
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
        return _step(part, label(args) if label else part, True, function, *args, **kwargs)
    return wrapper


def timed_async(part: str, function, label=None):
    """timed() for a coroutine function on the event loop: each step it runs is timed and added up, the
    waits between its steps (when other tasks run) are not."""
    @functools.wraps(function)
    async def wrapper(*args, **kwargs):
        return await _Steps(function(*args, **kwargs), part, label(args) if label else part)
    return wrapper


class _Steps:
    def __init__(self, coroutine, part: str, name: str):
        self.coroutine, self.part, self.name = coroutine, part, name

    def __await__(self):
        value, error, first = None, None, True
        while True:
            run = self.coroutine.throw if error is not None else self.coroutine.send
            try:
                future = _step(self.part, self.name, first, run, error if error is not None else value)
            except StopIteration as done:
                return done.value
            first = False
            try:
                value, error = (yield future), None
            except BaseException as e:  # a cancellation: thrown into the coroutine at its next step
                value, error = None, e


def _step(part: str, name: str, count: bool, function, *args, **kwargs):
    """Run function(*args) with its thread CPU time added to TOTALS under the parts open on this thread."""
    stack = _local.__dict__.setdefault("stack", [])
    if part in (p for p, _ in stack):
        return function(*args, **kwargs)
    stack.append((part, name))
    key, started = "/".join(n for _, n in stack), time.thread_time()
    try:
        return function(*args, **kwargs)
    finally:
        spent = time.thread_time() - started
        stack.pop()
        with _lock:
            calls_seconds = TOTALS.setdefault(key, [0, 0.0])
            calls_seconds[0] += count
            calls_seconds[1] += spent


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads so far, added up by name with numbers dropped (the pool's workers as
    one), and "process" for the whole. Each thread's own CPU clock: /proc counts in 10 ms ticks, which loses most
    of what 300 HTTP worker threads spend a few ms at a time."""
    out = {"process": time.process_time()}
    for thread in threading.enumerate():
        try:
            seconds = time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        except (OSError, TypeError):  # ended meanwhile, or not started
            continue
        name = re.sub(r"[-_ ]?\d+", "", thread.name.split(" (")[0])
        out[name] = out.get(name, 0.0) + seconds
    return out


def _bucket(n: int) -> str:
    """A frame's number of events, in powers of two: "2", "3-4", "5-8", ..."""
    low = 1
    while low * 2 < n:
        low *= 2
    return str(n) if n <= 2 else f"{low + 1}-{low * 2}"


def statement(args) -> str:
    """Name an execute_sql call by its verb and first table: "sql: INSERT im_msg_relation"."""
    words = str(args[0]).split()
    after = {"INTO", "UPDATE", "FROM"}
    table = next((w for before, w in zip(words, words[1:], strict=False) if before.upper() in after), "")
    return f"sql: {words[0].upper()} {table}".rstrip() if words else "sql"


def install() -> None:
    """Wrap the parts of a send (the SQL, the unread Lua step, the notice's JSON + PUBLISH, its dispatch) and of
    the WebSocket's way (frames in and out, the ACK's delivered mark, the hand-offs between the threads)."""
    import asyncio.base_events
    import concurrent.futures.thread

    from websockets.asyncio.connection import Connection

    import imdemo.api.ws_inbound as ws_inbound
    import imdemo.api.ws_session as ws
    import imdemo.app
    from imdemo.api.ws_fanout import GroupFanout
    from imdemo.api.ws_pending import Unacked
    from imdemo.services.auth import AuthService
    from imdemo.services.feed import Feed
    from imdemo.services.messages import MessageService
    from imdemo.services.sync import SyncService
    from imdemo.store.announce import Announcer
    from imdemo.store.counters import UnreadCounters
    from imdemo.store.large_counters import LargeCounters
    from imdemo.store.notices import Notifier

    loop = asyncio.base_events.BaseEventLoop
    for owner, name, part in [(UnreadCounters, "on_messages", "lua"), (UnreadCounters, "merge", "lua"),
                              (Notifier, "publish_many", "publish"),
                              (Announcer, "committed", "announce"), (Notifier, "_dispatch", "dispatch"),
                              (MessageService, "send", "send"),
                              (SyncService, "acknowledge_pushed", "delivered"), (SyncService, "events_after", "read"),
                              (UnreadCounters, "advance_acked", "acked seq"), (AuthService, "authenticate", "auth"),
                              (ws.Session, "on_notice", "ws on_notice"), (Feed, "arrived_events", "ws arrived"),
                              # a large group's message: its counters, then on the event loop the fan-out to the
                              # connections following it (each one's on_notice inside), their pending events
                              (LargeCounters, "committed", "lua large"),
                              (GroupFanout, "_flush", "ws group fan-out"),
                              (Unacked, "hold", "ws pending"), (Unacked, "ack_group", "ws pending"),
                              (Unacked, "ack", "ws pending"),
                              (Connection, "data_received", "ws receive"),
                              (concurrent.futures.thread._WorkItem, "run", "pool"),
                              (loop, "run_in_executor", "hand-off: run_in_executor"),
                              (loop, "call_soon_threadsafe", "hand-off: call_soon_threadsafe")]:
        setattr(owner, name, timed(part, getattr(owner, name)))
    ws_inbound.parse = timed("ws parse", ws_inbound.parse)  # the frames in are read by FramesIn
    # the event's JSON, made once per connection it is pushed to (Session.send): apart from the write itself
    ws.json = types.SimpleNamespace(dumps=timed("ws json", json.dumps), loads=json.loads)
    ws.Session._handle = timed_async("ws frame", ws.Session._handle, lambda a: f"ws frame: {a[1].get('type')}"
                                     + (" group" if "group" in a[1] else ""))
    ws.Session.send = timed_async("ws write", ws.Session.send, lambda a: "ws write: " + (
        a[1]["type"] if isinstance(a[1], dict) else f"{_bucket(len(a[1]))} events"))
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
        self.out, self.first, self.before, self.threads = out, {}, {}, {}

    def read(self, pid: int) -> dict[str, dict]:
        """{"parts": {part: [calls, seconds]}, "threads": {name: seconds}} so far."""
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
        self.before, self.threads = now, {k: (v - old["threads"].get(k, 0.0)) * 1000 / messages
                                          for k, v in now["threads"].items()}
        now, old = now["parts"], old["parts"]
        spent = {k: (v[0] - old.get(k, [0, 0.0])[0], v[1] - old.get(k, [0, 0.0])[1]) for k, v in now.items()}
        return {k: (seconds * 1000 / messages, n / messages) for k, (n, seconds) in spent.items() if n}

    @staticmethod
    def by_part(parts: dict[str, tuple[float, float]]) -> dict[str, float]:
        """The ms of the SQL, the Lua steps, the PUBLISH and the dispatch, and of the WebSocket's fan-out, JSON,
        writes and frames in, wherever they ran."""
        return {name: sum(ms for k, (ms, _) in parts.items() if k.split("/")[-1].startswith(name))
                for name in ("sql", "lua", "publish", "dispatch", "ws group fan-out", "ws json", "ws write",
                             "ws pending", "ws frame")}

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
        lines.append(f"  {outside:8.2f} {outside:7.2f}         the rest: asyncio's own, the notice listener's read, "
                     "HTTP (cheroot, Bottle), other threads")
        lines.append("-- by part: " + ", ".join(f"{name} {ms:.2f} ms" for name, ms in self.by_part(parts).items()))
        threads = dict(self.threads)  # the process's whole less the live threads': threads that ended meanwhile
        threads["threads that ended"] = 2 * threads["process"] - sum(threads.values())
        lines.append("-- CPU ms a message by thread: " + ", ".join(
            f"{name} {ms:.2f}" for name, ms in sorted(threads.items(), key=lambda x: -x[1]) if ms >= 0.005))
        return "\n".join(lines)


def main(argv: list[str]) -> int:
    out = Path(argv[0])

    def dump(*_) -> None:
        with _lock:
            text = json.dumps({"parts": TOTALS, "threads": thread_cpu()})
        out.with_suffix(".tmp").write_text(text)
        out.with_suffix(".tmp").replace(out)  # whole, or not there yet
    signal.signal(signal.SIGUSR1, dump)
    sys.path.insert(0, str(ROOT))
    if os.environ.get("BENCH_LEVERS"):  # profile.py --levers: the levers first, so the wrappers time them
        from bench.serve_levers import lever
        for name in os.environ["BENCH_LEVERS"].split(","):
            if name != "none":
                lever(name)()
    install()
    import run  # the repository's run.py

    return run.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
