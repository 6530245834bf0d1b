"""The only place that knows SQL dialects: set-based upserts.

One multi-row ``INSERT .. ON CONFLICT`` / ``ON DUPLICATE KEY UPDATE`` per
chunk: a single statement and round trip, instead of the row-by-row
executemany that some driver/dialect pairs fall back to silently.
"""

from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

# Keeps every statement under SQLite's and PostgreSQL's bound-parameter
# limits (32766 and 65535) for tables of up to 30 columns.
_ROWS_PER_STATEMENT = 1000


def _on_conflict_insert(module):
    def build(table, rows, keys, update):
        stmt = module.insert(table).values(rows)
        if not update:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: stmt.excluded[c] for c in update})
    return build


def _mysql_insert(table, rows, keys, update):
    stmt = mysql.insert(table).values(rows)
    # With nothing to update, re-assigning a key column is MySQL's
    # portable "do nothing" (INSERT IGNORE would also hide real errors).
    columns = update or keys[:1]
    return stmt.on_duplicate_key_update(
        {c: stmt.inserted[c] for c in columns})


_BUILDERS = {
    'postgresql': _on_conflict_insert(postgresql),
    'sqlite': _on_conflict_insert(sqlite),
    'mysql': _mysql_insert,
    'mariadb': _mysql_insert,
}


def upsert(connection, table, rows, keys, update=()):
    """Insert rows; on a key conflict update ``update`` columns (or keep
    the existing row when ``update`` is empty)."""
    build = _BUILDERS[connection.dialect.name]
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start:start + _ROWS_PER_STATEMENT]
        connection.execute(build(table, chunk, list(keys), list(update)))
