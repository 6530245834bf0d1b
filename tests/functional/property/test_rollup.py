"""The hourly rollup equals a GROUP BY over ``samples`` after any sequence
of pulled pages, pushed batches and re-reads (hypothesis), on every
backend.

Inserted samples are added to their rollup rows, changed ones make their
buckets be recomputed (``store/rollup.py``): the sequences mix both in one
page, with NULL group columns (which no unique key of the rollup rows
treats as equal), NULL volumes, duplicated ids in a page, older versions
that must not replace a stored one, moves across hours and meters.
The expected rollup is computed here, in Python, from the stored samples.
Volumes are multiples of 1/4, so sums are exact in any order of addition.
"""

import datetime

from hypothesis import given
from hypothesis import strategies as st
import sqlalchemy as sa

from ceilometer_export.store import runs
from ceilometer_export.store import schema
from ceilometer_export.store import Store

BASE = datetime.datetime(2024, 5, 1, 22)
GROUP = ('counter_name', 'resource_id', 'project_id', 'user_id', 'source',
         'dimension_set_id')
IDS = ['m%02d' % i for i in range(24)]


def _timestamp(seconds):
    if seconds % 3 == 0:
        return BASE + datetime.timedelta(seconds=seconds // 60 * 60)
    return BASE + datetime.timedelta(seconds=seconds,
                                     microseconds=seconds % 7)


# Few groups, so that pages keep adding to existing rollup rows; NULL in
# every nullable group column (dimension_set_id: no metadata).
PROFILES = [
    {'resource_id': 'r1', 'project_id': None, 'user_id': None,
     'source': None, 'resource_metadata': {}},
    {'resource_id': 'r1', 'project_id': 'p1', 'user_id': 'u1',
     'source': 'openstack', 'resource_metadata': {'flavor': 'm1'}},
    {'resource_id': 'r2', 'project_id': 'p1', 'user_id': None,
     'source': 'openstack', 'resource_metadata': {'flavor': 'm2',
                                                  'zone': 'a'}},
]
samples = st.builds(lambda fields, profile: dict(fields, **profile),
                    st.fixed_dictionaries({
                        'message_id': st.sampled_from(IDS),
                        'counter_name': st.sampled_from(['cpu', 'disk']),
                        'counter_type': st.just('gauge'),
                        'counter_unit': st.just('ns'),
                        'counter_volume': st.one_of(
                            st.none(),
                            st.integers(-40, 400).map(lambda v: v / 4.0)),
                        # Four hours across midnight, boundaries included.
                        'timestamp': st.integers(0, 4 * 3600 - 1).map(
                            _timestamp),
                        'recorded_at': st.none()}),
                    st.sampled_from(PROFILES))
steps = st.lists(st.tuples(
    st.sampled_from(['pull', 'push', 'reread']),
    st.lists(samples, min_size=1, max_size=12),
    st.randoms(use_true_random=False)), min_size=1, max_size=8)


def _stored(store):
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.select(schema.samples))]


def _expected(rows):
    groups = {}
    for row in rows:
        key = tuple(row[c] for c in GROUP) + (row['timestamp'].replace(
            minute=0, second=0, microsecond=0),)
        volumes = groups.setdefault(key, [])
        if row['counter_volume'] is not None:
            volumes.append(row['counter_volume'])
    return {key: (len(v), sum(v) if v else None, min(v, default=None),
                  max(v, default=None)) for key, v in groups.items()}


def _rollup(store):
    h = schema.samples_hourly
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(
            *[h.c[c] for c in GROUP], h.c.hour, h.c['count'], h.c['sum'],
            h.c['min'], h.c['max'])).all()
    got = {}
    for row in rows:
        key = tuple(row[:7])
        assert key not in got, 'two rollup rows for %r' % (key,)
        got[key] = tuple(row[7:])
    return got


def _reset(store):
    with store.engine.begin() as conn:
        for table in (schema.samples, schema.samples_hourly,
                      schema.dimensions, schema.export_checkpoints,
                      schema.export_runs):
            conn.execute(sa.delete(table))


def _step(store, tally, kind, rows, rnd):
    if kind == 'reread':
        stored = _stored(store)
        # Stored rows as the API gives them again, with the new ones.
        rows = [{k: v for k, v in r.items() if k != 'dimension_set_id'}
                for r in rnd.sample(stored, min(len(stored), 8))] + rows
        rnd.shuffle(rows)
    if kind == 'push':
        tally.begin(BASE)
        tally.committed(store.write_received(rows, [], tally))
    else:
        store.write_page('test', rows[0]['counter_name'], rows,
                         fingerprint='f' * 64)


@given(steps=steps)
def test_rollup_equals_group_by_after_any_sequence(db_url, steps):
    store = Store(db_url)
    try:
        store.upgrade()
        _reset(store)
        tally = runs.Tally(runs.RECEIVE, 60)
        for kind, rows, rnd in steps:
            _step(store, tally, kind, rows, rnd)
            assert _rollup(store) == _expected(_stored(store))
    finally:
        store.close()
