"""Store layer: the course's unread counters `{uid}_T` and `{uid}_C`, changed only by Lua scripts.

Each script changes the total and the conversation together, so total == sum of conversations at
every instant, on fakeredis and on a real Redis alike.
"""
from __future__ import annotations

import redis

from .keyvalue import Keys

INLINE_SEQS = 16  # users whose newest seq is cached by the unread script itself

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

# KEYS: T, C, ready marker, and for a group the group's W hash. ARGV: the conversation's field, what is
# still unread there, and for a group the uid and the newest mid that count covered (see MERGE).
SET_CONVERSATION = """
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local new = tonumber(ARGV[2])
if new > 0 then redis.call('HSET', KEYS[2], ARGV[1], new) else redis.call('HDEL', KEYS[2], ARGV[1]) end
local total = tonumber(redis.call('GET', KEYS[1]) or '0') + new - old
if total < 0 then total = 0 end
redis.call('SET', KEYS[1], total)
if KEYS[4] then redis.call('HSET', KEYS[4], ARGV[3], ARGV[4]) end
return {total, redis.call('EXISTS', KEYS[3])}
"""

# KEYS: T, C, then the W hash of each of uid's groups. ARGV: the number of fields n; each field and its
# count; uid; the newest mid of each group that the counts covered.
REPLACE = """
redis.call('DEL', KEYS[2])
local n = tonumber(ARGV[1])
local total = 0
for i = 1, n do
  local count = tonumber(ARGV[2 * i + 1])
  if count > 0 then redis.call('HSET', KEYS[2], ARGV[2 * i], count) end
  total = total + count
end
redis.call('SET', KEYS[1], total)
for j = 3, #KEYS do redis.call('HSET', KEYS[j], ARGV[2 * n + 2], ARGV[2 * n + j]) end
return total
"""

# Merged unread changes (lecture 20): the messages a group received during a window, counted for each
# member at once. KEYS: the ready marker; the group's W hash; then T and C of each member. ARGV: the
# group's field; the number of messages k; their mids; their senders; then each member's uid. W holds, for
# each member whose count was last set from the database (a read, a rebuild), the newest mid that count
# covered: a message at or below it is counted already and is skipped, so a merged change landing after a
# recount never counts a message twice. Returns whether the store is ready.
MERGE = """
local field, k = ARGV[1], tonumber(ARGV[2])
local counted = {}
local flat = redis.call('HGETALL', KEYS[2])
for i = 1, #flat, 2 do counted[flat[i]] = tonumber(flat[i + 1]) end
for j = 1, (#KEYS - 2) / 2 do
  local uid = ARGV[2 + 2 * k + j]
  local after, n = counted[uid] or 0, 0
  for i = 1, k do
    if tonumber(ARGV[2 + i]) > after and ARGV[2 + k + i] ~= uid then n = n + 1 end
  end
  if n > 0 then
    redis.call('INCRBY', KEYS[1 + 2 * j], n)
    redis.call('HINCRBY', KEYS[2 + 2 * j], field, n)
  end
end
return redis.call('EXISTS', KEYS[1])
"""

# KEYS: T, C, ready marker.
READ = """
return {redis.call('GET', KEYS[1]) or '0', redis.call('HGETALL', KEYS[2]), redis.call('EXISTS', KEYS[3])}
"""

