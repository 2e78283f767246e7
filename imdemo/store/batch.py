"""Store layer: the writes of one group commit, inside the transaction MessageStore opened: answer repeated
client_msg_ids, lock the groups the messages go to, take every user's seqs, write each message through the
TimelineWriter, then count them unread with one script as the last step before the commit.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from .counters import UnreadCounters
from .errors import NotAMember, UnknownGroup
from .message_rows import Draft, Message, Stored, unread_field
from .timeline import TimelineWriter


class Batch:
    """One group commit's writes, step by step."""

    def __init__(self, writer: TimelineWriter, counters: UnreadCounters,
                 find_by_client_id: Callable[[int, str], Message | None], count_groups: bool = True):
        self.writer, self.counters, self.find_by_client_id = writer, counters, find_by_client_id
        self.count_groups = count_groups  # False: a group's messages are counted later, merged (UnreadMerger)

    def write(self, drafts: list[Draft], counted: set[int]) -> list[Stored | Exception]:
        """Write the drafts; return each one's outcome (Stored, or the exception that refused it) and add to
        counted the users whose counters the unread script moved, once it has run."""
        outcomes, new, seen = self._dedupe(drafts)
        groups = self._lock_groups(drafts, new)  # gid -> [last gseq, members, newest mid]
        reach = self._reach(drafts, new, groups, outcomes)  # index -> the uids whose timelines it reaches
        new = [i for i in new if i in reach]
        wanted: dict[int, int] = {}
        for i in new:
            for uid in reach[i]:
                wanted[uid] = wanted.get(uid, 0) + 1
        last = self.writer.take_seqs(wanted) if wanted else {}  # every row locked, in ascending uid order
        seq = {uid: last[uid] - wanted[uid] for uid in last}  # each user's seq before this group
        now = int(time.time() * 1000)
        made = []
        for i in new:
            d, seqs = drafts[i], {}
            for uid in reach[i]:
                seq[uid] += 1
                seqs[uid] = seq[uid]
            made.append((i, self._write(d, seqs, now, groups), seqs))
        for gid, (gseq, _, newest) in groups.items():
            if newest:
                self.writer.advance_group(gid, gseq, newest)
        if made:  # the last step before the commit
            counted.update(self._count(made, last, outcomes))
        for i, d in enumerate(drafts):  # repeats of a send within this group get its first outcome
            if outcomes[i] is None:
                first = outcomes[seen[(d.sender, d.client_msg_id)]]
                outcomes[i] = Stored(first.message, created=False) if isinstance(first, Stored) else first
        return outcomes

    def _dedupe(self, drafts: list[Draft]) -> tuple[list, list[int], dict[tuple[int, str], int]]:
        """Answer the drafts whose client_msg_id was stored before; return (outcomes so far, the indexes of
        the drafts to write, and the index of each (sender, client_msg_id)'s first draft in this group)."""
        outcomes: list = [None] * len(drafts)
        new: list[int] = []
        seen: dict[tuple[int, str], int] = {}
        for i, d in enumerate(drafts):
            if d.client_msg_id is not None:
                key = (d.sender, d.client_msg_id)
                if key in seen:
                    continue  # the same send twice in one group: answered by the first below
                seen[key] = i
                if existing := self.find_by_client_id(d.sender, d.client_msg_id):
                    outcomes[i] = Stored(existing, created=False)
                    continue
            new.append(i)
        return outcomes, new, seen

    def _lock_groups(self, drafts: list[Draft], new: list[int]) -> dict[int, list]:
        """Lock the rows of the groups the drafts go to, in ascending gid order and before any user's row;
        return gid -> [last gseq, current members, newest mid written here (0: none yet)]."""
        gids = sorted({-drafts[i].recipient for i in new if drafts[i].recipient < 0})
        return {gid: [*state, 0] for gid in gids if (state := self.writer.lock_group(gid)) is not None}

    def _reach(self, drafts: list[Draft], new: list[int], groups: dict[int, list],
               outcomes: list) -> dict[int, tuple[int, ...]]:
        """Whose timelines each new draft reaches: both parties of a 1:1 message, every current member of a
        group. A draft from someone who is not a member gets its refusal as its outcome."""
        reach = {}
        for i in new:
            d = drafts[i]
            if d.recipient > 0:
                reach[i] = (d.sender, d.recipient)
                continue
            gid = -d.recipient
            members = groups[gid][1] if gid in groups else ()
            if d.sender in members:
                reach[i] = tuple(members)
            elif gid in groups and self.writer.was_member(gid, d.sender):
                outcomes[i] = NotAMember(gid, d.sender, former=True)
            else:
                outcomes[i] = UnknownGroup(gid)
        return reach

    def _write(self, d: Draft, seqs: dict[int, int], now: int, groups: dict[int, list]) -> Message:
        """Write one message: its content row, then its rows in each timeline it reaches."""
        if d.recipient > 0:
            mid = self.writer.insert(d, now)
            self.writer.index_direct(mid, d.sender, d.recipient, (seqs[d.sender], seqs[d.recipient]), now)
            return Message(mid, d.sender, d.recipient, d.content, d.client_msg_id, now)
        group = groups[-d.recipient]
        group[0] += 1  # the group's next gseq, taken under its row lock
        mid = group[2] = self.writer.insert(d, now, group[0])
        self.writer.index_group(mid, d, seqs, now)
        gseq = group[0]
        return Message(mid, d.sender, d.recipient, d.content, d.client_msg_id, now, d.kind, gseq, d.event)

    def _count(self, made: list, last: dict[int, int], outcomes: list) -> set[int]:
        """Count the new messages unread for their recipients, with one script for the whole group commit,
        and cache each user's newest seq. A 1:1 message counts once for its recipient (its counts after it
        go in its unread hint); a group's messages count once per member but the sender, summed over the
        group commit, so a member of a busy group is moved once, not once per message."""
        increments, per_member = [], {}
        for _, m, seqs in made:
            if m.recipient > 0:
                increments.append((str(m.sender), m.recipient, 1))
                continue
            if not self.count_groups:
                continue
            field = unread_field(m.recipient)
            for uid in seqs:
                if uid != m.sender:
                    per_member[(uid, field)] = per_member.get((uid, field), 0) + 1
        direct = len(increments)
        increments += [(field, uid, n) for (uid, field), n in per_member.items()]
        counts, ready = self.counters.on_messages(increments, last)
        counts = iter(counts[:direct])
        for i, m, seqs in made:
            total, conversation = next(counts) if m.recipient > 0 else (0, 0)
            outcomes[i] = Stored(m, True, seqs, total, conversation, ready)
        return {uid for _, uid, _ in increments}
