"""A store's own SQL, kept beside the store that runs it: statements written with `?` for a parameter, run in
the database's own style (`?` on SQLite, `%s` on PostgreSQL)."""
from __future__ import annotations

import peewee


class Statements:
    """One store's named statements; `self.sql["name"]` is a statement's text, `one`/`all` run it."""

    def __init__(self, db: peewee.Database, *tables: dict[str, str]):
        self.db = db
        self.text: dict[str, str] = {}
        for table in tables:
            self.add(table)

    def add(self, table: dict[str, str]) -> None:
        """More statements (a store that extends another brings its own)."""
        self.text.update({name: text.replace("?", self.db.param) for name, text in table.items()})

    def __getitem__(self, name: str) -> str:
        return self.text[name]

    def one(self, name: str, *params):
        return self.db.execute_sql(self.text[name], params).fetchone()

    def all(self, name: str, *params) -> list:
        return self.db.execute_sql(self.text[name], params).fetchall()


def names_holding(table: str) -> str:
    """The SQL condition that a user row (of table alias table) has a username or nickname holding a text: it
    takes holding(text) twice."""
    return f"(LOWER({table}.username) LIKE ? ESCAPE '\\' OR LOWER({table}.nickname) LIKE ? ESCAPE '\\')"


def holding(text: str) -> str:
    """A LIKE pattern (with ESCAPE '\\') for the values that hold text in any case, given lowered ones: its %, _
    and \\ are themselves, not wildcards."""
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
