"""Store layer: counts of attempts in a time window (failed logins, sends per second), in Redis."""
from __future__ import annotations

import redis

from .keyvalue import Keys

# KEYS: the counter. ARGV: window in milliseconds. Returns (count, milliseconds left in the window).
COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
"""


class Attempts:
    """Fixed-window counters shared by every process through Redis."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys
        self._count = client.register_script(COUNT)

    def scripts(self) -> dict:
        return {"attempts.count": self._count}

    def count(self, kind: str, who: str, window: float) -> tuple[int, float]:
        """Count one attempt; return (attempts in this window, seconds until it ends)."""
        n, left_ms = self._count(keys=[self.keys.attempts(kind, who)], args=[max(1, int(window * 1000))])
        return int(n), max(0.0, int(left_ms) / 1000)

    def peek(self, kind: str, who: str) -> tuple[int, float]:
        """Return (attempts so far, seconds until the window ends) without counting one."""
        key = self.keys.attempts(kind, who)
        with self.client.pipeline() as pipe:
            n, left_ms = pipe.get(key).pttl(key).execute()
        return int(n or 0), max(0.0, int(left_ms) / 1000)

    def clear(self, kind: str, who: str) -> None:
        self.client.delete(self.keys.attempts(kind, who))
