"""API layer: what one WebSocket connection pushed and waits to hear acknowledged (ACK and retransmission,
the course's final design). An event is acknowledged by its seq, or, a large group's, by its group and gseq;
the client's ACKs are cumulative: one covers every event up to it."""
from __future__ import annotations

from dataclasses import dataclass

from ..services.feed import event_key as key_of  # what an event is acknowledged by
from ..services.feed import key_named as named


@dataclass(slots=True)  # one for each event pushed to each connection: 500 a message to a busy large group
class Pending:
    event: dict
    sent_at: float
    sends: int = 1
    first_sent: float = 0.0


class Unacked:
    """The events a connection pushed that no ACK has covered yet, each with when and how often it was sent."""

    def __init__(self):
        self._items: dict = {}  # seq, or (gid, gseq) -> Pending

    def __len__(self) -> int:
        return len(self._items)

    def hold(self, events: list[dict], now: float) -> list[dict]:
        """Keep events until acknowledged; return them."""
        for event in events:
            self._items[key_of(event)] = Pending(event, now, 1, now)
        return events

    def ack(self, seq: int, uid: int) -> bool:
        """Drop user uid's own timeline's events up to seq; tell whether one was a 1:1 message uid received (a
        delivered receipt is due)."""
        received = False
        for done in [k for k in self._items if isinstance(k, int) and k <= seq]:
            received = self._items.pop(done).event.get("message", {}).get("to") == uid or received
        return received

    def ack_group(self, gid: int, gseq: int) -> None:
        """Drop large group gid's events up to gseq."""
        for done in [k for k in self._items if isinstance(k, tuple) and k[0] == gid and k[1] <= gseq]:
            del self._items[done]

    def overdue(self, now: float, timeout: float) -> list[Pending]:
        return [item for item in self._items.values() if now - item.sent_at >= timeout]

    def clear(self) -> None:
        self._items.clear()

    def describe(self, now: float) -> list[dict]:
        """Each pending event: its seq (or group and gseq), its age, how often it was sent (the inspector's)."""
        return [{**named(key), "age": round(now - item.first_sent, 1), "sends": item.sends}
                for key, item in sorted(self._items.items(), key=lambda pair: _order(pair[0]))]


def _order(key) -> tuple:
    return (0, key, 0) if isinstance(key, int) else (1, *key)
