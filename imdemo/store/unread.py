"""Store layer: unread counts taken from the database, the truth: a conversation marked read (its read mark
moved, what is still unread counted and set in Redis), and a user's counters rebuilt. Each runs with the
user's row locked, so no message to them lands between the count and setting the counter; where the read
mark lives, and what a count must guard against, is the conversation's kind's to say (direct.py, groups.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import peewee

from .conversation import Conversation
from .counters import UnreadCounters
from .database import hold_every_user, write_transaction
from .errors import UnknownUser
from .large_counters import LargeCounters
from .read_diffusion import ReadDiffusion

log = logging.getLogger(__name__)
SQL = {
    "lock_user": "UPDATE im_user SET seq = seq WHERE uid = ? RETURNING seq",
}


@dataclass(frozen=True)
class Read:
    """What marking a conversation read did."""

    read_mid: int  # the read mark now
    unread: int  # still unread in the conversation
    total: int  # the reader's total unread
    moved: bool  # whether the read mark moved
    before: int  # the read mark before


class UnreadCounts:
    """Read marks and the counts that follow from them."""

    def __init__(self, db: peewee.Database, counters: UnreadCounters, kinds: dict, large: LargeCounters,
                 read_diffusion: ReadDiffusion):
        self.db, self.counters, self.kinds, self.large = db, counters, kinds, large
        self.read_diffusion = read_diffusion  # the large groups' rows: what each member has accounted for
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}

    def _one(self, name: str, *params):
        return self.db.execute_sql(self.sql[name], params).fetchone()

    def mark_read(self, uid: int, conversation: Conversation, up_to: int | None) -> Read:
        """Move uid's read mark of a conversation forward to up_to (default: its newest message) and set what is
        still unread there. UnknownUser for an unknown reader; the kind's refusal for a conversation uid is
        not in (NotAMember)."""
        counted = False
        try:
            with write_transaction(self.db, many_rows=False):
                if self._one("lock_user", uid) is None:
                    raise UnknownUser(uid)
                read = self._mark(uid, conversation, up_to)
                counted = True
            return read
        except Exception:
            if counted:  # the commit itself failed after the counter was set
                self.recount_after_failure(uid)
            raise

    def _mark(self, uid: int, conversation: Conversation, up_to: int | None) -> Read:
        kind = self.kinds[conversation.kind]
        mark = kind.read_mark(uid, conversation)
        if mark is None:  # a conversation without a message yet
            kind.set_unread(uid, conversation, 0, 0)
            return Read(0, 0, self.total(uid), False, 0)
        newest, before = mark
        target = newest if up_to is None else min(up_to, newest)
        read_mid = max(before, target)
        if read_mid > before:
            kind.set_read_mark(uid, conversation, read_mid, newest)
        unread = kind.count_unread(uid, conversation, read_mid)
        total = kind.set_unread(uid, conversation, unread, newest)  # the last step before the commit
        return Read(read_mid, unread, self.total(uid, total), read_mid > before, before)

    def total(self, uid: int, in_t: int | None = None) -> int:
        """uid's total unread: the course's {uid}_T (in_t, when a script just answered it) and every large
        group's N - L (large_counters.py)."""
        if in_t is None:
            in_t = self.counters.read(uid)[0]
        return in_t + sum(self.large.unread(uid).values())

    def recount(self, uid: int, conversation: Conversation, changed_mid: int) -> tuple[int, int] | None:
        """Inside a commit holding uid's row: a message at changed_mid no longer counts (recalled); unless uid
        had read past it, count what uid has unread in the conversation from the rows and set it in Redis
        (merged changes on their way skip what the count covered). Return (unread, total), or None."""
        kind = self.kinds[conversation.kind]
        mark = kind.read_mark(uid, conversation)
        if mark is None or mark[1] >= changed_mid:
            return None
        newest, read_mid = mark
        unread = kind.count_unread(uid, conversation, read_mid)
        return unread, self.total(uid, kind.set_unread(uid, conversation, unread, newest))

    def rebuild(self, uid: int) -> None:
        """Recount uid's unread messages from the database into Redis, the row locked against sends."""
        with write_transaction(self.db):
            if self._one("lock_user", uid) is None:
                return
            counts = [row for kind in self.kinds.values() for row in kind.unread_of(uid)]
            guards = (self.kinds[c.kind].covered(c, newest) for c, _, newest in counts)
            self.counters.replace(uid, {c.unread_field: n for c, n, _ in counts}, dict(g for g in guards if g))
            self.large.replace(uid, self.read_diffusion.accounted_of(uid))

    def rebuild_everyone(self, uids: list[int]) -> None:
        """rebuild() of every user at once, from a few set-based statements, with every user's row held for
        the moment it takes (a start: 10,000 users in a second instead of ten)."""
        with write_transaction(self.db):
            hold_every_user(self.db)
            counts: dict[int, dict[str, int]] = {}
            covered: dict[int, dict[int, int]] = {}
            for kind in self.kinds.values():
                for uid, conversation, n, newest in kind.unread_of_everyone():
                    counts.setdefault(uid, {})[conversation.unread_field] = n
                    if (guard := kind.covered(conversation, newest)) is not None:
                        covered.setdefault(guard[0], {})[uid] = guard[1]
            accounted: dict[int, dict[int, int]] = {}
            for uid, gid, value in self.read_diffusion.accounted_of_everyone():
                accounted.setdefault(uid, {})[gid] = value
            self.counters.replace_everyone(uids, counts, covered)
            self.large.replace_everyone(uids, accounted)

    def rebuild_groups(self) -> None:
        """Set every large group's N and Q from the database."""
        for gid, counted, gseq in self.read_diffusion.groups():
            self.large.set_group(gid, counted, gseq)

    def recount_after_failure(self, uid: int) -> None:
        """A transaction failed, maybe after its unread script ran (the commit itself can fail): Redis may be
        ahead of the database, so recount uid from the database. A process that dies at that moment is
        recounted at its next start instead (create_app reconciles every user)."""
        try:
            self.rebuild(uid)
        except Exception:  # the store is down: the next start, or --reconcile, repairs it
            log.warning("could not recount %s after a failed transaction", uid, exc_info=True)
