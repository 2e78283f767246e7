"""Store layer: the writes of one commit, inside the transaction the writer opened (writer.py).

Messages: answer repeated client_msg_ids, lock the conversations they go to (a group's row, before any
user's), find whose timelines each reaches, take every one of those users' seqs at once (their rows locked,
in ascending uid order), write each message through its kind of conversation (direct.py, groups.py), and
count them unread with one script as the last step before the commit. A recall, an edit or a mention has its
services' rule checked on what the commit locked, and its rows changed, by signals.py, whose recounts after a
recall come last. A group change (group_changes.py)
is a commit of its own: its rules run on the locked group and its system messages are written by the same
steps. Nothing here asks what kind a conversation is: each kind is asked for its part.
"""
from __future__ import annotations

import time

import peewee

from .conversation import GROUP, Conversation
from .counters import UnreadCounters
from .errors import NotAMember, UnknownGroup
from .group_changes import ChangingGroup, GroupChange
from .message import MESSAGE_COLUMNS, NEVER_UNREAD, Draft, Message, Stored
from .rows import Rows
from .search import SearchIndex
from .signals import Refused, Signals

FIND = f"SELECT {MESSAGE_COLUMNS} FROM im_msg_content c WHERE c.sender_id = ? AND c.client_msg_id = ?"


