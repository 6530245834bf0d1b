"""How each backend writes a page of samples and adds to the rollup: the
statements behind ``dialects``' table (which says which backend uses
which), kept apart so that the table stays readable.

Rows are DB-API values (see ``dialects.encode_timestamp``), sent with
``exec_driver_sql``: no per-value SQLAlchemy processing on the hot path.
"""

import io

import sqlalchemy as sa

ROWS_PER_CALL = 1000
_PG_INCOMING = 'samples_incoming'
# The columns the hourly rollup depends on (a change elsewhere, e.g. in
# the metadata only, leaves every bucket as it was).
ROLLUP_COLUMNS = ('counter_name', 'timestamp', 'counter_volume',
                  'resource_id', 'project_id', 'user_id', 'source',
                  'dimension_set_id')
# A samples_hourly row: its group columns, then its hour and aggregates
# (the order of ``rollup.groups_of``'s tuples).
HOURLY_KEY = ('counter_name', 'resource_id', 'project_id', 'user_id',
              'source', 'dimension_set_id', 'hour')
HOURLY_VALUES = ('count', 'sum', 'min', 'max')
_NULLABLE = ('project_id', 'user_id', 'source', 'dimension_set_id')


def _column_list(conn, table):
    quote = conn.dialect.identifier_preparer.quote
    return [quote(c.name) for c in table.columns]


# PostgreSQL: COPY, one upsert statement ----------------------------------
def copy_text(rows):
    """COPY text format: tab separated, \\N for NULL, backslash escapes."""
    lines = []
    for row in rows:
        fields = [_NULL if v is None else v if v.__class__ is str
                  else str(v) for v in row]
        line = '\t'.join(fields)
        # One scan of the line instead of one per field: only the
        # separators and the NULL markers' backslashes may be in it.
        if line.count('\t') != len(fields) - 1 or '\n' in line \
                or '\r' in line or line.count('\\') != row.count(None):
            line = '\t'.join(map(_copy_field, row))
        lines.append(line)
    lines.append('')
    return '\n'.join(lines)


_NULL = '\\N'
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


def write_pg(conn, table, page):
    """COPY straight into ``table`` when none of the page's rows is
    stored (a first export), else through a temporary table and one
    upsert; returns {message_id: None | (old meter, old timestamp)} of
    the rows it inserted or changed."""
    cols = _column_list(conn, table)
    key = cols[0]
    # The page's meters are locked: no writer of them can add one of its
    # ids now. A writer of another meter still could (one id under two
    # meters), so the COPY runs in a savepoint and, if that happened,
    # falls back to the upsert.
    stored = conn.exec_driver_sql(
        'SAVEPOINT direct_copy; SELECT 1 FROM %s WHERE %s = ANY(%%s::text[]) '
        'LIMIT 1' % (table.name, key), (pg_array(page.ids),)).first()
    if stored is None:
        try:
            _copy(conn, table.name, cols, page.payload)
            return dict.fromkeys(page.ids)
        except sa.exc.IntegrityError:
            pass
    conn.exec_driver_sql('ROLLBACK TO SAVEPOINT direct_copy')
    return _upsert_pg(conn, table, cols, page)


def pg_array(values) -> str:
    """An array literal of texts, numbers, timestamps or None: one
    constant, many times cheaper for PostgreSQL to parse and plan than
    the ARRAY[..] of one constant per value that psycopg2 sends for a
    list (6 ms against 0.7 for 400 rollup rows)."""
    return '{%s}' % ','.join([
        'NULL' if v is None else '"%s"' % (
            v.replace('\\', '\\\\').replace('"', '\\"') if v.__class__ is str
            else v)
        for v in values])


def _copy(conn, table_name, cols, payload):
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.copy_expert('COPY %s (%s) FROM STDIN' % (
            table_name, ', '.join(cols)), io.StringIO(payload))
    except conn.dialect.dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(
            'COPY %s' % table_name, None, exc,
            conn.dialect.dbapi.Error) from exc
    finally:
        cursor.close()


def _upsert_pg(conn, table, cols, page):
    names = ', '.join(cols)
    key = cols[0]
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        'CREATE TEMPORARY TABLE IF NOT EXISTS %s (LIKE %s) '
        'ON COMMIT DELETE ROWS' % (_PG_INCOMING, table.name))
    _copy(conn, _PG_INCOMING, cols, page.payload)
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


