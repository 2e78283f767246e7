"""Store layer: live hints (read, delivered, unread, settings) kept a while for pollers: a short Redis stream
per user, so a poller that was between two requests when one was published still finds it (SPEC 5)."""
from __future__ import annotations

import json

import redis

from .keyvalue import Keys

HINTS_KEPT = 100  # per user
HINTS_SECONDS = 120


class Hints:
    """Each user's recent hints, by a cursor of their own (a stream id)."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys

    def keep(self, pipe, uid: int, hints: list[dict]) -> None:
        """Add hints to uid's stream in pipe (the PUBLISH that carries them live goes in the same pipe)."""
        for hint in hints:
            pipe.xadd(self.keys.hints(uid), {"h": json.dumps(hint, separators=(",", ":"))},
                      maxlen=HINTS_KEPT, approximate=True)
        pipe.expire(self.keys.hints(uid), HINTS_SECONDS)

    def after(self, uid: int, cursor: str | None) -> tuple[list[dict], str]:
        """Return the hints for uid after cursor, and the cursor to ask from next; without a cursor, start
        from now."""
        key = self.keys.hints(uid)
        if not cursor:
            newest = self.client.xrevrange(key, "+", "-", count=1)
            return [], newest[0][0] if newest else "0-0"
        entries = self.client.xrange(key, "(" + cursor, "+", count=HINTS_KEPT)
        return [json.loads(fields["h"]) for _, fields in entries], entries[-1][0] if entries else cursor
