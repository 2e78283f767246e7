"""Figure 7: warm and cold: what one step of a send (and of its ACK) costs in a busy loop and right after a
pause.

The idle latency figures send a message every 5-20 ms, and on a shared virtual machine code run after a
pause is much slower than the same code in a loop (cold caches, a descheduled CPU). This figure measures
that apart from any server: in this process, on an app built by create_app on a temp database, each step
is timed back to back, then again with a 10 ms sleep before each call. Medians.
"""
from __future__ import annotations

import itertools
import statistics
import time

from imdemo.app import create_app
from imdemo.config import Config
from imdemo.store.conversation import Conversation
from imdemo.store.database import write_transaction
from imdemo.store.message import Draft

from .common import Context

PAUSE = 0.010


def _timed(step, count: int, pause: float) -> float:
    """Median seconds of step() over count calls, each after pause seconds of sleep (0: back to back)."""
    took = []
    for i in range(count):
        if pause:
            time.sleep(pause)
        started = time.perf_counter()
        step(i)
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def run(ctx: Context) -> dict:
    database = ctx.database or f"sqlite:///{ctx.tmp / 'warmth.db'}"
    app = create_app(Config(database=database, redis=ctx.redis or "", redis_prefix=ctx.tag + ":", demo=False,
                            send_rate=0, register_rate=0, inspect=False, password_cost=2**4))
    try:
        auth, messages = app.services.auth, app.services.messages
        alice = auth.register(f"{ctx.tag}_wa", "pw1234")["uid"]
        bob = auth.register(f"{ctx.tag}_wb", "pw1234")["uid"]
        counters, to_bob = messages.unread.counters, Conversation.direct(bob)
        count = ctx.scale(200, 40)
        # bob's ACKs, one received message each: the Redis check, the read of what it covers, the durable
        # delivered mark (it moves every time) and the hint to alice
        acked = itertools.count(app.services.sync.last_seq(bob) + 1)
        with write_transaction(app.db):  # stored as a commit stores them, announced to nobody
            drafts = [Draft(alice, to_bob, f"to ack {i}") for i in range(3 * 20 + 2 * count)]
            messages.writer.commit.messages(drafts, set())
        steps = {
            "redis_get_us": (lambda i: app.redis.get(f"{ctx.tag}:warmth"), 1e6),
            "unread_lua_us": (lambda i: counters.on_messages([(alice, bob)], {alice: 0, bob: 0}), 1e6),
            "send_ms": (lambda i: messages.send(alice, to_bob, f"warmth {i}"), 1e3),
            "ack_us": (lambda i: app.services.sync.acknowledge_pushed(bob, next(acked)), 1e6),
        }
        result = {"pause_ms": PAUSE * 1000, "count": count}
        for name, (step, unit) in steps.items():
            _timed(step, 20, 0)  # warm up
            result[name] = {"busy": round(_timed(step, count, 0) * unit, 1),
                            "after_pause": round(_timed(step, count, PAUSE) * unit, 1)}
            ctx.say(f"warmth {name}: busy loop {result[name]['busy']}, after {PAUSE * 1000:.0f} ms idle "
                    f"{result[name]['after_pause']}")
        return result
    finally:
        app.close()