_PG_TYPES = ('text',) * 6 + ('timestamp', 'bigint') + ('float8',) * 3


def add_rollup_pg(conn, table, groups):
    """One statement: the groups' rows that exist are updated, the others
    inserted (``rollup.groups_of`` tuples, one per group).

    The stored rows of the groups' (meter, hour) buckets are read once
    per bucket along the (counter_name, hour) index, then matched to the
    groups by a hash join: probing the index once per group would visit
    every resource's row of the bucket for each group."""
    q = conn.dialect.identifier_preparer.quote_identifier
    cols = HOURLY_KEY + HOURLY_VALUES
    match = ' AND '.join(
        'b.{0} {1} d.{0}'.format(q(c), 'IS NOT DISTINCT FROM'
                                 if c in _NULLABLE else '=')
        for c in HOURLY_KEY)
    sets = ', '.join(
        '{0} = {1}'.format(q(c), _merged('h.' + q(c), 'm.' + q(c), c, 'LEAST',
                                         'GREATEST'))
        for c in HOURLY_VALUES)
    conn.exec_driver_sql(
        'WITH d AS (SELECT * FROM unnest({arrays}) WITH ORDINALITY '
        'AS u ({names}, n)), '
        'b AS MATERIALIZED (SELECT h.* FROM {table} h JOIN (SELECT DISTINCT '
        '{meter}, {hour} FROM d) k ON h.{meter} = k.{meter} '
        'AND h.{hour} = k.{hour}), '
        'm AS (SELECT b.id, d.* FROM d JOIN b ON {match}), '
        'up AS (UPDATE {table} h SET {sets} FROM m WHERE h.id = m.id '
        'RETURNING m.n) '
        'INSERT INTO {table} ({names}) SELECT {names} FROM d '
        'WHERE d.n NOT IN (SELECT n FROM up)'.format(
            arrays=', '.join('%%s::%s[]' % t for t in _PG_TYPES),
            names=', '.join(q(c) for c in cols), table=q(table.name),
            meter=q('counter_name'), hour=q('hour'), sets=sets,
            match=match),
        tuple(map(pg_array, zip(*groups))))


def _merged(old, new, column, least, greatest):
    """SQL of an aggregate column merged with a partial one; NULL is the
    aggregate of no value (LEAST/GREATEST of MySQL and SQLite's min/max
    would return NULL if any argument is)."""
    if column == 'count':
        return '%s + %s' % (old, new)
    combined = {'sum': '%s + %s' % (old, new),
                'min': '%s(%s, %s)' % (least, old, new),
                'max': '%s(%s, %s)' % (greatest, old, new)}[column]
    return 'COALESCE(%s, %s, %s)' % (combined, old, new)


# MySQL/MariaDB and SQLite: pre-read, then executemany --------------------
def _pre_read(conn, table, page):
    """{message_id: stored rollup values} of the page's stored rows, read
    FOR UPDATE (SQLite: already write-locked) before they are replaced."""
    cols = table.c
    found = {}
    for start in range(0, len(page.ids), ROWS_PER_CALL):
        chunk = page.ids[start:start + ROWS_PER_CALL]
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


def _upsert_sql(conn, table, on_conflict, cols=None):
    cols = cols or _column_list(conn, table)
    marks = ', '.join([_MARKS[conn.dialect.paramstyle]] * len(cols))
    return 'INSERT INTO %s (%s) VALUES (%s) %s' % (
        conn.dialect.identifier_preparer.quote(table.name), ', '.join(cols),
        marks, on_conflict(cols))


_MARKS = {'qmark': '?', 'format': '%s', 'pyformat': '%s'}


def on_duplicate(cols):
    return 'ON DUPLICATE KEY UPDATE ' + ', '.join(
        '%s = VALUES(%s)' % (c, c) for c in cols[1:])


def on_conflict(cols):
    return 'ON CONFLICT (%s) DO UPDATE SET %s' % (cols[0], ', '.join(
        '%s = excluded.%s' % (c, c) for c in cols[1:]))


