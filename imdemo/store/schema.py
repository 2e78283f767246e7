"""Store layer: create the schema, or upgrade an older one in place.

Every change to the models is additive: new tables, new columns that are nullable or have a default, new
indexes. So an upgrade is "add what the models have and the database lacks": an imdemo.db made by any
earlier version opens, gains the new tables, columns and indexes, and keeps every row. No version
numbers to keep in step; a test builds a database with the previous version's schema and opens it.
"""
from __future__ import annotations

import logging

import peewee
from playhouse.migrate import SchemaMigrator, migrate

from .models import declare_models
from .search_schema import create_search_index

log = logging.getLogger(__name__)


def upgrade(db: peewee.Database) -> list[str]:
    """Bring db's schema up to the models: add missing columns, then missing tables and indexes. Return
    what was added, as "table.column" (new tables and indexes are created silently)."""
    models = declare_models(db).all
    existing = set(db.get_tables())
    added = []
    migrator = SchemaMigrator.from_database(db)
    for model in models:
        table = model._meta.table_name
        if table not in existing:
            continue
        have = {column.name for column in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name not in have:
                migrate(migrator.add_column(table, field.column_name, field))
                added.append(f"{table}.{field.column_name}")
    db.create_tables(models, safe=True)  # new tables, and the indexes of old ones that lack them
    create_search_index(db)  # not a model: SQLite's FTS5 table or PostgreSQL's tsvector (search_schema.py)
    if added:
        log.info("schema upgraded in place: added %s", ", ".join(added))
    return added
