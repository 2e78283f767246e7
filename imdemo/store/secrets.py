"""Store layer: secrets shared by every process of one app (im_secret): made once, by whichever process asks
first, and read by the others, so a file link signed by one process is good on every other."""
from __future__ import annotations

import secrets

import peewee

from .database import write_transaction

SQL = {
    "make": "INSERT INTO im_secret (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
    "read": "SELECT value FROM im_secret WHERE name = ?",
}


def shared_secret(db: peewee.Database, name: str) -> bytes:
    """The app's secret called name: 32 random bytes, the same for every process on this database."""
    sql = {k: v.replace("?", db.param) for k, v in SQL.items()}
    with write_transaction(db, many_rows=False):
        db.execute_sql(sql["make"], (name, secrets.token_hex(32)))
    return bytes.fromhex(db.execute_sql(sql["read"], (name,)).fetchone()[0])
