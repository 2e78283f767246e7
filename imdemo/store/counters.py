"""Store layer: the course's unread counters `{uid}_T` and `{uid}_C`, changed only by Lua scripts.

Each script changes the total and the conversation together, so total == sum of conversations at
every instant, on fakeredis and on a real Redis alike.
"""
from __future__ import annotations

import redis

from .keyvalue import Keys

# The new messages of a group commit. KEYS: the ready marker; then T and C of each increment's recipient;
# then the S key of each user involved. ARGV: the number of increments n; each one's field of C and amount;
# each S key's new value. The seqs are plain SETs: they were taken under every user's row lock in the still
# open transaction, so no newer seq of any of them can exist yet. Returns total and conversation after each
# increment, then whether the store is ready.
ON_MESSAGE = """
local n = tonumber(ARGV[1])
local out = {}
for i = 1, n do
  local by = tonumber(ARGV[2 * i + 1])
  out[2 * i - 1] = redis.call('INCRBY', KEYS[2 * i], by)
  out[2 * i] = redis.call('HINCRBY', KEYS[2 * i + 1], ARGV[2 * i], by)
end
if #KEYS > 2 * n + 1 then
  local seqs = {}
  for j = 2 * n + 2, #KEYS do
    seqs[#seqs + 1] = KEYS[j]
    seqs[#seqs + 1] = ARGV[j]
  end
  redis.call('MSET', unpack(seqs))
end
out[2 * n + 1] = redis.call('EXISTS', KEYS[1])
return out
"""

# KEYS: T, C, ready marker. ARGV: the conversation's field, what is still unread there.
SET_CONVERSATION = """
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local new = tonumber(ARGV[2])
if new > 0 then redis.call('HSET', KEYS[2], ARGV[1], new) else redis.call('HDEL', KEYS[2], ARGV[1]) end
local total = tonumber(redis.call('GET', KEYS[1]) or '0') + new - old
if total < 0 then total = 0 end
redis.call('SET', KEYS[1], total)
return {total, redis.call('EXISTS', KEYS[3])}
"""

# KEYS: T, C. ARGV: field, count, field, count, ...
REPLACE = """
redis.call('DEL', KEYS[2])
local total = 0
for i = 1, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  total = total + tonumber(ARGV[i + 1])
end
redis.call('SET', KEYS[1], total)
return total
"""

# KEYS: T, C, ready marker.
READ = """
return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]), redis.call('EXISTS', KEYS[3])}
"""

# KEYS: one key. ARGV: a number. Keep the larger of the two.
RAISE_TO = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]); return cur end
return -1
"""


class UnreadCounters:
    """The unread counts of every user, kept in Redis."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys
        self._on_message = client.register_script(ON_MESSAGE)
        self._set_conversation = client.register_script(SET_CONVERSATION)
        self._replace = client.register_script(REPLACE)
        self._read = client.register_script(READ)
        self._raise_to = client.register_script(RAISE_TO)

    def scripts(self) -> dict:
        """The Lua scripts by name, for the inspector's trace."""
        return {"unread.on_message": self._on_message, "unread.set_conversation": self._set_conversation,
                "unread.replace": self._replace, "unread.read": self._read, "seq.raise_to": self._raise_to}

    def on_messages(self, increments: list[tuple[str, int, int]],
                    seqs: dict[int, int]) -> tuple[list[tuple[int, int]], bool]:
        """Count unread messages, each increment (field of C, recipient, amount), and cache each user's newest
        seq, all in one script.

        Return the recipient's (total, conversation) after each increment, and whether the store is ready.
        """
        k = self.keys
        keys, args = [k.counters_ready], [len(increments)]
        for field, recipient, amount in increments:
            keys += (k.total_unread(recipient), k.conversation_unread(recipient))
            args += (field, amount)
        keys += [k.last_seq(uid) for uid in seqs]
        result = self._on_message(keys=keys, args=[*args, *seqs.values()])
        counts = [(int(result[i]), int(result[i + 1])) for i in range(0, 2 * len(increments), 2)]
        return counts, bool(result[-1])

    def set_conversation(self, uid: int, field: str, unread: int) -> tuple[int, bool]:
        """Set what uid has unread in a conversation (its field of C); move the total by the difference.
        Return (total, ready)."""
        k = self.keys
        keys = [k.total_unread(uid), k.conversation_unread(uid), k.counters_ready]
        total, ready = self._set_conversation(keys=keys, args=[field, unread])
        return int(total), bool(ready)

    def replace(self, uid: int, by_conversation: dict[str, int]) -> None:
        """Overwrite uid's counters with counts taken from the database."""
        args = [x for other, n in by_conversation.items() if n > 0 for x in (other, n)]
        self._replace(keys=[self.keys.total_unread(uid), self.keys.conversation_unread(uid)], args=args)

    def read(self, uid: int) -> tuple[int, dict[str, int], bool]:
        """Return (total, {field: unread}, store_ready) for uid in one round trip."""
        k = self.keys
        total, flat, ready = self._read(keys=[k.total_unread(uid), k.conversation_unread(uid), k.counters_ready])
        conversations = {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)}
        return int(total), conversations, bool(ready)

    def is_ready(self) -> bool:
        return bool(self.client.exists(self.keys.counters_ready))

    def mark_ready(self) -> None:
        self.client.set(self.keys.counters_ready, 1)

    def last_seq(self, uid: int) -> int | None:
        """The cached newest seq of uid, or None when the store has lost it."""
        value = self.client.get(self.keys.last_seq(uid))
        return None if value is None else int(value)

    def remember_last_seq(self, uid: int, seq: int) -> None:
        """Cache a seq read from the database, briefly: a commit may be landing just now."""
        self.client.set(self.keys.last_seq(uid), seq, ex=10, nx=True)

    def advance_acked(self, uid: int, seq: int) -> int | None:
        """Raise uid's acknowledged seq to seq; return the previous value, or None if it did not move."""
        previous = int(self._raise_to(keys=[self.keys.acked_seq(uid)], args=[seq]))
        return None if previous < 0 else previous
