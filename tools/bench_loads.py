"""The reference loads of ``tools/benchmark.py``: each backend's bulk load
of COPY-text files (tab separated, ``\\N`` for NULL, backslash escapes),
timed from the first statement to the commit."""

import re
import time

import sqlalchemy as sa

from ceilometer_export.store import pages

_ESCAPES = str.maketrans({'\\': '\\\\', '\t': '\\t', '\n': '\\n',
                          '\r': '\\r'})
_UNESCAPE = re.compile(r'\\(.)')
_UNESCAPED = {'t': '\t', 'n': '\n', 'r': '\r'}
_PAIRS_DDL = ('CREATE TABLE sample_pairs (message_id VARCHAR(128) NOT NULL, '
              '{key} VARCHAR(255) NOT NULL, value VARCHAR(512) NOT NULL, '
              'PRIMARY KEY (message_id, {key})){options}')
_PAIRS_INDEX = 'CREATE INDEX ix_sample_pairs_kv ON sample_pairs ({key}, value)'
_MYSQL_OPTIONS = ' CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'
_PAIR_COLUMNS = ('message_id', 'key', 'value')


def escape(value):
    return value.translate(_ESCAPES)


def _unescape(field):
    if field == '\\N':
        return None
    if '\\' not in field:
        return field
    return _UNESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), m.group(1)),
                         field)


def bulk(engine, files):
    """Seconds to load the samples rows alone."""
    return _timed(engine, [('samples', pages.COLUMNS, files[0])])


def naive(engine, files):
    """Seconds to load the samples rows and one row per metadata pair."""
    quote = engine.dialect.identifier_preparer.quote
    options = _MYSQL_OPTIONS if engine.dialect.name in ('mysql',
                                                        'mariadb') else ''
    with engine.begin() as conn:
        conn.exec_driver_sql(_PAIRS_DDL.format(key=quote('key'),
                                               options=options))
        conn.exec_driver_sql(_PAIRS_INDEX.format(key=quote('key')))
    return _timed(engine, [('samples', pages.COLUMNS, files[0]),
                           ('sample_pairs', _PAIR_COLUMNS, files[1])])


def _timed(engine, loads):
    load = _LOADS[engine.dialect.name]
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        for table, columns, path in loads:
            load(raw, engine, table, columns, path)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def _columns(engine, columns):
    quote = engine.dialect.identifier_preparer.quote
    return ', '.join(quote(c) for c in columns)


def _copy(raw, engine, table, columns, path):
    cursor = raw.cursor()
    with open(path) as data:
        cursor.copy_expert('COPY %s (%s) FROM STDIN' % (
            table, _columns(engine, columns)), data)


def _load_data(raw, engine, table, columns, path):
    cursor = raw.cursor()
    cursor.execute("LOAD DATA LOCAL INFILE '%s' INTO TABLE %s CHARACTER SET "
                   "utf8mb4 (%s)" % (path, table, _columns(engine, columns)))


def _executemany(raw, engine, table, columns, path):
    cursor = raw.cursor()
    stamps = [i for i, c in enumerate(columns)
              if c in ('timestamp', 'recorded_at')]

    def rows():
        with open(path) as data:
            for line in data:
                row = [_unescape(f) for f in line[:-1].split('\t')]
                for i in stamps:
                    # SQLAlchemy's SQLite format always has microseconds.
                    if row[i] is not None and len(row[i]) == 19:
                        row[i] += '.000000'
                yield row
    cursor.executemany('INSERT INTO %s (%s) VALUES (%s)' % (
        table, _columns(engine, columns), ', '.join('?' * len(columns))),
        rows())


_LOADS = {'postgresql': _copy, 'mysql': _load_data, 'mariadb': _load_data,
          'sqlite': _executemany}


def engine_for(url):
    """An engine that may LOAD DATA LOCAL on MySQL/MariaDB."""
    if sa.engine.make_url(url).get_backend_name() in ('mysql', 'mariadb'):
        return sa.create_engine(url, connect_args={'local_infile': True})
    return sa.create_engine(url)
