"""Bench helper: the bytes a server publishes, counted by a subscriber of its notices channel on a real Redis.

The embedded store lives inside the server's process, so what it publishes is seen only on a real Redis: the
same server is started again on the same database against a `redis-server` (started here, or --redis), and
a thread of the bench counts every PUBLISH on the notices channel and its bytes. The payload is built by the
same code whatever the store, so these are the bytes the embedded store passes in process too.
"""
from __future__ import annotations

import shutil
import threading
import time
from contextlib import nullcontext

from .common import Context, RedisServer, Server


class Subscriber:
    """Count the PUBLISHes on one channel of a real Redis and their bytes, from a thread of this process."""

    def __init__(self, url: str, channel: str):
        import redis

        self.pubsub = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(channel)
        self.count, self.bytes = 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message is not None:
                self.count, self.bytes = self.count + 1, self.bytes + len(message["data"])

    def wait_for(self, count: int, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while self.count < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.pubsub.close()


def published_pass(ctx: Context, database: str, flags: tuple[str, ...], measure) -> dict:
    """Start the server on database against a real Redis and run measure(server, subscriber, redis-server's pid
    or None); return {"redis": where, "sizes": what measure returned}."""
    if not ctx.redis and shutil.which("redis-server") is None:
        return {"skipped": "no redis-server on PATH and no --redis: bytes published need a real Redis"}
    with (nullcontext() if ctx.redis else RedisServer(ctx)) as own:
        url = ctx.redis or own.url
        with Server(ctx, database=database, redis=url, flags=flags) as server:
            ctx.say(f"bytes published: server pid {server.pid} on {url} and the same database")
            watch = Subscriber(url, f"{server.redis_prefix}notices")
            try:
                return {"redis": url if ctx.redis else "a redis-server started for this figure",
                        "sizes": measure(server, watch, own.pid if own else None)}
            finally:
                watch.close()
