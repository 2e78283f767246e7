"""Store layer: the unread counts of large groups (read diffusion), with no write per member per message.

A large group counts its messages that count as unread (text, pictures, files; not its changes: `g{gid}_N`,
the database's im_group.counted) and keeps its newest gseq (`g{gid}_Q`, so an idle poll reads none of its
messages, only the member's join bounds: one statement a large group, bench/reader_side.py); each member
keeps, in the hash `{uid}_L`, how many of them they have accounted for: read, sent themselves, or sent
before they joined. What a member has unread is N - L: one subtraction, whatever the number of members
(lecture 20's read diffusion: the group keeps the sequence, each member a cursor). A message moves N only; a
member's own send, read, join or leave moves their L. Both only ever rise (a read or a send accounts for
more), so two processes' updates landing in either order keep the larger, which is the right one. The
database stays the truth: store/reconcile.py sets them again from it at every start.
"""
from __future__ import annotations

import redis

from .keyvalue import Keys

# KEYS: N, Q, then the L hash of each sender. ARGV: gid, counted messages, gseq, then each sender's accounted count.
COMMITTED = """
local function raise(key, value)
  if tonumber(redis.call('GET', key) or '-1') < tonumber(value) then redis.call('SET', key, value) end
end
raise(KEYS[1], ARGV[2])
raise(KEYS[2], ARGV[3])
for i = 3, #KEYS do
  if tonumber(redis.call('HGET', KEYS[i], ARGV[1]) or '-1') < tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[i], ARGV[1], ARGV[i + 1])
  end
end
return 1
"""

# KEYS: the member's L hash. ARGV: gid, accounted count. Raise (a read or a join), or set when ARGV[3] says so.
ACCOUNT = """
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
if ARGV[3] == 'set' or old < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""

# KEYS: the member's L hash. ARGV: the prefix of the keys. Returns gid, N - L (never below 0) of each group.
UNREAD = """
local flat = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #flat, 2 do
  local n = tonumber(redis.call('GET', ARGV[1] .. 'g' .. flat[i] .. '_N') or '0') - tonumber(flat[i + 1])
  out[#out + 1] = flat[i]
  out[#out + 1] = n > 0 and n or 0
end
return out
"""


class LargeCounters:
    """N and Q of each large group, L of each of its members."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys
        self._committed = client.register_script(COMMITTED)
        self._account = client.register_script(ACCOUNT)
        self._unread = client.register_script(UNREAD)

    def scripts(self) -> dict:
        """The Lua scripts by name, for the inspector's trace."""
        return {"large.committed": self._committed, "large.account": self._account, "large.unread": self._unread}

    def committed(self, gid: int, counted: int, gseq: int, senders: dict[int, int]) -> None:
        """After a commit: the group's counted messages and newest gseq, and each sender's accounted count (a send
        accounts for everything before it)."""
        k = self.keys
        self._committed(keys=[k.large_counted(gid), k.group_newest(gid), *(k.large_accounted(u) for u in senders)],
                        args=[gid, counted, gseq, *senders.values()])

    def account(self, uid: int, gid: int, accounted: int, exactly: bool = False) -> None:
        """Raise (or, exactly, set) how many of gid's counted messages uid has accounted for."""
        self._account(keys=[self.keys.large_accounted(uid)], args=[gid, accounted, "set" if exactly else "raise"])

    def account_many(self, gid: int, accounted: dict[int, int]) -> None:
        """Raise each {uid: accounted count} of gid (a recall's: it no longer counts for those who had it unread),
        pipelined in chunks."""
        items = list(accounted.items())
        for at in range(0, len(items), 1000):
            with self.client.pipeline(transaction=False) as pipe:
                for uid, value in items[at:at + 1000]:
                    self._account(keys=[self.keys.large_accounted(uid)], args=[gid, value, "raise"], client=pipe)
                pipe.execute()

    def forget(self, uid: int, gid: int) -> None:
        """uid left gid: it counts nothing for them any more."""
        self.client.hdel(self.keys.large_accounted(uid), gid)

    def unread(self, uid: int) -> dict[int, int]:
        """{gid: what uid has unread} for each of uid's large groups."""
        flat = self._unread(keys=[self.keys.large_accounted(uid)], args=[self.keys.prefix])
        return {int(flat[i]): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    def set_group(self, gid: int, counted: int, gseq: int) -> None:
        """Set a group's N and Q from the database (a rebuild)."""
        self.client.mset({self.keys.large_counted(gid): counted, self.keys.group_newest(gid): gseq})

    def replace(self, uid: int, accounted: dict[int, int]) -> None:
        """Set uid's L from the database (a rebuild): {gid: accounted count}."""
        key = self.keys.large_accounted(uid)
        with self.client.pipeline() as pipe:
            pipe.delete(key)
            if accounted:
                pipe.hset(key, mapping=accounted)
            pipe.execute()

    def replace_everyone(self, uids: list[int], accounted: dict[int, dict[int, int]]) -> None:
        """replace() for every user at once (a rebuild before serving), pipelined in chunks."""
        for at in range(0, len(uids), 1000):
            part = uids[at:at + 1000]
            with self.client.pipeline(transaction=False) as pipe:
                pipe.delete(*(self.keys.large_accounted(uid) for uid in part))
                for uid in part:
                    if accounted.get(uid):
                        pipe.hset(self.keys.large_accounted(uid), mapping=accounted[uid])
                pipe.execute()

    def newest(self, gid: int) -> int | None:
        """The group's newest gseq, or None when the store has lost it."""
        value = self.client.get(self.keys.group_newest(gid))
        return None if value is None else int(value)