class Commit:
    """One commit's writes, step by step."""

    def __init__(self, db: peewee.Database, rows: Rows, kinds: dict, counters: UnreadCounters, signals: Signals,
                 search: SearchIndex | None = None):
        self.db, self.rows, self.kinds, self.counters = db, rows, kinds, counters
        self.signals, self.search = signals, search
        self.find_sql = FIND.replace("?", db.param)
        self.after: list = []  # (kind, its locked state) of the commit being written: committed() once it is in

    def committed(self) -> None:
        """Once the commit is in: what each kind keeps outside the database (a large group's counts)."""
        after, self.after = self.after, []
        for kind, state in after:
            kind.committed(state)

    def rolled_back(self) -> None:
        self.after = []

    def find_by_client_id(self, sender: int, client_msg_id: str) -> Message | None:
        row = self.db.execute_sql(self.find_sql, (sender, client_msg_id)).fetchone()
        return Message.from_row(row) if row else None

    def messages(self, drafts: list[Draft], counted: set[int]) -> list[Stored | Exception]:
        """Write the drafts; return each one's outcome (Stored, or the exception that refused it) and add to
        counted the users whose counters the unread script moved, once it has run."""
        outcomes, new, seen = self._dedupe(drafts)
        locked = self._lock({drafts[i].conversation for i in new})
        batch = self.signals.batch([drafts[i] for i in new])  # the targets of recalls and edits, locked
        reach = {}
        for i in new:
            d = drafts[i]
            try:
                reach[i] = self.kinds[d.conversation.kind].reach(d, locked[d.conversation])
                if d.rule is not None:
                    reach[i] = batch.check(d, reach[i], locked[d.conversation])
            except (NotAMember, UnknownGroup) as refused:
                outcomes[i] = refused
            except Refused as refused:
                outcomes[i] = refused.args[0]
                reach.pop(i, None)
        wanted: dict[int, int] = {}
        for uids in reach.values():
            for uid in uids:
                wanted[uid] = wanted.get(uid, 0) + 1
        last = self.rows.take_seqs(wanted) if wanted else {}  # every row locked, in ascending uid order
        seq = {uid: last[uid] - wanted[uid] for uid in last}  # each user's seq before this commit
        now, made = int(time.time() * 1000), []
        for i, uids in reach.items():
            seqs = {}
            for uid in uids:
                seq[uid] += 1
                seqs[uid] = seq[uid]
            d = drafts[i]
            kind, state = self.kinds[d.conversation.kind], locked[d.conversation]
            message = batch.wrote(i, d, kind.write(d, seqs, now, state), state)
            made.append((i, message, seqs, kind.own_timeline(state)))
        for conversation, state in locked.items():
            self.kinds[conversation.kind].finish(state)
            self.after.append((self.kinds[conversation.kind], state))
        if self.search is not None:  # the text messages' tokens, in the same transaction (search.py)
            self.search.add([m for _, m, _, _ in made])
        if made:  # the last steps before the commit
            counted.update(self._count(made, last, outcomes))
            batch.settle(outcomes, counted)
        for i, d in enumerate(drafts):  # repeats of a send within this commit get its first outcome
            if outcomes[i] is None:
                first = outcomes[seen[(d.sender, d.client_msg_id)]]
                outcomes[i] = Stored(first.message, created=False) if isinstance(first, Stored) else first
        return outcomes

    def change(self, change: GroupChange, counted: set[int]) -> tuple[object, list[Stored]]:
        """Make a group change: lock the group (or insert a new one), check that the actor is a current member,
        run its rules and changes; return its result and the system messages it wrote."""
        groups = self.kinds[GROUP]
        if change.gid is None:
            row, locked = ChangingGroup.insert(self.db, change.actor, change.name, change.large)
            members = []
        else:
            locked = groups.lock(Conversation.group(change.gid))
            row = groups.group(change.gid) if locked is not None else None
            if row is None:
                raise UnknownGroup(change.gid)
            members = groups.members(change.gid)
            if change.actor not in {m.uid for m in members}:
                raise NotAMember(change.gid, change.actor, groups.was_member(change.gid, change.actor) is not None)
        group = ChangingGroup(groups, row, members, locked, self._post, counted)
        result = change.apply(group)
        groups.finish(locked)
        self.after.append((groups, locked))
        return result, group.written

    def _post(self, draft: Draft, audience: list[int], locked) -> Stored:
        """Write one system message to audience: their seqs, its rows; cache each one's newest seq."""
        kind = self.kinds[draft.conversation.kind]
        seqs = self.rows.take_seqs({uid: 1 for uid in audience}) if audience else {}
        own = kind.own_timeline(locked)
        message = kind.write(draft, seqs, int(time.time() * 1000), locked)
        if seqs:
            self.counters.on_messages([], seqs)  # no unread (a system message never is); the idle polls' seqs
        return Stored(message, True, seqs, own_timeline=own)

    def _dedupe(self, drafts: list[Draft]) -> tuple[list, list[int], dict[tuple[int, str], int]]:
        """Answer the drafts whose client_msg_id was stored before; return (outcomes so far, the indexes of
        the drafts to write, and the index of each (sender, client_msg_id)'s first draft in this commit)."""
        outcomes: list = [None] * len(drafts)
        new: list[int] = []
        seen: dict[tuple[int, str], int] = {}
        for i, d in enumerate(drafts):
            if d.client_msg_id is not None:
                key = (d.sender, d.client_msg_id)
                if key in seen:
                    continue  # the same send twice in one commit: answered by the first below
                seen[key] = i
                if existing := self.find_by_client_id(d.sender, d.client_msg_id):
                    outcomes[i] = Stored(existing, created=False)
                    continue
            new.append(i)
        return outcomes, new, seen

    def _lock(self, conversations: set[Conversation]) -> dict[Conversation, object]:
        """Lock what each conversation's kind locks, in one order every commit keeps (by kind, then ascending
        id), all before any user's row: two commits never wait on each other in a cycle."""
        return {c: self.kinds[c.kind].lock(c) for c in sorted(conversations, key=lambda c: (c.kind, c.id))}

    def _count(self, made: list, last: dict[int, int], outcomes: list) -> set[int]:
        """Count the new messages unread for everyone they reached but their senders, with one script for the
        whole commit, and cache each user's newest seq. A kind counts each message alone ("each": a 1:1
        message's recipient counts after it ride in its notice), summed over the commit ("summed": a member
        of a busy group is moved once, not once per message), or not here ("merged" after the commit)."""
        singles, summed = [], {}
        for n, (_, m, seqs, _) in enumerate(made):
            mode = self.kinds[m.conversation.kind].unread
            if m.kind in NEVER_UNREAD or mode == "merged":
                continue
            for uid in seqs:
                if uid == m.sender:
                    continue
                key = (m.conversation_of(uid).unread_field, uid)
                if mode == "each":
                    singles.append((n, (*key, 1)))
                else:
                    summed[key] = summed.get(key, 0) + 1
        increments = [increment for _, increment in singles] + [(f, u, k) for (f, u), k in summed.items()]
        # nothing to count nor any seq to cache (a large group's messages only): no script at all
        counts, ready = self.counters.on_messages(increments, last) if increments or last else ([], True)
        after = {n: counts[j] for j, (n, _) in enumerate(singles)}
        for n, (i, m, seqs, own) in enumerate(made):
            total, conversation = after.get(n, (0, 0))
            outcomes[i] = Stored(m, True, seqs, total, conversation, ready, own)
        return {uid for _, uid, _ in increments}
