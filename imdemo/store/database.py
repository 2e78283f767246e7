"""Store layer: open the database named by a URL and run write transactions on it."""
from __future__ import annotations

import contextlib
import functools
import threading
from urllib.parse import urlsplit

import peewee
from playhouse import db_url

from .schema import upgrade

SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1, "busy_timeout": 5000}
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
def write_transaction(db: peewee.Database):
    """Run the block in a transaction for read-then-write work.

    SQLite must take its single write lock at BEGIN (IMMEDIATE), or two deferred transactions that read
    and then write fail with 'database is locked'. The threads of this process first queue on a lock of
    their own: SQLite's busy handler would make them sleep and retry (1, 2, 5, 10 ms...), which is what
    the tail latency under load was made of. PostgreSQL locks rows as they are updated.
    """
    if not is_sqlite(db):
        with db.atomic():
            yield
        return
    with db.imdemo_writer_lock, db.atomic("IMMEDIATE"):
        yield


def release(db: peewee.Database) -> None:
    """Give this thread's connection back to the pool (after a request, before a long wait)."""
    if not db.in_transaction():
        with contextlib.suppress(peewee.PeeweeException):
            db.close()
