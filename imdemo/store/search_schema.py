"""Store layer: create the search index (search.py) where it is missing: in a new database, and in one written
by a version before search, whose text messages are then indexed once, as the upgrade opens it."""
from __future__ import annotations

import logging
import time

import peewee

from .conversation import Conversation
from .search import KINDS, SearchIndex

log = logging.getLogger(__name__)
BATCH = 5000  # messages read and indexed at a time while an old database is indexed
DDL = {
    # columnsize=0: no per-row token counts (they serve ranking by relevance; results come newest first)
    "sqlite": ["CREATE VIRTUAL TABLE im_msg_search USING fts5(tokens, tokenize = 'ascii', columnsize = 0)"],
    "postgres": ["CREATE TABLE im_msg_search (mid BIGINT PRIMARY KEY, tokens TSVECTOR NOT NULL)",
                 "CREATE INDEX im_msg_search_tokens ON im_msg_search USING GIN (tokens)"],
}


def create_search_index(db: peewee.Database) -> bool:
    """Create the index if the database lacks it and index every text message already stored, in one
    transaction (PostgreSQL: the caller's, under its schema lock); return whether it was created."""
    if "im_msg_search" in db.get_tables():
        return False
    sqlite = isinstance(db, peewee.SqliteDatabase)
    started = time.monotonic()
    with db.atomic("IMMEDIATE") if sqlite else db.atomic():  # SQLite: two processes starting at once wait here
        if "im_msg_search" in db.get_tables():
            return False
        for statement in DDL["sqlite" if sqlite else "postgres"]:
            db.execute_sql(statement)
        indexed = _index_existing(db)
    if indexed:
        log.info("search index: %d messages indexed in %.1f s", indexed, time.monotonic() - started)
    return True


def _index_existing(db: peewee.Database) -> int:
    index, after, count = SearchIndex(db), 0, 0
    select = (f"SELECT mid, content, sender_id, recipient_id FROM im_msg_content WHERE mid > ?"
              f" AND msg_type IN ({KINDS}) ORDER BY mid LIMIT {BATCH}").replace("?", db.param)
    while rows := db.execute_sql(select, (after,)).fetchall():
        index.add_texts([(int(mid), content, Conversation.of_peer(int(peer)).shared_name(int(sender)))
                         for mid, content, sender, peer in rows])
        after, count = int(rows[-1][0]), count + len(rows)
    return count
