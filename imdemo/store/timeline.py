"""Store layer: the writes every message makes, inside a transaction its caller opened: take the next seqs
of the users it reaches (their rows locked), insert its content row once, and index it in each timeline
it reaches (im_msg_relation): two rows for a 1:1 message (plus the two contact rows), one per member for a
group's. Sends (messages.py) and a group's membership changes (groups.py) both write through here.
"""
from __future__ import annotations

from collections import defaultdict

import peewee

from .database import is_sqlite
from .errors import UnknownUser
from .message_rows import NOTICE, RECEIVED, SENT, SQL, SYSTEM, Draft

CHUNK = 500  # rows or uids per statement: well inside every database's limit of bound parameters
INSERT_RELATION = "INSERT INTO im_msg_relation (owner_uid, other_uid, mid, type, seq, create_time)"


class TimelineWriter:
    """The shared write steps of one transaction."""

    def __init__(self, db: peewee.Database):
        self.db = db
        self.param = db.param
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}
        # SQLite's BEGIN IMMEDIATE holds the whole database: any order of row updates is safe there.
        # PostgreSQL locks rows as it updates them: take them in ascending uid order first, as every
        # transaction does, so two processes' transactions never wait on each other in a cycle.
        self.sqlite = is_sqlite(db)
        self.lock_first = not self.sqlite

    def _params(self, n: int, width: int) -> str:
        row = "(" + ", ".join([self.param] * width) + ")"
        return ", ".join([row] * n)

    def take_seqs(self, wanted: dict[int, int]) -> dict[int, int]:
        """Add wanted[uid] to each user's seq (rows locked until the commit); return each one's new last
        seq. Raise UnknownUser for a uid without a row (the caller's transaction rolls back)."""
        uids = sorted(wanted)
        if self.lock_first:
            for part in _chunks(uids):
                marks = ", ".join([self.param] * len(part))
                self.db.execute_sql(f"SELECT uid FROM im_user WHERE uid IN ({marks}) ORDER BY uid FOR UPDATE", part)
        by_amount = defaultdict(list)  # most users of a group commit take the same number of seqs
        for uid in uids:
            by_amount[wanted[uid]].append(uid)
        last = {}
        for amount, group in by_amount.items():
            for part in _chunks(group):
                marks = ", ".join([self.param] * len(part))
                rows = self.db.execute_sql(f"UPDATE im_user SET seq = seq + {self.param} WHERE uid IN ({marks})"
                                           " RETURNING uid, seq", [amount, *part]).fetchall()
                last.update((int(uid), int(seq)) for uid, seq in rows)
        if len(last) < len(uids):
            raise UnknownUser(min(set(uids) - set(last)))
        return last

    def lock_group(self, gid: int) -> tuple[int, list[int]] | None:
        """Lock a group's row (its gseq is taken under this lock, so gseq order is commit order) and return
        (its last gseq, its current members in uid order); None when there is no such group (or it is gone)."""
        row = self.db.execute_sql(self.sql["lock_group"], (gid,)).fetchone()
        if row is None:
            return None
        members = [int(uid) for (uid,) in self.db.execute_sql(self.sql["group_members"], (gid,)).fetchall()]
        return int(row[0]), members

    def advance_group(self, gid: int, gseq: int, last_mid: int) -> None:
        """Record the group's newest message and the last gseq taken (its row is locked)."""
        self.db.execute_sql(self.sql["advance_group"], (gseq, last_mid, gid))

    def was_member(self, gid: int, uid: int) -> bool:
        """Tell whether uid has a membership row of gid (current or past)."""
        return self.db.execute_sql(self.sql["membership"], (gid, uid)).fetchone() is not None

    def insert(self, draft: Draft, now: int, gseq: int | None = None) -> int:
        """Insert the content row, stored once; return its mid."""
        row = self.db.execute_sql(self.sql["insert_content"], (
            draft.content, draft.sender, draft.recipient, draft.kind, draft.client_msg_id, now, gseq,
            draft.event)).fetchone()
        return int(row[0])

    def index_direct(self, mid: int, sender: int, recipient: int, seqs: tuple[int, int], now: int) -> None:
        """Index a 1:1 message in both timelines and move both contact rows to it."""
        self.db.execute_sql(self.sql["insert_relations"], (
            sender, recipient, mid, seqs[0], now, recipient, sender, mid, seqs[1], now))
        self.db.execute_sql(self.sql["upsert_contacts"], (
            sender, recipient, mid, now, now, recipient, sender, mid, now, now))

    def index_group(self, mid: int, draft: Draft, seqs: dict[int, int], now: int) -> None:
        """Index a group message in the timeline of each member it reaches (write diffusion)."""
        def kind(uid: int) -> int:
            return NOTICE if draft.kind == SYSTEM else SENT if uid == draft.sender else RECEIVED
        rows = [(uid, draft.recipient, mid, kind(uid), seq, now) for uid, seq in seqs.items()]
        if self.sqlite:  # in process: one prepared row stepped per member costs less than one long statement
            self.db.execute_many(f"{INSERT_RELATION} VALUES {self._params(1, 6)}", rows)
            return
        for part in _chunks(rows):  # over the network: a chunk of rows a round trip
            self.db.execute_sql(f"{INSERT_RELATION} VALUES {self._params(len(part), 6)}",
                                [x for row in part for x in row])


def _chunks(items: list) -> list[list]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
