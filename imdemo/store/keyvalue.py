"""Store layer: the Redis client, a real server's or the in-process fakeredis, and the key names."""
from __future__ import annotations

import redis


def connect_redis(url: str) -> redis.Redis:
    """Return a client for url, or for a new in-process store when url is empty."""
    if not url:
        import fakeredis  # only the embedded default needs it

        return fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
    client = redis.Redis.from_url(url, decode_responses=True, health_check_interval=30)
    client.ping()  # fail at start with a clear error rather than on the first request
    return client


class Keys:
    """The names of every key and channel, behind one optional prefix."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix

    def total_unread(self, uid: int) -> str:
        """The course's `{uid}_T`: total unread of uid."""
        return f"{self.prefix}{uid}_T"

    def conversation_unread(self, uid: int) -> str:
        """The course's `{uid}_C`: a hash of other uid -> unread in that conversation."""
        return f"{self.prefix}{uid}_C"

    def group_counted(self, gid: int) -> str:
        """A hash of member uid -> the newest mid of the group their unread count was last taken from the
        database up to (a read, a rebuild): merged changes skip what it covered."""
        return f"{self.prefix}g{gid}_W"

    def large_counted(self, gid: int) -> str:
        """A large group's messages that count as unread so far (read diffusion's N)."""
        return f"{self.prefix}g{gid}_N"

    def group_newest(self, gid: int) -> str:
        """A large group's newest gseq, so an idle poll reads none of its messages."""
        return f"{self.prefix}g{gid}_Q"

    def large_accounted(self, uid: int) -> str:
        """A hash of gid -> how many of that large group's text messages uid has accounted for (L: read, sent,
        or before they joined); what uid has unread there is N - L."""
        return f"{self.prefix}{uid}_L"

    def last_seq(self, uid: int) -> str:
        """The newest seq of uid's timeline, so an idle poll needs no SQL."""
        return f"{self.prefix}{uid}_S"

    def acked_seq(self, uid: int) -> str:
        """The highest seq uid's clients have confirmed, for delivered receipts."""
        return f"{self.prefix}{uid}_A"

    def hints(self, uid: int) -> str:
        """A short stream of uid's recent hints (read, delivered, unread), for clients between two polls."""
        return f"{self.prefix}{uid}_H"

    @property
    def counters_ready(self) -> str:
        """Present once the counters were rebuilt from the database; gone after a flush."""
        return f"{self.prefix}imdemo:counters_ready"

    def session(self, token_hash: str) -> str:
        return f"{self.prefix}session:{token_hash}"

    def attempts(self, kind: str, who: str) -> str:
        return f"{self.prefix}attempts:{kind}:{who}"

    def trace(self, trace_id: str) -> str:
        """A short-lived list of one message's steps in every process (the inspector's trace, message_trace.py)."""
        return f"{self.prefix}imdemo:trace:{trace_id}"

    @property
    def notices(self) -> str:
        """The pub/sub channel that carries every user's notices, `[[uid, notice], ...]` a message."""
        return f"{self.prefix}notices"
