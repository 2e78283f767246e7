"""Store layer: open the database named by a URL and run write transactions on it."""
from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from urllib.parse import urlsplit

import peewee
from playhouse import db_url

from .schema import upgrade

# wal_autocheckpoint (pages; SQLite's default 1,000): a 500-member group message adds a row for 500 owners to
# each of the relation table's four b-trees, so its commit writes more than 1,000 pages and the default
# checkpointed after nearly every commit; every 10,000 pages, a page written by several commits is copied back
# once (bench/storm.py: the commit 3.2 -> 2.3 ms a message). The WAL grows to about 40 MB between checkpoints.
SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1, "busy_timeout": 5000,
                  "wal_autocheckpoint": 10_000}
# Page cache (KiB) of a connection while it writes, and at rest (SQLite's default, 2 MiB). Such a message
# touches about 6 MB of index pages, each several times in one group commit: in 2 MiB they are read back
# again and again (its rows 7.0 -> 3 ms a message with 16 MiB). Only while writing: SQLite has one writer at
# a time, while every pooled connection that kept 16 MiB of pages would hold them for good (RSS 180 -> 360 MB
# after the storm).
WRITE_CACHE_KIB, REST_CACHE_KIB = 16 * 1024, 2000
SCHEMA_LOCK = 0x1D3E40  # any constant: the advisory lock that serializes schema creation and upgrades
DRIVERS = {"postgresql": "psycopg2-binary", "postgres": "psycopg2-binary"}


def open_database(url: str, max_connections: int = 32) -> peewee.Database:
    """Connect to sqlite:// or postgresql:// through a pool, and create the tables."""
    scheme = urlsplit(url).scheme.split("+")[0]
    if scheme not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:///path or postgresql://...")
    kwargs = {"max_connections": max_connections, "timeout": 30, "stale_timeout": 300}
    if scheme == "sqlite":
        kwargs["pragmas"] = SQLITE_PRAGMAS
        kwargs["check_same_thread"] = False  # a pooled connection moves between threads
    try:
        db = db_url.connect(url.replace(scheme + "://", scheme + "+pool://", 1), **kwargs)
        db.imdemo_writer_lock = threading.RLock()  # see write_transaction
        db.execute_many = functools.partial(execute_many, db)  # on the instance, as execute_sql: the trace wraps it
        with db.connection_context():
            _create_schema(db)
    except (ImportError, peewee.ImproperlyConfigured) as e:  # what peewee raises when the driver is missing
        raise RuntimeError(f"{scheme} needs its driver: pip install {DRIVERS.get(scheme, scheme)}") from e
    return db


def _create_schema(db: peewee.Database) -> None:
    """Create or upgrade the tables; on PostgreSQL under an advisory lock, as two processes may start at once."""
    if is_sqlite(db):
        upgrade(db)
        return
    with db.atomic():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        upgrade(db)


def execute_many(db: peewee.Database, sql: str, rows: list[tuple]):
    """Run one statement once for each row of parameters (DB-API executemany) on this thread's connection;
    return the cursor. On SQLite the statement is prepared once and stepped per row: for a 500-member group
    message that is 6 ms against 10 for one 3,000-parameter INSERT (bench/README, the storm). PostgreSQL's
    driver makes it a round trip a row: send those rows as one multi-row statement instead."""
    cursor = db.cursor()
    cursor.executemany(sql, rows)
    return cursor


def is_sqlite(db: peewee.Database) -> bool:
    """Tell whether db is SQLite, whose transactions must take the write lock up front."""
    return isinstance(db, peewee.SqliteDatabase)


@contextlib.contextmanager
def write_transaction(db: peewee.Database, many_rows: bool = True):
    """Run the block in a transaction for read-then-write work. many_rows: it may write many rows (a big
    group's message): the connection's page cache is big while it writes (WRITE_CACHE_KIB); a transaction that
    writes a handful of rows (a 1:1 commit, a read mark) says False and spares the two PRAGMAs.

    SQLite must take its single write lock at BEGIN (IMMEDIATE), or two deferred transactions that read
    and then write fail with 'database is locked'. The threads of this process first queue on a lock of
    their own: SQLite's busy handler would make them sleep and retry (1, 2, 5, 10 ms...), which is what
    the tail latency under load was made of. PostgreSQL locks rows as they are updated.
    """
    if not is_sqlite(db):
        with db.atomic():
            yield
        return
    with db.imdemo_writer_lock:
        if db.in_transaction():  # a nested block: the outermost one sized the cache
            with db.atomic("IMMEDIATE"):
                yield
            return
        if not many_rows:
            with db.atomic("IMMEDIATE"):
                yield
            return
        _cache(db, WRITE_CACHE_KIB)
        try:
            with db.atomic("IMMEDIATE"):
                yield
        finally:
            _cache(db, REST_CACHE_KIB)


def hold_every_user(db: peewee.Database) -> None:
    """Inside a write transaction: keep every user's row from changing until it ends (no message lands
    meanwhile). SQLite's write lock already holds the whole database; PostgreSQL locks the table against the
    sends' row updates (a SHARE lock: reads go on)."""
    if not is_sqlite(db):
        db.execute_sql("LOCK TABLE im_user IN SHARE MODE")


def _cache(db: peewee.Database, kib: int) -> None:
    """Size this connection's page cache (shrinking it frees the pages). On the driver's connection itself: a
    tuning step, not one of the store's statements the inspector shows."""
    with contextlib.suppress(peewee.PeeweeException, sqlite3.Error):  # a broken connection: its error comes next
        db.connection().execute(f"PRAGMA cache_size = -{kib}")


def release(db: peewee.Database) -> None:
    """Give this thread's connection back to the pool (after a request, before a long wait)."""
    if not db.in_transaction():
        with contextlib.suppress(peewee.PeeweeException):
            db.close()
