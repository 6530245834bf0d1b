"""Every difference between the SQL backends the store writes, one table
per dialect (as ``stats/dialects.py`` is for the readers): default
drivers, column types, the writers' lock, the SQL of "start of the hour",
how a page of samples is encoded and upserted, and "insert if missing".

A page of samples is written with each backend's fastest safe statement:

- PostgreSQL: COPY into a temporary table, then ONE ``INSERT .. SELECT ..
  ON CONFLICT DO UPDATE`` that skips identical rows and, through a CTE over
  the same snapshot, returns the old (meter, timestamp) of the rows it
  changed; the metadata JSON is passed through as text.
- MySQL/MariaDB: a pre-read of the stored rows (FOR UPDATE), then
  PyMySQL's multi-row ``INSERT .. ON DUPLICATE KEY UPDATE``.
- SQLite: the same pre-read, then ``executemany`` of ``INSERT .. ON
  CONFLICT DO UPDATE`` (one transaction: the page's).

Rows are DB-API values (``encode_value``), sent with ``exec_driver_sql``:
no per-value SQLAlchemy processing on the hot path.
"""

import dataclasses
import io
import typing

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

# Namespace of the PostgreSQL advisory locks of writers ("cexp").
_PG_LOCK_CLASS = 0x63657870
_ROWS_PER_CALL = 1000
_PG_INCOMING = 'samples_incoming'
# The columns the hourly rollup depends on (a change elsewhere, e.g. in
# the metadata only, leaves every bucket as it was).
ROLLUP_COLUMNS = ('counter_name', 'timestamp', 'counter_volume',
                  'resource_id', 'project_id', 'user_id', 'source',
                  'dimension_set_id')

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
    # meter, in a fixed order (no deadlock), held until commit.
    for meter in sorted(meters):
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(
            _PG_LOCK_CLASS, sa.func.hashtext(meter))))


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


def _native(value):
    return value


# Page writers -------------------------------------------------------------
def _column_list(conn, table):
    quote = conn.dialect.identifier_preparer.quote
    return [quote(c.name) for c in table.columns]


def _copy_text(rows):
    """COPY text format: tab separated, \\N for NULL, backslash escapes."""
    out = io.StringIO()
    for row in rows:
        out.write('\t'.join(_copy_field(v) for v in row))
        out.write('\n')
    return out.getvalue()


_COPY_ESCAPES = str.maketrans({'\\': '\\\\', '\t': '\\t', '\n': '\\n',
                               '\r': '\\r'})


def _copy_field(value):
    if value is None:
        return '\\N'
    if isinstance(value, str):
        # Scanning is much cheaper than translating a long metadata text.
        if '\\' in value or '\t' in value or '\n' in value \
                or '\r' in value:
            return value.translate(_COPY_ESCAPES)
        return value
    return str(value)


def _write_pg(conn, table, page):
    cols = _column_list(conn, table)
    names = ', '.join(cols)
    key = cols[0]
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        'CREATE TEMPORARY TABLE IF NOT EXISTS %s (LIKE %s) '
        'ON COMMIT DELETE ROWS' % (_PG_INCOMING, table.name))
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.copy_expert('COPY %s (%s) FROM STDIN' % (_PG_INCOMING, names),
                           io.StringIO(page.payload))
    except conn.dialect.dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            'COPY %s' % _PG_INCOMING, None, exc,
            conn.dialect.dbapi.Error) from exc
    finally:
        cursor.close()
    rest = cols[1:]
    # Identical rows are not rewritten, and a stored version is never
    # replaced by one with an older timestamp (see ``duplicates``).
    changed = 't.{ts} <= EXCLUDED.{ts} AND ({differ})'.format(
        ts=quote('timestamp'), differ=' OR '.join(
            't.%s IS DISTINCT FROM EXCLUDED.%s' % (c, c) for c in rest))
    rows = conn.exec_driver_sql(
        'WITH old AS (SELECT s.{key}, s.{meter}, s.{ts} '
        'FROM {table} s JOIN {inc} i ON s.{key} = i.{key}), '
        'up AS (INSERT INTO {table} AS t ({names}) SELECT {names} FROM {inc} '
        'ON CONFLICT ({key}) DO UPDATE SET {sets} WHERE {changed} '
        'RETURNING t.{key}) '
        'SELECT up.{key}, old.{meter}, old.{ts} FROM up '
        'LEFT JOIN old ON old.{key} = up.{key}'.format(
            key=key, meter=quote('counter_name'), ts=quote('timestamp'),
            table=table.name, inc=_PG_INCOMING, names=names,
            sets=', '.join('%s = EXCLUDED.%s' % (c, c) for c in rest),
            changed=changed))
    return {r[0]: None if r[1] is None else (r[1], r[2]) for r in rows}


