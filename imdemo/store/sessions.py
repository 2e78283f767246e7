"""Store layer: login sessions, in the database (the truth) with a Redis copy for the fast path."""
from __future__ import annotations

import time

import peewee
import redis

from .keyvalue import Keys
from .models import declare_models

CACHE_SECONDS = 3600


class SessionStore:
    """Sessions keyed by a token's hash; the token itself is never stored."""

    def __init__(self, db: peewee.Database, client: redis.Redis, keys: Keys):
        self.Session = declare_models(db).Session
        self.client, self.keys = client, keys

    def create(self, token_hash: str, uid: int, ttl: float) -> None:
        now = int(time.time() * 1000)
        self.Session.create(token_hash=token_hash, uid=uid, created_at=now, expires_at=now + int(ttl * 1000))
        self.client.set(self.keys.session(token_hash), uid, ex=max(1, min(CACHE_SECONDS, int(ttl))))

    def uid_of(self, token_hash: str) -> int | None:
        """Return the uid of a live session, or None. Redis answers; the database fills a miss."""
        cached = self.client.get(self.keys.session(token_hash))
        if cached is not None:
            return int(cached)
        row = self.Session.get_or_none(self.Session.token_hash == token_hash)
        now = int(time.time() * 1000)
        if row is None:
            return None
        if row.expires_at <= now:
            row.delete_instance()
            return None
        ttl = min(CACHE_SECONDS, (row.expires_at - now) // 1000)
        if ttl > 0:
            self.client.set(self.keys.session(token_hash), row.uid, ex=ttl)
        return row.uid

    def delete(self, token_hash: str) -> None:
        """End a session everywhere: the row and the cached copy."""
        self.Session.delete().where(self.Session.token_hash == token_hash).execute()
        self.client.delete(self.keys.session(token_hash))
