"""Benchmark (not a test): a dimension-filtered aggregate over a large
exported data set, from raw samples vs from the hourly rollup.

    python tools/bench_stats.py [URL] [--samples 500000] [--via-store]

URL is an empty database (default: SQLite in a temporary directory). The
data set is loaded in bulk (samples, dimension sets, then the rollup
rebuilt set-based), or through Store.write_page with --via-store (slower:
the real export path, rollup maintained page by page). Prints the load
time, the table sizes and, for each query, the best and median of a few
runs from each table, after checking both give the same answer.
"""

import argparse
import datetime
import random
import statistics
import sys
import tempfile
import time

import sqlalchemy as sa

from ceilometer_export import dimensions
from ceilometer_export import stats
from ceilometer_export.store import dialects
from ceilometer_export.store import rollup
from ceilometer_export.store import schema
from ceilometer_export.store import Store

BASE = datetime.datetime(2024, 1, 1)
FLAVORS = ('m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge')
POLL = datetime.timedelta(minutes=10)
BATCH = 5000
QUERIES = [
    ('one dimension, one number',
     dict(dimensions={'instance_type': 'm1.small'})),
    ('filter expression, by project, hourly',
     dict(filter='(instance_type = m1.small | instance_type = m1.large) '
                 '& status = active & not image = img-3',
          groupby=('project_id',), period=3600)),
    ('by flavor, daily, over a week',
     dict(groupby=('instance_type',), period=86400,
          start=BASE, end=BASE + datetime.timedelta(days=7))),
]


def resources(count, rng):
    """(resource_id, project_id, user_id, metadata) with 12 keys."""
    found = []
    for n in range(count):
        metadata = {'instance_type': rng.choice(FLAVORS),
                    'status': 'active' if rng.random() < 0.9 else 'error',
                    'image': 'img-%d' % rng.randrange(20),
                    'availability_zone': 'az-%d' % rng.randrange(3),
                    'host': 'compute-%03d' % rng.randrange(100),
                    'display_name': 'vm-%05d' % n,
                    'vcpus': str(rng.choice((1, 2, 4, 8))),
                    'memory_mb': str(rng.choice((512, 2048, 8192))),
                    'disk_gb': str(rng.choice((1, 20, 40, 80))),
                    'os_type': 'linux', 'architecture': 'x86_64',
                    'kernel_id': 'k-%d' % rng.randrange(4)}
        found.append(('inst-%05d' % n, 'proj-%02d' % rng.randrange(40),
                      'user-%03d' % rng.randrange(200), metadata))
    return found


def samples(total, rng):
    """Sample dicts, polling order (every resource each 10 minutes)."""
    pool = resources(max(1, total // 250), rng)
    for i in range(total):
        rid, project, user, metadata = pool[i % len(pool)]
        step = i // len(pool)
        yield dict(message_id='m%09d' % i, counter_name='cpu_util',
                   counter_type='gauge', counter_unit='%',
                   counter_volume=round(rng.uniform(0, 100), 2),
                   project_id=project, resource_id=rid, user_id=user,
                   source='openstack',
                   timestamp=BASE + step * POLL + datetime.timedelta(
                       seconds=rng.randrange(600)),
                   recorded_at=None, resource_metadata=metadata)


def _batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_bulk(store, rows):
    dim_filter = dimensions.DimensionFilter()
    for batch in _batches(rows, BATCH):
        sets = {}
        for row in batch:
            pairs = dimensions.extract(row['resource_metadata'], dim_filter)
            row['dimension_set_id'] = dimensions.set_id(pairs)
            for key, value in pairs:
                sets[(row['dimension_set_id'], key)] = {
                    'set_id': row['dimension_set_id'], 'key': key,
                    'value': value}
        with store.engine.begin() as conn:
            dialects.insert_missing(conn, schema.dimensions,
                                    list(sets.values()))
            conn.execute(sa.insert(schema.samples), batch)
    with store.engine.begin() as conn:
        rollup.rebuild_all(conn)


def load_via_store(store, rows):
    store.start_pair('bench', 'cpu_util', 'f' * 64)
    for batch in _batches(rows, 1000):
        store.write_page('bench', 'cpu_util', batch)


_ANALYZE = {'postgresql': ['ANALYZE'], 'sqlite': ['ANALYZE'],
            'mysql': ['ANALYZE TABLE samples, dimensions, samples_hourly']}


def analyze(store):
    """Fresh planner statistics, as autovacuum or a DBA would give them:
    right after a bulk load the planner would otherwise guess."""
    with store.engine.begin() as conn:
        for statement in _ANALYZE.get(conn.dialect.name, _ANALYZE['mysql']):
            conn.exec_driver_sql(statement).close()


def _count(store, table):
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(
            table)).scalar()


def _timed(store, kwargs, table, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = stats.aggregate(store, 'cpu_util', table=table, **kwargs)
        times.append(time.perf_counter() - started)
    return result, times


def _same(raw, rolled):
    if len(raw) != len(rolled):
        return False
    for a, b in zip(raw, rolled):
        for key, value in a.items():
            other = b[key]
            if isinstance(value, float):
                if abs(value - other) > 1e-9 * max(1.0, abs(value)):
                    return False
            elif value != other:
                return False
    return True


def _sqlite_cache(dbapi_connection, record):
    # The default 2 MB page cache makes index inserts of a large bulk
    # load go to disk; the servers have buffers of their own.
    dbapi_connection.execute('PRAGMA cache_size = -262144')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('url', nargs='?', help='an empty database URL')
    parser.add_argument('--samples', type=int, default=500000)
    parser.add_argument('--runs', type=int, default=5)
    parser.add_argument('--via-store', action='store_true')
    args = parser.parse_args(argv)
    url = args.url or 'sqlite:///%s/bench.sqlite' % tempfile.mkdtemp()
    store = Store(url)
    if store.engine.dialect.name == 'sqlite':
        sa.event.listen(store.engine, 'connect', _sqlite_cache)
    store.upgrade()
    print('database: %s' % store.safe_url)
    started = time.perf_counter()
    rows = samples(args.samples, random.Random(7))
    (load_via_store if args.via_store else load_bulk)(store, rows)
    analyze(store)
    print('loaded %d samples in %.1f s (%s); %d dimension rows, %d rollup '
          'rows' % (_count(store, schema.samples),
                    time.perf_counter() - started,
                    'write_page' if args.via_store else 'bulk',
                    _count(store, schema.dimensions),
                    _count(store, schema.samples_hourly)))
    for title, kwargs in QUERIES:
        raw, raw_times = _timed(store, kwargs, 'samples', args.runs)
        rolled, roll_times = _timed(store, kwargs, 'samples_hourly',
                                    args.runs)
        print('%s: %d rows, same answer: %s' % (title, len(raw),
                                                _same(raw, rolled)))
        for name, times in (('raw samples', raw_times),
                            ('samples_hourly', roll_times)):
            print('  %-15s best %8.1f ms  median %8.1f ms'
                  % (name, min(times) * 1000,
                     statistics.median(times) * 1000))
    store.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
