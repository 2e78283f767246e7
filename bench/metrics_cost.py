"""What recording the metrics adds to one message's way, timed alone (README, "Metrics on and off"): each call
the writer, the announcer, the WebSocket session and the Redis client make for a message, with Metrics and
with NoMetrics (--no-metrics). In process, no server: `python bench/metrics_cost.py`.
"""
from __future__ import annotations

import sys
import time
import timeit
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `imdemo` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from imdemo.metrics import NO_METRICS, Metrics  # noqa: E402
from imdemo.services.delivery_watch import DeliveryWatch  # noqa: E402
from imdemo.store.conversation import Conversation  # noqa: E402
from imdemo.store.message import Message, Stored  # noqa: E402

OTHER_COMMANDS = 3  # Redis commands of a 1:1 message besides its script (the session, the acked seq, the PUBLISH)


class Client:
    """A Redis client that answers at once, so only what the timer around it costs is measured."""

    def execute_command(self, *args, **options):
        return 1


class Script:
    sha = "0" * 40


def per_call(call, n: int = 200_000) -> float:
    """Microseconds a call, the best of five rounds."""
    return min(timeit.repeat(call, number=n, repeat=5)) / n * 1e6


def main() -> None:
    metrics = Metrics()
    stored = [Stored(Message(1, 1000, Conversation.direct(1001), "x", None, 0), True, {1000: 1, 1001: 1})]
    plain, timed = Client(), Client()
    metrics.time_scripts(timed)
    metrics.name_script(Script, "unread.on_message")
    on, off = DeliveryWatch(metrics, None).connection(1), DeliveryWatch(NO_METRICS, None).connection(1)
    notice, events = {"seq": 1, "at": time.time(), "events": [{"seq": 1}]}, [{"seq": 1}]
    rows = [
        ("writer: committed(1 message)", 1, lambda: metrics.committed(stored, 0.001),
         lambda: NO_METRICS.committed(stored, 0.001)),
        ("announcer: the commit's time in the notice", 1, lambda: {"at": time.time()}, lambda: None),
        ("WebSocket: noticed + pushing(1 event)", 1, lambda: (on.noticed(notice), on.pushing(events)),
         lambda: (off.noticed(notice), off.pushing(events))),
        ("WebSocket: acknowledged", 1, lambda: on.acknowledged(1), lambda: off.acknowledged(1)),
        ("Redis: one EVALSHA through the timer", 1, lambda: timed.execute_command("EVALSHA", Script.sha, 0),
         lambda: plain.execute_command("EVALSHA", Script.sha, 0)),
        ("Redis: any other command through it", OTHER_COMMANDS, lambda: timed.execute_command("GET", "k"),
         lambda: plain.execute_command("GET", "k")),
    ]
    total = 0.0
    for name, times, with_metrics, without in rows:
        added = per_call(with_metrics) - per_call(without)
        total += times * added
        print(f"{name:44s} +{added:5.2f} us{f' (x{times})' if times > 1 else ''}")
    print(f"{'a 1:1 message, sent, pushed and acknowledged':44s} +{total:5.1f} us")


if __name__ == "__main__":
    main()