class UnreadCounters:
    """The unread counts of every user, kept in Redis."""

    def __init__(self, client: redis.Redis, keys: Keys):
        self.client, self.keys = client, keys
        self._on_message = client.register_script(ON_MESSAGE)
        self._set_conversation = client.register_script(SET_CONVERSATION)
        self._replace = client.register_script(REPLACE)
        self._read = client.register_script(READ)
        self._merge = client.register_script(MERGE)

    def scripts(self) -> dict:
        """The Lua scripts by name, for the inspector's trace."""
        return {"unread.on_message": self._on_message, "unread.set_conversation": self._set_conversation,
                "unread.replace": self._replace, "unread.read": self._read,
                "unread.merge": self._merge}

    def on_messages(self, increments: list[tuple[str, int, int]],
                    seqs: dict[int, int]) -> tuple[list[tuple[int, int]], bool]:
        """Count unread messages, each increment (field of C, recipient, amount), and cache each user's newest
        seq, all in one script.

        Return the recipient's (total, conversation) after each increment, and whether the store is ready.
        The seqs of a few users ride in the script (one round trip); those of many (a big group) go in one
        MSET beside it, which costs a third of what passing them through Lua does.
        """
        k = self.keys
        keys, args = [k.counters_ready], [len(increments)]
        for field, recipient, amount in increments:
            keys += (k.total_unread(recipient), k.conversation_unread(recipient))
            args += (field, amount)
        if len(seqs) > INLINE_SEQS:
            self.client.mset({k.last_seq(uid): seq for uid, seq in seqs.items()})
            seqs = {}
        keys += [k.last_seq(uid) for uid in seqs]
        result = self._on_message(keys=keys, args=[*args, *seqs.values()])
        counts = [(int(result[i]), int(result[i + 1])) for i in range(0, 2 * len(increments), 2)]
        return counts, bool(result[-1])

    def set_conversation(self, uid: int, field: str, unread: int, covered: tuple[int, int] | None = None
                         ) -> tuple[int, bool]:
        """Set what uid has unread in a conversation (its field of C), counted from the database; move the
        total by the difference. covered: for a group, (gid, the newest mid the count covered), so merged
        changes still on their way skip what it counted. Return (total, ready)."""
        k = self.keys
        keys, args = [k.total_unread(uid), k.conversation_unread(uid), k.counters_ready], [field, unread]
        if covered is not None:
            keys.append(k.group_counted(covered[0]))
            args += (uid, covered[1])
        total, ready = self._set_conversation(keys=keys, args=args)
        return int(total), bool(ready)

    def replace(self, uid: int, by_conversation: dict[str, int], covered: dict[int, int]) -> None:
        """Overwrite uid's counters with counts taken from the database; covered: gid -> the newest mid of
        the group the count covered (for merged changes on their way, as set_conversation)."""
        args = [len(by_conversation), *(x for field, n in by_conversation.items() for x in (field, n)), uid,
                *covered.values()]
        keys = [self.keys.total_unread(uid), self.keys.conversation_unread(uid),
                *(self.keys.group_counted(gid) for gid in covered)]
        self._replace(keys=keys, args=args)

    def replace_everyone(self, uids: list[int], counts: dict[int, dict[str, int]],
                         covered: dict[int, dict[int, int]]) -> None:
        """replace() for every user at once (a rebuild before serving, every user's row held): counts, {uid:
        {field: unread}}; covered, {gid: {uid: newest mid the count covered}}. Pipelined plain commands, in
        chunks: one script per user would cost a round trip each."""
        k = self.keys
        for part in _chunks(uids):
            with self.client.pipeline(transaction=False) as pipe:
                pipe.delete(*(k.conversation_unread(uid) for uid in part))
                pipe.mset({k.total_unread(uid): sum(counts.get(uid, {}).values()) for uid in part})
                for uid in part:
                    fields = {f: n for f, n in counts.get(uid, {}).items() if n > 0}
                    if fields:
                        pipe.hset(k.conversation_unread(uid), mapping=fields)
                pipe.execute()
        with self.client.pipeline(transaction=False) as pipe:
            for gid, marks in covered.items():
                pipe.hset(k.group_counted(gid), mapping=marks)
            pipe.execute()

    def merge(self, gid: int, field: str, messages: list[tuple[int, int]], members: list[int]) -> bool:
        """Count a group's messages [(mid, sender)] unread for its members at once (each skips its own and
        what a recount covered); return whether the store is ready."""
        k = self.keys
        keys = [k.counters_ready, k.group_counted(gid)]
        for uid in members:
            keys += (k.total_unread(uid), k.conversation_unread(uid))
        args = [field, len(messages), *(mid for mid, _ in messages), *(sender for _, sender in messages), *members]
        return bool(self._merge(keys=keys, args=args))

    def counted(self, gid: int) -> dict[int, int]:
        """{uid: the newest mid of group gid that uid's count, last set from the database, covered} (W)."""
        return {int(uid): int(mid) for uid, mid in self.client.hgetall(self.keys.group_counted(gid)).items()}

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
        """Raise uid's acknowledged seq to seq; return the previous value, or None if it did not move.

        One SET ... GET, not a script: the acked seq only spares an idle poll its SQL, and the delivered marks
        it leads to only move forward (set_delivered), so two clients of one user racing here at worst read
        a few rows twice. A client behind another one puts the further value back."""
        key = self.keys.acked_seq(uid)
        previous = int(self.client.set(key, seq, get=True) or 0)
        if previous > seq:
            self.client.set(key, previous)
        return previous if previous < seq else None


def _chunks(items: list, size: int = 1000) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]
