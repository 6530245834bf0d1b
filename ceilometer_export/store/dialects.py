"""Every difference between the SQL backends the store writes, one table
per dialect (as ``stats/dialects.py`` is for the readers): default
drivers, column types, the writers' lock, the SQL of "start of the hour",
how a page of samples is encoded and upserted, how inserted samples are
added to the rollup, and "insert if missing". The writers' statements are
in ``writers``.

A page of samples is written with each backend's fastest safe statement:

- PostgreSQL: COPY into a temporary table, then ONE ``INSERT .. SELECT ..
  ON CONFLICT DO UPDATE`` that skips identical rows and, through a CTE over
  the same snapshot, returns the old (meter, timestamp) of the rows it
  changed; the metadata JSON is passed through as text. Inserted samples
  are added to their rollup rows by ONE statement (UPDATE .. FROM
  unnest(arrays), then INSERT of the groups it did not find).
- MySQL/MariaDB: a pre-read of the stored rows (FOR UPDATE), then
  PyMySQL's multi-row ``INSERT .. ON DUPLICATE KEY UPDATE``; the rollup
  rows of the groups are read (FOR UPDATE), then one multi-row upsert on
  their id adds to them or inserts them.
- SQLite: the same, with ``INSERT .. ON CONFLICT DO UPDATE``
  (``executemany``; one transaction: the page's).
"""

import dataclasses
import typing

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from ceilometer_export.store import writers

# Namespace of the PostgreSQL advisory locks of writers ("cexp").
_PG_LOCK_CLASS = 0x63657870

# Identifiers (message ids, resource ids, metadata keys) are case-sensitive
# in the API; MySQL's default collations are not, and would merge them.
MYSQL_TABLE_OPTIONS = {'mysql_charset': 'utf8mb4',
                       'mysql_collate': 'utf8mb4_bin'}


def timestamp_type():
    """Naive UTC with microseconds on every backend."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql',
                                      'mariadb')


def json_type():
    return sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


# Writers' locks -----------------------------------------------------------
def _lock_pg(conn, meters):
    # READ COMMITTED: two writers refreshing one bucket would each miss
    # the other's uncommitted rows and insert duplicates. One lock per
    # meter, in a fixed order (no deadlock), held until commit; one
    # statement (unnest yields the array in its order).
    conn.exec_driver_sql(
        'SELECT count(pg_advisory_xact_lock(%s, hashtext(m))) '
        'FROM unnest(%s::text[]) AS m', (_PG_LOCK_CLASS, sorted(meters)))


def _lock_sqlite(conn, meters):
    # pysqlite begins the transaction lazily at the first write; BEGIN
    # IMMEDIATE-like: writing now takes SQLite's write lock before the old
    # rows are read, so no other writer can change them in between.
    conn.exec_driver_sql('DELETE FROM samples_hourly WHERE 0')


def _lock_mysql(conn, meters):
    # InnoDB (REPEATABLE READ): the pre-read of old rows is FOR UPDATE and
    # the rollup DELETE takes next-key locks on the buckets.
    pass


# Start of the hour, as SQL over a compiled column expression --------------
def _hour_sqlite(column):
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'.
    return "strftime('%%Y-%%m-%%d %%H:00:00.000000', %s)" % column


def _hour_pg(column):
    return "date_trunc('hour', %s)" % column


def _hour_mysql(column):
    # Arithmetic instead of DATE_FORMAT: no '%' to escape for the driver.
    epoch = "TIMESTAMP '1970-01-01 00:00:00'"
    return 'TIMESTAMPADD(HOUR, TIMESTAMPDIFF(HOUR, %s, %s), %s)' % (
        epoch, column, epoch)


# DB-API values ------------------------------------------------------------
def _sqlite_timestamp(value):
    # Exactly SQLAlchemy's storage format: SQLite compares it as text.
    return None if value is None else value.strftime('%Y-%m-%d %H:%M:%S.%f')


def native(value):
    """DB-API values as they are (the driver converts them)."""
    return value


# Insert if missing (dimension sets) --------------------------------------
def _insert_missing_on_conflict(module):
    def build(table):
        return module.insert(table).on_conflict_do_nothing()
    return build


def _insert_missing_mysql(table):
    stmt = mysql.insert(table)
    # Re-assigning the key is MySQL's "do nothing" (INSERT IGNORE would
    # also hide real errors such as a truncated value).
    first = table.primary_key.columns.values()[0].name
    return stmt.on_duplicate_key_update({first: stmt.inserted[first]})


def _insert_sets(conn, table, sets):
    """Generic: the dialect's insert-if-missing statement, executemany."""
    insert_missing(conn, table, [
        {'set_id': set_id, 'key': key, 'value': value}
        for set_id, pairs in sets.items() for key, value in pairs])


def _insert_sets_pg(conn, table, sets):
    # One statement over three arrays: no per-row parameter processing.
    rows = [(set_id, key, value) for set_id, pairs in sets.items()
            for key, value in pairs]
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        'INSERT INTO %s (set_id, %s, value) SELECT * FROM unnest(%%s::text[], '
        '%%s::text[], %%s::text[]) ON CONFLICT DO NOTHING'
        % (table.name, quote('key')), tuple(map(writers.pg_array, zip(*rows))))


