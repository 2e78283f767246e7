"""Services layer: what the transports that deliver messages tell the metrics (imdemo/metrics.py) and, while
an inspector watches, one message's trace (store/message_trace.py): each WebSocket push and ACK (a PushWatch
per connection, on the event loop), each poll's answer, what is open, how connections end.

A notice brings the time of its commit ("at") and, when traced, its trace id ("trace"); the watch keeps the
oldest commit not pushed yet and which seqs are traced, so the push is timed and its steps recorded without
a lookup per message while nothing is traced.
"""
from __future__ import annotations

from collections.abc import Callable

from ..metrics import NO_METRICS, NoMetrics
from ..store.message_trace import MessageTraces
from .feed import event_key, key_named


class DeliveryWatch:
    """The process's watch over its deliveries."""

    def __init__(self, metrics: NoMetrics, traces: MessageTraces | None):
        self.metrics, self.traces = metrics, traces

    def connection(self, uid: int) -> PushWatch:
        """A watch for one WebSocket connection of uid."""
        return PushWatch(self, uid)

    def count_connections(self, count: Callable[[], int]) -> None:
        self.metrics.count_connections(count)

    def closed(self, code: int | None) -> None:
        self.metrics.closed(code)

    def long_polls(self, change: int) -> None:
        self.metrics.long_polls(change)

    def answered(self, uid: int, long: bool, events: list[dict], noticed: list[dict]) -> None:
        """A poll answers events; noticed: the notices that woke it (a long poll), with their stamps."""
        stamps = [n["at"] for n in noticed if "at" in n]
        self.metrics.polled(long, len(events), min(stamps) if stamps and events else None)
        if self.traces is None:
            return
        traced = {event_key(e): n["trace"] for n in noticed if "trace" in n for e in _events(n)}
        for event in events:
            key = event_key(event) if "message" in event else None
            if key in traced:
                self.traces.mark(traced[key], "answered", uid=uid, **key_named(key), transport="long_poll")


class PushWatch:
    """One WebSocket connection's pushes: timed from their commit, and traced when their notice was."""

    __slots__ = ("metrics", "traces", "uid", "committed_at", "traced", "acking")

    def __init__(self, watch: DeliveryWatch, uid: int):
        self.metrics, self.traces, self.uid = watch.metrics, watch.traces, uid
        self.committed_at: float | None = None  # the oldest commit whose notice came since the last push
        # seq (a large group's event: (gid, gseq)) -> trace id, of traced events not pushed yet, and pushed and
        # not acknowledged
        self.traced: dict = {}
        self.acking: dict = {}

    def noticed(self, notice: dict) -> None:
        if self.committed_at is None:
            self.committed_at = notice.get("at")
        if "trace" in notice and self.traces is not None:
            for event in _events(notice):
                self.traced[event_key(event)] = notice["trace"]

    def pushing(self, events: list[dict], way: str = "push") -> None:
        """Message events about to be written for the first time: by the connection's own push task ("push"), or
        with every other caught-up connection of a large group at once ("broadcast", api/ws_fanout.py)."""
        if not events:
            return
        self.metrics.pushed(len(events), self.committed_at)
        self.committed_at = None
        if self.traced:
            for event in events:
                key = event_key(event)
                trace_id = self.traced.pop(key, None)
                if trace_id is not None:
                    self.traces.mark(trace_id, "pushed", uid=self.uid, **key_named(key), transport="websocket",
                                     way=way)
                    self.acking[key] = trace_id

    def retransmitted(self, events: int) -> None:
        if events:
            self.metrics.retransmitted(events)

    def acknowledged(self, seq: int) -> None:
        """A cumulative ACK of the user's own timeline up to seq."""
        if self.acking:
            for done in [s for s in self.acking if isinstance(s, int) and s <= seq]:
                self.traces.mark(self.acking.pop(done), "acknowledged", uid=self.uid, seq=done)

    def acknowledged_group(self, gid: int, gseq: int) -> None:
        """A cumulative ACK of large group gid's events up to gseq."""
        if self.acking:
            for done in [k for k in self.acking if isinstance(k, tuple) and k[0] == gid and k[1] <= gseq]:
                self.traces.mark(self.acking.pop(done), "acknowledged", uid=self.uid, **key_named(done))


def _events(notice: dict) -> list[dict]:
    """The message events a notice brings: the user's own, and a large group's."""
    return [*notice.get("events", ()), *notice.get("group_events", ())]



NO_WATCH = DeliveryWatch(NO_METRICS, None)
