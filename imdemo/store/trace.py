"""Store layer: the inspector's trace. It records, per action, every SQL statement and Redis command
the store runs, with Lua scripts' keys before and after. It wraps one database and one Redis client
(instance attributes, no global hooks) and is never installed when the inspector is off, so it costs
nothing then.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from contextlib import contextmanager, nullcontext

import peewee
import redis

HIDDEN = "‹hidden›"


def _clean(value):
    """Hide secrets: password hashes and session token hashes never leave the process."""
    if isinstance(value, str) and value.startswith("scrypt$"):
        return HIDDEN
    if isinstance(value, str) and "session:" in value:
        return value.split("session:")[0] + "session:" + HIDDEN
    if isinstance(value, (bytes, bytearray, memoryview)) or hasattr(value, "adapted"):  # psycopg2's Binary too
        raw = bytes(getattr(value, "adapted", value))
        return f"‹{len(raw):,} bytes›" if len(raw) > 64 else raw.decode("utf-8", "replace")
    return value


class Trace:
    """A bounded log of actions, each with the steps the store took for it."""

    def __init__(self, capacity: int = 500, attention: float = 60.0):
        self.actions: deque = deque(maxlen=capacity)
        self.attention = attention  # seconds the trace keeps recording after the inspector last looked
        self._watched_at = float("-inf")
        self._ids = itertools.count(1)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._scripts: dict[str, str] = {}

    @contextmanager
    def action(self, name: str, **info):
        """Group the steps taken inside the block under one action (per thread)."""
        outer = getattr(self._local, "action", None)
        if outer is not None or not self.watched():  # nested, or nobody is looking: nothing to record
            yield outer
            return
        current = {"name": name, "info": info, "at": time.time(), "steps": []}
        self._local.action = current
        try:
            yield current
        finally:
            self._local.action = None
            self._publish(current)

    def watch(self) -> None:
        """Say that someone is looking: record for the next `attention` seconds."""
        self._watched_at = time.monotonic()

    def watched(self) -> bool:
        """Tell whether an inspector looked recently; until one does, tracing costs one check a statement."""
        return time.monotonic() - self._watched_at < self.attention

    def note(self, name: str, **info) -> None:
        """Record an action that is one event (a frame pushed, a retransmission, a timeout)."""
        if not self.watched():
            return
        self._publish({"name": name, "info": {k: _clean(v) for k, v in info.items()}, "at": time.time(),
                       "steps": []})

    def current(self) -> dict | None:
        """The action this thread is recording, if any (none while nobody watches)."""
        return getattr(self._local, "action", None)

    def annotate(self, **info) -> None:
        """Add to what the current action says of itself (why a shortcut was or was not given, say)."""
        current = getattr(self._local, "action", None)
        if current is not None:
            current["info"].update({k: _clean(v) for k, v in info.items()})

    def step(self, kind: str, **data) -> None:
        current = getattr(self._local, "action", None)
        if current is not None:
            current["steps"].append({"kind": kind, **data})

    def after(self, action_id: int) -> list[dict]:
        with self._lock:
            return [a for a in self.actions if a["id"] > action_id]

    def _publish(self, action: dict) -> None:
        with self._lock:
            action["id"] = next(self._ids)
            self.actions.append(action)

    def watch_database(self, db: peewee.Database) -> None:
        """Record every statement db runs inside an action, with its parameters."""
        execute_sql = db.execute_sql

        def traced(sql, params=None, *args, **kwargs):
            cursor = execute_sql(sql, params, *args, **kwargs)
            if getattr(self._local, "action", None) is None:
                return cursor
            hidden = "im_session" in sql
            self.step("sql", sql=sql, params=[HIDDEN if hidden else _clean(p) for p in (params or ())],
                      rows=getattr(cursor, "rowcount", -1))
            return cursor
        db.execute_sql = traced
        execute_many = getattr(db, "execute_many", None)
        if execute_many is None:
            return

        def traced_many(sql, rows):  # one step for the statement, its parameters a list per row
            cursor = execute_many(sql, rows)
            if getattr(self._local, "action", None) is not None:
                self.step("sql", sql=sql, params=[[_clean(p) for p in row] for row in rows],
                          rows=getattr(cursor, "rowcount", -1))
            return cursor
        db.execute_many = traced_many

    def name_script(self, script, name: str) -> None:
        self._scripts[script.sha] = name

    def watch_redis(self, client: redis.Redis) -> None:
        """Record every command client sends inside an action; a Lua script with its keys before and after."""
        execute = client.execute_command

        def traced(*args, **options):
            if getattr(self._local, "action", None) is None:
                return execute(*args, **options)
            if str(args[0]).upper() != "EVALSHA":
                result = execute(*args, **options)
                self.step("redis", command=[_clean(a) for a in args], result=_clean_result(result))
                return result
            keys = [str(k) for k in args[3:3 + int(args[2])]]
            before = _values(execute, keys)
            result = execute(*args, **options)
            self.step("lua", script=self._scripts.get(args[1], args[1][:12]), keys=[_clean(k) for k in keys],
                      args=[_clean(a) for a in args[3 + int(args[2]):]], result=_clean_result(result),
                      before=before, after=_values(execute, keys))
            return result
        client.execute_command = traced
        self._watch_pipelines(client)

    def _watch_pipelines(self, client: redis.Redis) -> None:
        """Record each command a pipeline sends (they bypass execute_command), with its result."""
        pipeline = client.pipeline

        def traced_pipeline(*args, **kwargs):
            pipe = pipeline(*args, **kwargs)
            execute = pipe.execute

            def traced_execute(*a, **k):
                if getattr(self._local, "action", None) is None:
                    return execute(*a, **k)
                commands = [command for command, _ in pipe.command_stack]
                results = execute(*a, **k)
                for command, result in zip(commands, results, strict=False):
                    self.step("redis", command=[_clean(x) for x in command], result=_clean_result(result))
                return results
            pipe.execute = traced_execute
            return pipe
        client.pipeline = traced_pipeline


def action_of(trace: Trace | None, name: str, **info):
    """A traced action, or nothing at all when the inspector is off."""
    return trace.action(name, **info) if trace is not None else nullcontext()


def _values(execute, keys: list[str]) -> dict:
    """Read each key's value, whatever its type, with the untraced client."""
    values = {}
    for key in keys:
        if "session:" in key:
            continue
        kind = execute("TYPE", key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        values[key] = (execute("HGETALL", key) if kind == "hash" else execute("GET", key) if kind == "string"
                       else None)
    return values


def _clean_result(result):
    if isinstance(result, (list, tuple)):
        return [_clean_result(r) for r in result]
    return _clean(result)
