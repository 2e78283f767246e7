"""Observability: the metrics of one imdemo process (lecture 19), in a prometheus_client registry of its own.

create_app makes one Metrics (or NoMetrics with --no-metrics) and hands it to the pieces that record: the
writer (messages stored, fan-out, commit time), the Redis client (Lua time), the delivery transports
(deliveries, send-to-push latency, retransmissions, closes, what is open). Each process serves its own at
GET /metrics and Prometheus scrapes every process (docs/DESIGN.md says why not the multi-process mode).

The hot path pays a pre-bound child's inc() or observe() (one uncontended lock each); labels are bound once
per label value, never looked up per call, and the values are a fixed few: never user content, names or
tokens. What can be read when scraped (connections open) is read then, at no cost in between.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)

from .store.conversation import PREFIX
from .store.message import KIND_NAMES

SECONDS = (.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)
LUA_SECONDS = (.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25)
TIMELINES = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)
COMMIT_SIZES = (1, 2, 4, 8, 16, 32, 64)
TRANSPORTS = ("websocket", "long_poll", "short_poll")
CLOSE_CODES = (1000, 1001, 1006, 1011, 4401, 4408)  # a client may close with any code: the rest are "other"


class NoMetrics:
    """--no-metrics: the same calls, recording nothing."""

    enabled = False

    def committed(self, stored: list, seconds: float) -> None:
        pass

    def pushed(self, events: int, committed_at: float | None) -> None:
        pass

    def polled(self, long: bool, events: int, committed_at: float | None) -> None:
        pass

    def long_polls(self, change: int) -> None:
        pass

    def retransmitted(self, events: int) -> None:
        pass

    def closed(self, code: int | None) -> None:
        pass

    def count_connections(self, count: Callable[[], int]) -> None:
        pass

    def time_scripts(self, client) -> None:
        pass

    def name_script(self, script, name: str) -> None:
        pass


NO_METRICS = NoMetrics()


class Metrics(NoMetrics):
    """The application metrics of SPEC section 18, plus the process's own (CPU, memory, open files, GC)."""

    enabled = True

    def __init__(self):
        self.registry = r = CollectorRegistry()
        for collector in (process_collector.ProcessCollector, platform_collector.PlatformCollector,
                          gc_collector.GCCollector):
            collector(registry=r)
        self.stored = Counter("imdemo_messages_stored", "Messages stored, by kind of message and of conversation",
                              ["kind", "conversation"], registry=r)
        self.fanout = Histogram("imdemo_message_fanout_timelines", "Timelines one stored message was written to: "
                                "2 for a 1:1 message, every member for a small group's (write diffusion), 1 for a "
                                "large group's (its own timeline: read diffusion)",
                                ["conversation"], buckets=TIMELINES, registry=r)
        self.commit = Histogram("imdemo_commit_seconds", "Seconds one commit of the writer took, from the start of "
                                "its transaction to the end of its COMMIT", buckets=SECONDS, registry=r)
        self.commit_size = Histogram("imdemo_commit_messages", "Messages one commit wrote (group commit: the sends "
                                     "that arrived while the one before was being written)", buckets=COMMIT_SIZES,
                                     registry=r)
        self.lua = Histogram("imdemo_lua_seconds", "Seconds the server waited for one run of a Lua script, by "
                             "script (on a real Redis, the round trip included)", ["script"], buckets=LUA_SECONDS,
                             registry=r)
        deliveries = Counter("imdemo_deliveries", "Message events handed to clients, by transport (a WebSocket "
                             "push counts once, its retransmissions apart)", ["transport"], registry=r)
        latency = Histogram("imdemo_send_to_push_seconds", "Seconds from a message's commit to its push being "
                            "written to a WebSocket, or to the long poll it woke being answered (a push of "
                            "several messages is timed from the oldest)", ["transport"], buckets=SECONDS, registry=r)
        self.delivered = {t: deliveries.labels(t) for t in TRANSPORTS}
        self.latency = {t: latency.labels(t) for t in TRANSPORTS[:2]}
        self.retransmissions = Counter("imdemo_ws_retransmissions", "Pushes sent again because their ACK had not "
                                       "come within --ack-timeout", registry=r)
        closes = Counter("imdemo_ws_closes", "WebSocket connections ended, by close code: the code this side sent "
                         "first, else the client's (1006: cut without a close frame)", ["code"], registry=r)
        self.closes = {code: closes.labels(str(code)) for code in CLOSE_CODES}
        self.closes_other = closes.labels("other")
        self.connections = Gauge("imdemo_ws_connections_open", "WebSocket connections open (after their hello)",
                                 registry=r)
        self.waiting = Gauge("imdemo_long_polls_open", "Long polls waiting for an event", registry=r)
        # (msg_type, conversation kind) -> (stored child, fan-out child); every series there is from the start, at
        # 0, so the first message counts in rate() and increase() (a series born at 1 loses it)
        self._by_kind = {(kind, c): (self.stored.labels(name, c), self.fanout.labels(c))
                         for kind, name in KIND_NAMES.items() for c in PREFIX}
        self._scripts: dict[str, object] = {}  # sha -> the Lua histogram's child for that script

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus's text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def committed(self, stored: list, seconds: float) -> None:
        """Record a commit: its time, its size, and each new message by kind with the timelines it reached."""
        self.commit.observe(seconds)
        self.commit_size.observe(len(stored))
        for s in stored:
            key = (s.message.kind, s.message.conversation.kind)
            children = self._by_kind.get(key)
            if children is None:  # a kind not named in KIND_NAMES: by its number
                kind = KIND_NAMES.get(key[0], str(key[0]))
                children = self._by_kind[key] = (self.stored.labels(kind, key[1]), self.fanout.labels(key[1]))
            children[0].inc()
            children[1].observe(s.timelines)

    def pushed(self, events: int, committed_at: float | None) -> None:
        """Record message events written to a WebSocket for the first time; committed_at: the oldest one's
        commit, when a notice brought it (a replay from the database is not a push after a send)."""
        self.delivered["websocket"].inc(events)
        if committed_at is not None:
            self.latency["websocket"].observe(max(0.0, time.time() - committed_at))

    def polled(self, long: bool, events: int, committed_at: float | None) -> None:
        """Record a poll's answer: its message events, and for a long poll woken by a notice, the time since
        that notice's commit."""
        if events:
            self.delivered["long_poll" if long else "short_poll"].inc(events)
        if long and committed_at is not None:
            self.latency["long_poll"].observe(max(0.0, time.time() - committed_at))

    def long_polls(self, change: int) -> None:
        self.waiting.inc(change)

    def retransmitted(self, events: int) -> None:
        self.retransmissions.inc(events)

    def closed(self, code: int | None) -> None:
        self.closes.get(code, self.closes_other).inc()

    def count_connections(self, count: Callable[[], int]) -> None:
        """Read the open connections when scraped, from the layer that holds them."""
        self.connections.set_function(count)

    def name_script(self, script, name: str) -> None:
        """Time the runs of this Lua script under name."""
        self._scripts[script.sha] = self.lua.labels(name)

    def time_scripts(self, client) -> None:
        """Time every named script client runs (EVALSHA); wraps this client's execute_command, nothing global."""
        execute, scripts = client.execute_command, self._scripts

        def timed(*args, **options):
            child = scripts.get(args[1]) if args[0] == "EVALSHA" else None
            if child is None:
                return execute(*args, **options)
            started = time.perf_counter()
            result = execute(*args, **options)  # a failure (NOSCRIPT, then loaded and run again) is not a run
            child.observe(time.perf_counter() - started)
            return result
        client.execute_command = timed