@dataclasses.dataclass(frozen=True)
class Dialect:
    driver: str                 # the DB-API driver of a URL without one
    url_query: dict             # URL parameters added when missing
    lock: typing.Callable       # (conn, meters): serialize page writers
    hour: typing.Callable       # (column SQL) -> SQL of its hour's start
    encode_timestamp: typing.Callable
    encode_page: typing.Callable    # [row tuples] -> writer payload
    write_samples: typing.Callable  # (conn, table, page) -> changes
    # (conn, samples_hourly, [group tuples]): add inserted samples
    add_to_rollup: typing.Callable
    insert_missing: typing.Callable  # (table) -> INSERT .. do nothing
    # (conn, dimensions, {set_id: pairs}): insert_missing of their rows,
    # the backend's fastest way
    insert_sets: typing.Callable = _insert_sets


_MYSQL = Dialect(
    driver='mysql+pymysql', url_query={'charset': 'utf8mb4'},
    lock=_lock_mysql, hour=_hour_mysql, encode_timestamp=native,
    encode_page=list,
    write_samples=writers.executemany_writer(writers.on_duplicate,
                                             writers.mysql_rows),
    add_to_rollup=writers.mysql_rollup_adder(native),
    insert_missing=_insert_missing_mysql)

DIALECTS = {
    'postgresql': Dialect(
        driver='postgresql+psycopg2', url_query={}, lock=_lock_pg,
        hour=_hour_pg, encode_timestamp=native,
        encode_page=writers.copy_text, write_samples=writers.write_pg,
        add_to_rollup=writers.add_rollup_pg,
        insert_missing=_insert_missing_on_conflict(postgresql),
        insert_sets=_insert_sets_pg),
    'sqlite': Dialect(
        driver='sqlite', url_query={}, lock=_lock_sqlite, hour=_hour_sqlite,
        encode_timestamp=_sqlite_timestamp, encode_page=list,
        write_samples=writers.executemany_writer(writers.on_conflict),
        add_to_rollup=writers.sqlite_rollup_adder(_sqlite_timestamp),
        insert_missing=_insert_missing_on_conflict(sqlite)),
    'mysql': _MYSQL,
    'mariadb': dataclasses.replace(_MYSQL, driver='mariadb+pymysql'),
}


def of(name: str) -> Dialect:
    """The table of a backend name (``url.get_backend_name()`` or
    ``connection.dialect.name``)."""
    return DIALECTS[name]


def insert_missing(conn, table, rows) -> None:
    """Insert the rows whose key is not stored yet; keep the others."""
    stmt = of(conn.dialect.name).insert_missing(table)
    for start in range(0, len(rows), writers.ROWS_PER_CALL):
        conn.execute(stmt, rows[start:start + writers.ROWS_PER_CALL]).close()


def insert_dimensions(conn, table, sets) -> None:
    """The ``dimensions`` rows of {set_id: ((key, value), ..)}, each
    inserted unless stored."""
    of(conn.dialect.name).insert_sets(conn, table, sets)


# The single worker's lock (no [coordination]; see store/worker_lock.py) ---
# Session-level, on a dedicated connection: the server drops it when that
# connection dies (the process killed, the server restarted). SQLite has
# no entry: a file lock beside the database stands in for it.
# PostgreSQL: the one-bigint key space, apart from the writers' two-int
# locks above; advisory locks belong to one database.
_PG_WORKER_KEY = (_PG_LOCK_CLASS << 32) | 1
_PG_WORKER_WHERE = (
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.classid = %d AND l.objid = %d AND l.database = (SELECT oid"
    " FROM pg_database WHERE datname = current_database())"
    % (_PG_WORKER_KEY >> 32, _PG_WORKER_KEY & 0xffffffff))


@dataclasses.dataclass(frozen=True)
class WorkerLockSQL:
    """Statements; ``:name`` (the lock's name) where a backend needs it."""
    take: str       # -> 1 when taken now (or already held by us)
    held: str       # -> 1 while this connection holds it
    holder: str     # -> text naming the holder, or no row


WORKER_LOCKS = {
    'postgresql': WorkerLockSQL(
        take='SELECT pg_try_advisory_lock(%d)::int' % _PG_WORKER_KEY,
        held='SELECT count(*) FROM pg_locks l' + _PG_WORKER_WHERE
             + ' AND l.pid = pg_backend_pid()',
        # The holder names itself in application_name (worker_lock.py).
        holder="SELECT a.application_name || ' (server pid ' || a.pid"
               " || ')' FROM pg_locks l JOIN pg_stat_activity a"
               " ON a.pid = l.pid" + _PG_WORKER_WHERE),
    # GET_LOCK names are server-wide: the name holds the database's.
    'mysql': WorkerLockSQL(
        take='SELECT GET_LOCK(:name, 0)',
        held='SELECT IS_USED_LOCK(:name) = CONNECTION_ID()',
        holder="SELECT concat('connection ', ID, ' from ', HOST) FROM"
               " information_schema.PROCESSLIST WHERE ID ="
               " IS_USED_LOCK(:name)"),
}
WORKER_LOCKS['mariadb'] = WORKER_LOCKS['mysql']
