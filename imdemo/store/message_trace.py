"""Store layer: one message's trace across processes (lecture 19: a trace id, as Dapper and Zipkin carry one).

While an inspector is watched in any process, a message sent gets a trace id that rides in its notice
(announce.py), and every process that takes a step for it records the step under that id: the request and
the commit where it was sent, the notice heard in every process, each push, long poll answer and ACK
where its recipients are held. The steps go to a Redis list per id that lives TRACE_SECONDS, so the
inspector of any process shows the whole way, each step with its process and its time.

Off the hot path: nobody watching, no id is made and nothing recorded; watched, a step is put on a queue
and a thread of this module writes it, so a push on the WebSocket's event loop never waits for Redis.
Every process learns that an inspector is watched from a notice ("inspecting") its inspector publishes.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import threading
import time
from collections import deque

import redis

from .keyvalue import Keys
from .notices import Notifier
from .trace import Trace

log = logging.getLogger(__name__)
TRACE_SECONDS = 600
MOST_STEPS = 200  # per trace: a big group's pushes in one process are a step each
RECENT = 10  # trace ids this process remembers hearing, for its inspector


class MessageTraces:
    """Record the steps of traced messages in this process; read every process's steps of one."""

    def __init__(self, trace: Trace, client: redis.Redis, keys: Keys, notifier: Notifier, process: str):
        self.trace, self.client, self.keys, self.notifier = trace, client, keys, notifier
        self.process = f"{process} pid {os.getpid()}"
        self.recent: deque[tuple[str, list[str]]] = deque(maxlen=RECENT)  # (trace id, its mids) heard here
        self._told_at = float("-inf")  # when this process last told the others it is inspected
        self._steps: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        notifier.watch_all("inspecting", lambda uid, notice: self.trace.watch() if "inspecting" in notice else None)
        notifier.heard = self._heard

    def inspected(self) -> None:
        """Someone looks at this process's inspector: record here, and tell every process to record too."""
        self.trace.watch()
        now = time.monotonic()
        if now - self._told_at > self.trace.attention / 6:
            self._told_at = now
            self.notifier.publish(0, {"inspecting": True})

    def traced(self, stored: list) -> str | None:
        """The trace id of a commit just made by this thread's action, made now (with the action's first steps)
        while it is recorded; None while nobody watches."""
        action = self.trace.current()
        if action is None or not stored:
            return None
        trace_id = action.get("trace") or secrets.token_hex(6)
        action["trace"] = trace_id  # the local inspector shows it on the action
        sender = stored[0].message.sender
        self.mark(trace_id, "request", at=action["at"], name=action["name"], uid=sender)
        self.mark(trace_id, "committed", mids=[s.message.mid for s in stored],
                  timelines=sum(s.timelines for s in stored))
        return trace_id

    def mark(self, trace_id: str, step: str, at: float | None = None, **info) -> None:
        """Record one step of a traced message (written by this module's thread, in a moment)."""
        self._steps.put((trace_id, {"step": step, "process": self.process, "at": at or time.time(), **info}))
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._write, name="imdemo-trace", daemon=True)
                    self._thread.start()

    def steps(self, trace_id: str) -> list[dict]:
        """Every process's steps of one traced message, in time order."""
        return sorted((json.loads(s) for s in self.client.lrange(self.keys.trace(trace_id), 0, -1)),
                      key=lambda s: s["at"])

    def latest(self) -> list[dict]:
        """The messages traced lately that this process heard of, newest first, each with all its steps."""
        return [{"trace": trace_id, "mids": mids, "steps": self.steps(trace_id)}
                for trace_id, mids in reversed(list(self.recent))]

    def stop(self) -> None:
        if self._thread is not None:
            self._steps.put(None)
            self._thread.join(timeout=5)

    def _heard(self, trace_id: str, mids: list[str], here: int) -> None:
        """The notice of a traced message reached this process (on the notices thread)."""
        self.recent.append((trace_id, [int(m) for m in mids]))
        self.mark(trace_id, "heard", users_here=here)

    def _write(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._steps.get()]
            while not self._steps.empty():  # what queued meanwhile goes in the same round trip
                batch.append(self._steps.get())
            stopping = None in batch
            batch = [item for item in batch if item is not None]
            try:
                with self.client.pipeline(transaction=False) as pipe:
                    for trace_id, step in batch:
                        key = self.keys.trace(trace_id)
                        pipe.rpush(key, json.dumps(step, separators=(",", ":")))
                        pipe.ltrim(key, 0, MOST_STEPS - 1)
                        pipe.expire(key, TRACE_SECONDS)
                    pipe.execute()
            except redis.RedisError as e:  # the trace is a teaching aid: a lost step costs a line, nothing else
                log.warning("could not record %d trace steps: %s", len(batch), e)
