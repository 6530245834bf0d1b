"""The only place that knows SQL dialects: set-based upserts.

The statement is built without values and executed with a list of rows,
so SQLAlchemy compiles it once and batches the rows into multi-row
INSERTs: "insertmanyvalues" on PostgreSQL (which psycopg2 only gets with a
RETURNING clause; without one it silently goes row by row), PyMySQL's own
executemany rewriting on MySQL, and sqlite3's executemany.
"""

from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

_ROWS_PER_CALL = 1000


def _on_conflict_insert(module, returning):
    def build(table, keys, update):
        stmt = module.insert(table)
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                set_={c: stmt.excluded[c] for c in update})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.returning(table.c[keys[0]]) if returning else stmt
    return build


def _mysql_insert(table, keys, update):
    stmt = mysql.insert(table)
    # With nothing to update, re-assigning a key column is MySQL's
    # "do nothing" (INSERT IGNORE would also hide real errors).
    columns = update or keys[:1]
    return stmt.on_duplicate_key_update(
        {c: stmt.inserted[c] for c in columns})


_BUILDERS = {
    'postgresql': _on_conflict_insert(postgresql, returning=True),
    'sqlite': _on_conflict_insert(sqlite, returning=False),
    'mysql': _mysql_insert,
    'mariadb': _mysql_insert,
}


def upsert(connection, table, rows, keys, update=()):
    """Insert rows; on a key conflict update ``update`` columns (or keep
    the existing row when ``update`` is empty)."""
    stmt = _BUILDERS[connection.dialect.name](table, list(keys),
                                              list(update))
    for start in range(0, len(rows), _ROWS_PER_CALL):
        connection.execute(stmt, rows[start:start + _ROWS_PER_CALL]).close()