def _pre_read(conn, table, page):
    """{message_id: stored rollup values} of the page's stored rows, read
    FOR UPDATE (SQLite: already write-locked) before they are replaced."""
    cols = table.c
    found = {}
    for start in range(0, len(page.ids), _ROWS_PER_CALL):
        chunk = page.ids[start:start + _ROWS_PER_CALL]
        query = sa.select(cols.message_id, *[cols[c] for c in
                                             ROLLUP_COLUMNS]).where(
            cols.message_id.in_(chunk)).with_for_update()
        found.update((r[0], tuple(r[1:])) for r in conn.execute(query))
    return found


def _changes(page, stored):
    """The rows to write: those not stored (None) and those whose rollup
    values change (their old (meter, timestamp)), as the PostgreSQL writer
    reports them; a stored version with a later timestamp stays (see
    ``duplicates``)."""
    written = {}
    for message_id in page.ids:
        old = stored.get(message_id)
        if old is None:
            written[message_id] = None
        elif old[1] <= page.buckets[message_id][1] \
                and old != page.rollup[message_id]:
            written[message_id] = old[:2]
    return written


def _upsert_sql(conn, table, on_conflict):
    cols = _column_list(conn, table)
    marks = ', '.join([_MARKS[conn.dialect.paramstyle]] * len(cols))
    return 'INSERT INTO %s (%s) VALUES (%s) %s' % (
        conn.dialect.identifier_preparer.quote(table.name), ', '.join(cols),
        marks, on_conflict(cols))


_MARKS = {'qmark': '?', 'format': '%s', 'pyformat': '%s'}


def _on_duplicate(cols):
    return 'ON DUPLICATE KEY UPDATE ' + ', '.join(
        '%s = VALUES(%s)' % (c, c) for c in cols[1:])


def _on_conflict(cols):
    return 'ON CONFLICT (%s) DO UPDATE SET %s' % (cols[0], ', '.join(
        '%s = excluded.%s' % (c, c) for c in cols[1:]))


def _executemany_writer(on_conflict):
    def write(conn, table, page):
        stored = _pre_read(conn, table, page)
        sql = _upsert_sql(conn, table, on_conflict)
        # Rows equal for the rollup are still rewritten (their metadata
        # may differ); only older versions are left out.
        rows = [row for row, message_id in zip(page.payload, page.ids)
                if message_id not in stored
                or stored[message_id][1] <= page.buckets[message_id][1]]
        for start in range(0, len(rows), _ROWS_PER_CALL):
            conn.exec_driver_sql(sql, rows[start:start + _ROWS_PER_CALL])
        return _changes(page, stored)
    return write


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


@dataclasses.dataclass(frozen=True)
class Dialect:
    driver: str                 # the DB-API driver of a URL without one
    url_query: dict             # URL parameters added when missing
    lock: typing.Callable       # (conn, meters): serialize page writers
    hour: typing.Callable       # (column SQL) -> SQL of its hour's start
    encode_timestamp: typing.Callable
    encode_page: typing.Callable    # [row tuples] -> writer payload
    write_samples: typing.Callable  # (conn, table, page) -> changes
    insert_missing: typing.Callable  # (table) -> INSERT .. do nothing


_MYSQL = Dialect(
    driver='mysql+pymysql', url_query={'charset': 'utf8mb4'},
    lock=_lock_mysql, hour=_hour_mysql, encode_timestamp=_native,
    encode_page=list, write_samples=_executemany_writer(_on_duplicate),
    insert_missing=_insert_missing_mysql)

DIALECTS = {
    'postgresql': Dialect(
        driver='postgresql+psycopg2', url_query={}, lock=_lock_pg,
        hour=_hour_pg, encode_timestamp=_native, encode_page=_copy_text,
        write_samples=_write_pg,
        insert_missing=_insert_missing_on_conflict(postgresql)),
    'sqlite': Dialect(
        driver='sqlite', url_query={}, lock=_lock_sqlite, hour=_hour_sqlite,
        encode_timestamp=_sqlite_timestamp, encode_page=list,
        write_samples=_executemany_writer(_on_conflict),
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
    for start in range(0, len(rows), _ROWS_PER_CALL):
        conn.execute(stmt, rows[start:start + _ROWS_PER_CALL]).close()


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