def executemany_writer(on_conflict, encode_rows=None):
    """``encode_rows(conn, table, rows)``: the rows as the driver is given
    them (default: as they are)."""
    def write(conn, table, page):
        stored = _pre_read(conn, table, page)
        sql = _upsert_sql(conn, table, on_conflict)
        # Rows equal for the rollup are still rewritten (their metadata
        # may differ); only older versions are left out.
        rows = [row for row, message_id in zip(page.payload, page.ids)
                if message_id not in stored
                or stored[message_id][1] <= page.buckets[message_id][1]]
        if encode_rows is not None:
            rows = encode_rows(conn, table, rows)
        for start in range(0, len(rows), ROWS_PER_CALL):
            conn.exec_driver_sql(sql, rows[start:start + ROWS_PER_CALL])
        return _changes(page, stored)
    return write


class _Literal(object):
    """A value PyMySQL sends as the SQL literal it holds."""
    __slots__ = ('sql',)

    def __init__(self, sql):
        self.sql = sql


def _send_literal(value, mapping=None):
    return value.sql


# (escaping mode, metadata text) -> _Literal; bounded.
_LITERALS = {}
_MAX_LITERALS = 2000
# PyMySQL's SERVER_STATUS_NO_BACKSLASH_ESCAPES: it changes the escaping.
_NO_BACKSLASH_ESCAPES = 512


def mysql_rows(conn, table, rows):
    """The rows with their metadata text escaped once per distinct text
    (PyMySQL escapes in Python: the long JSON texts, repeated on every
    sample of a resource, were a third of the page's write)."""
    driver = conn.connection.driver_connection
    driver.encoders[_Literal] = _send_literal
    mode = driver.server_status & _NO_BACKSLASH_ESCAPES
    at = list(table.columns.keys()).index('resource_metadata')
    if len(_LITERALS) > _MAX_LITERALS:
        _LITERALS.clear()
    encoded = []
    for row in rows:
        text = row[at]
        if text.__class__ is str:
            literal = _LITERALS.get((mode, text))
            if literal is None:
                literal = _LITERALS[(mode, text)] = _Literal(
                    driver.escape(text))
            row = row[:at] + (literal,) + row[at + 1:]
        encoded.append(row)
    return encoded


def _group_ids(conn, table, groups):
    """{group key: id} of the stored rows of these groups, read FOR UPDATE
    (MySQL: next-key locks on the buckets; SQLite: already locked)."""
    cols = table.c
    buckets = sorted({(g[0], g[6]) for g in groups})
    found = {}
    for start in range(0, len(buckets), 200):
        chunk = buckets[start:start + 200]
        query = sa.select(cols.id, *[cols[c] for c in HOURLY_KEY]).where(
            sa.or_(*[sa.and_(cols.counter_name == meter, cols.hour == hour)
                     for meter, hour in chunk])).with_for_update()
        found.update((tuple(r[1:]), r[0]) for r in conn.execute(query))
    return found


def _on_duplicate_add(q):
    return 'ON DUPLICATE KEY UPDATE ' + ', '.join(
        '%s = %s' % (q(c), _merged(q(c), 'VALUES(%s)' % q(c), c, 'LEAST',
                                   'GREATEST'))
        for c in HOURLY_VALUES)


def _on_conflict_add(q):
    return 'ON CONFLICT (id) DO UPDATE SET ' + ', '.join(
        '%s = %s' % (q(c), _merged('samples_hourly.' + q(c),
                                   'excluded.' + q(c), c, 'min', 'max'))
        for c in HOURLY_VALUES)


def rollup_adder(clause, encode_timestamp):
    """Add to the rollup by id: the stored rows of the groups are read,
    then one multi-row upsert on the primary key updates those (their
    id) and inserts the others (id NULL: a new one)."""
    def add(conn, table, groups):
        q = conn.dialect.identifier_preparer.quote_identifier
        ids = _group_ids(conn, table, groups)
        cols = ('id',) + HOURLY_KEY + HOURLY_VALUES
        sql = _upsert_sql(conn, table, lambda _: clause(q),
                          [q(c) for c in cols])
        rows = [(ids.get(g[:7]),) + g[:6] + (encode_timestamp(g[6]),)
                + g[7:] for g in groups]
        for start in range(0, len(rows), ROWS_PER_CALL):
            conn.exec_driver_sql(sql, rows[start:start + ROWS_PER_CALL])
    return add


def mysql_rollup_adder(encode_timestamp):
    return rollup_adder(_on_duplicate_add, encode_timestamp)


def sqlite_rollup_adder(encode_timestamp):
    return rollup_adder(_on_conflict_add, encode_timestamp)
