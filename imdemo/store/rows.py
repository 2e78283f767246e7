"""Store layer: the rows every message writes, inside the transaction of its commit: the next seqs of the
users it reaches (their rows locked), its content row (stored once), and its rows in the timelines it reaches
(im_msg_relation, the course's index table). What else a kind of conversation writes (a 1:1 chat's contact
rows, a group's gseq) is in its own module, direct.py or groups.py.
"""
from __future__ import annotations

from collections import defaultdict

import peewee

from .database import is_sqlite
from .errors import UnknownUser
from .message import NEVER_UNREAD, Draft

# im_msg_relation.type: a system message or a signal is a notice, never unread; a received message since
# recalled is RECALLED, so every count of RECEIVED rows leaves it out (signals.py)
SENT, RECEIVED, NOTICE, RECALLED = 0, 1, 2, 3
CHUNK = 500  # rows or uids per statement: well inside every database's limit of bound parameters
INSERT_RELATION = "INSERT INTO im_msg_relation (owner_uid, other_uid, mid, type, seq, create_time)"
SQL = {
    "insert_content": "INSERT INTO im_msg_content (content, sender_id, recipient_id, msg_type, client_msg_id,"
                      " create_time, gseq, event, fid, attachment, target_mid, mentions)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING mid",
}


class Rows:
    """The write steps every message shares."""

    def __init__(self, db: peewee.Database):
        self.db, self.param = db, db.param
        self.sql = {name: text.replace("?", db.param) for name, text in SQL.items()}
        # SQLite's BEGIN IMMEDIATE holds the whole database: any order of row updates is safe there.
        # PostgreSQL locks rows as it updates them: take them in ascending uid order first, as every
        # transaction does, so two processes' transactions never wait on each other in a cycle.
        self.sqlite = is_sqlite(db)
        self.lock_first = not self.sqlite

    def _marks(self, n: int, width: int = 1) -> str:
        row = "(" + ", ".join([self.param] * width) + ")" if width > 1 else self.param
        return ", ".join([row] * n)

    def take_seqs(self, wanted: dict[int, int]) -> dict[int, int]:
        """Add wanted[uid] to each user's seq (rows locked until the commit); return each one's new last
        seq. Raise UnknownUser for a uid without a row (the caller's transaction rolls back)."""
        uids = sorted(wanted)
        if self.lock_first:
            for part in _chunks(uids):
                self.db.execute_sql(f"SELECT uid FROM im_user WHERE uid IN ({self._marks(len(part))}) ORDER BY uid"
                                    " FOR UPDATE", part)
        by_amount = defaultdict(list)  # most users of a group commit take the same number of seqs
        for uid in uids:
            by_amount[wanted[uid]].append(uid)
        last = {}
        for amount, group in by_amount.items():
            for part in _chunks(group):
                rows = self.db.execute_sql(f"UPDATE im_user SET seq = seq + {self.param} WHERE uid IN"
                                           f" ({self._marks(len(part))}) RETURNING uid, seq", [amount, *part])
                last.update((int(uid), int(seq)) for uid, seq in rows.fetchall())
        if len(last) < len(uids):
            raise UnknownUser(min(set(uids) - set(last)))
        return last

    def insert_content(self, draft: Draft, now: int, gseq: int | None = None) -> int:
        """Insert the content row, stored once; return its mid."""
        row = self.db.execute_sql(self.sql["insert_content"], (
            draft.content, draft.sender, draft.conversation.peer, draft.kind, draft.client_msg_id, now, gseq,
            draft.event, draft.fid, draft.attachment, draft.target, draft.mentions)).fetchone()
        return int(row[0])

    def index(self, mid: int, draft: Draft, seqs: dict[int, int], now: int) -> None:
        """Index a message in the timeline of each user it reaches (write diffusion), each row with that
        user's seq. (A 1:1 message writes its two rows in one statement of its own, direct.py.)"""
        peer = draft.conversation.peer
        rows = [(uid, peer, mid, _relation_type(draft, uid), seq, now) for uid, seq in seqs.items()]
        if self.sqlite:  # in process: one prepared row stepped per member costs less than one long statement
            self.db.execute_many(f"{INSERT_RELATION} VALUES {self._marks(1, 6)}", rows)
            return
        for part in _chunks(rows):  # over the network: a chunk of rows a round trip
            self.db.execute_sql(f"{INSERT_RELATION} VALUES {self._marks(len(part), 6)}",
                                [x for row in part for x in row])


def _relation_type(draft: Draft, uid: int) -> int:
    return NOTICE if draft.kind in NEVER_UNREAD else SENT if uid == draft.sender else RECEIVED


def _chunks(items: list) -> list[list]:
    return [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
