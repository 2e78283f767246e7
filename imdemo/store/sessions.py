"""Store layer: login sessions, in the database (the truth), with a Redis copy shared by every process and
a short-lived copy in this process, so most requests authenticate without a round trip.

The process copy is trusted for at most LOCAL_SECONDS and never past the session's expiry. A logout
deletes it in this process at once and in every other process when they hear the logout notice
(`forget`); a lost pub/sub connection forgets them all.
"""
from __future__ import annotations

import time

import peewee
import redis

from .keyvalue import Keys
from .models import declare_models

CACHE_SECONDS = 3600
LOCAL_SECONDS = 5.0
LOCAL_MOST = 10_000  # process copies kept before the stale ones are swept


class SessionStore:
    """Sessions keyed by a token's hash; the token itself is never stored."""

    def __init__(self, db: peewee.Database, client: redis.Redis, keys: Keys):
        self.Session = declare_models(db).Session
        self.client, self.keys = client, keys
        self._local: dict[str, tuple[int, float]] = {}  # token hash -> (uid, trusted until, epoch seconds)

    def create(self, token_hash: str, uid: int, ttl: float) -> None:
        now = int(time.time() * 1000)
        expires = now + int(ttl * 1000)
        self.Session.create(token_hash=token_hash, uid=uid, created_at=now, expires_at=expires)
        self.client.set(self.keys.session(token_hash), f"{uid}:{expires}", ex=max(1, min(CACHE_SECONDS, int(ttl))))

    def uid_of(self, token_hash: str) -> int | None:
        """Return the uid of a live session, or None. This process's copy answers, then Redis, then the
        database."""
        now = time.time()
        local = self._local.get(token_hash)
        if local is not None and local[1] > now:
            return local[0]
        cached = self.client.get(self.keys.session(token_hash))
        if cached is not None:
            uid, _, expires = cached.partition(":")
            uid, expires = int(uid), int(expires) if expires else None  # a copy written before expiry was kept
        else:
            row = self.Session.get_or_none(self.Session.token_hash == token_hash)
            if row is None:
                return None
            if row.expires_at <= now * 1000:
                row.delete_instance()
                return None
            uid, expires = row.uid, row.expires_at
            ttl = min(CACHE_SECONDS, (expires - int(now * 1000)) // 1000)
            if ttl > 0:
                self.client.set(self.keys.session(token_hash), f"{uid}:{expires}", ex=ttl)
        self._remember(token_hash, uid, now + LOCAL_SECONDS if expires is None else min(now + LOCAL_SECONDS,
                                                                                      expires / 1000))
        return uid

    def _remember(self, token_hash: str, uid: int, until: float) -> None:
        if len(self._local) >= LOCAL_MOST:
            now = time.time()
            self._local = {k: v for k, v in self._local.items() if v[1] > now}
        self._local[token_hash] = (uid, until)

    def forget(self, token_hash: str | None = None) -> None:
        """Drop this process's copy of a session (another process ended it), or of all (notices were lost)."""
        if token_hash is None:
            self._local = {}
        else:
            self._local.pop(token_hash, None)

    def purge_expired(self) -> int:
        """Delete every session past its expiry, looked up or not; return how many."""
        return self.Session.delete().where(self.Session.expires_at <= int(time.time() * 1000)).execute()

    def delete(self, token_hash: str) -> None:
        """End a session: the row, the Redis copy and this process's copy (other processes: forget)."""
        self.Session.delete().where(self.Session.token_hash == token_hash).execute()
        self.client.delete(self.keys.session(token_hash))
        self.forget(token_hash)
