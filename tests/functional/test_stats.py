"""Aggregates by dimension (design section 7) and the hourly rollup, on
SQLite, PostgreSQL and MariaDB: the same cases, the same answers.

Every expected figure is computed here, in Python, from the input rows,
with predicates written by hand (not with the parser under test).
"""

import datetime
import json
import random

from alembic import command
import pytest
import sqlalchemy as sa

from ceilometer_export.cmd import stats as stats_cmd
from ceilometer_export import dimensions
from ceilometer_export import stats
from ceilometer_export.store import duplicates
from ceilometer_export.store import migration
from ceilometer_export.store import schema
from ceilometer_export.store import Store

BASE = datetime.datetime(2024, 3, 10)
EPOCH = datetime.datetime(1970, 1, 1)
IMPLICIT = ('source', 'resource_id', 'user_id', 'project_id')

# resource_id, project_id, user_id, metadata. The traps: 'Active' and
# 'active ' (MySQL's default collations equal them to 'active'), 'M1.YYYY',
# missing keys, a non-ASCII value, a sample without any dimension.
INSTANCES = [
    ('i1', 'p1', 'peter', {'instance_type': 'm1.yyyy', 'status': 'active',
                           'image': 'img1', 'disk_gb': '5'}),
    ('i2', 'p1', 'peter', {'instance_type': 'm1.small', 'status': 'Active',
                           'disk_gb': '10'}),
    ('i3', 'p2', 'andrew', {'instance_type': 'm1.yyyy', 'status': 'active ',
                            'image': 'img2', 'disk_gb': '40'}),
    ('i4', 'p2', None, {'instance_type': 'm1.large', 'status': 'active',
                        'image': 'img1', 'disk_gb': '\u00e9t\u00e9'}),
    ('i5', 'p3', 'peter', {'instance_type': 'M1.YYYY', 'status': 'error'}),
    ('i6', None, None, {}),
]
CONTAINERS = [
    ('pj/c1', 'pj', 'john', {'container_name': 'xxx'}),
    ('pj/c2', 'pj', 'john', {'container_name': 'xxx', 'region': 'east'}),
    ('pj/c3', 'pj', 'john', {'container_name': 'XXX'}),
    ('pj/c4', 'pj', 'john', {'container_name': 'xxx '}),
    ('pj/c5', 'pj', 'john', {'container_name': 'yyy'}),
    ('po/c1', 'po', 'olga', {'container_name': 'xxx'}),
]
STEPS = 36          # one sample every 10 minutes: 6 hours
OBJECTS = 'storage.containers.objects'


def _sample(meter, resource, index, rng, offset):
    rid, project, user, metadata = resource
    return dict(
        message_id='%s-%s-%03d' % (meter, rid, index), counter_name=meter,
        counter_type='gauge', counter_unit='x',
        # Multiples of 1/4: sums are exact whatever the order of addition.
        counter_volume=rng.randint(0, 400) / 4.0,
        project_id=project, resource_id=rid, user_id=user,
        source='openstack',
        timestamp=BASE + datetime.timedelta(seconds=600 * index + offset),
        recorded_at=None, resource_metadata=dict(metadata))


def dataset():
    rng = random.Random(4)
    rows = []
    for number, resource in enumerate(INSTANCES):
        # i1 lands exactly on hour boundaries; the others in between,
        # with microseconds.
        offset = 0 if number == 0 else 37 * number + 0.123456 * number
        for meter in ('cpu', 'cpu_util'):
            rows += [_sample(meter, resource, i, rng, offset)
                     for i in range(STEPS)]
    for number, resource in enumerate(CONTAINERS):
        rows += [_sample(OBJECTS, resource, i, rng, 11 * number + 5)
                 for i in range(STEPS)]
    return rows


FP = 'f' * 64


def _store(url, dim_filter=None):
    store = Store(url, dim_filter)
    store.upgrade()
    return store


def _write(store, rows, page=250):
    for start in range(0, len(rows), page):
        chunk = rows[start:start + page]
        store.write_page('test', chunk[0]['counter_name'], chunk, fingerprint=FP)


@pytest.fixture
def loaded(db_url):
    store = _store(db_url)
    rows = dataset()
    _write(store, rows)
    yield store, rows
    store.close()


# The reference implementation ---------------------------------------------
def value_of(row, key):
    if key in IMPLICIT:
        return row[key]
    return row['resource_metadata'].get(key)


def _epoch(moment):
    return int((moment - EPOCH).total_seconds() // 1)


def reference(rows, meter, keep=lambda r: True, groupby=(), period=None,
              start=None, end=None):
    groups = {}
    for row in rows:
        ts = row['timestamp']
        if (row['counter_name'] != meter or (start and ts < start)
                or (end and ts >= end) or not keep(row)):
            continue
        key = tuple(value_of(row, k) for k in groupby)
        if period:
            seconds = _epoch(ts) // period * period
            key += (EPOCH + datetime.timedelta(seconds=seconds),)
        groups.setdefault(key, []).append(row['counter_volume'])
    return {key: {'count': len(v), 'sum': sum(v), 'min': min(v),
                  'max': max(v), 'avg': sum(v) / len(v)}
            for key, v in groups.items()}


def keyed(result, groupby=(), period=None):
    out = {}
    for item in result:
        key = tuple(item[k] for k in groupby)
        if period:
            assert item['period_end'] - item['period_start'] == \
                datetime.timedelta(seconds=period)
            key += (item['period_start'],)
        assert key not in out
        out[key] = {k: item[k] for k in stats.AGGREGATES}
    return out


def assert_same(got, expected):
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    for key, figures in expected.items():
        assert got[key]['count'] == figures['count'], key
        for name in ('sum', 'min', 'max', 'avg'):
            assert got[key][name] == pytest.approx(figures[name]), (key, name)


def dim(row, key):
    return row['resource_metadata'].get(key)


# The blueprint's three user stories ---------------------------------------
def test_john_objects_across_his_containers_named_xxx(loaded):
    store, rows = loaded
    mine = [r for r in rows if r['counter_name'] == OBJECTS
            and r['project_id'] == 'pj' and dim(r, 'container_name') == 'xxx']
    assert {r['resource_id'] for r in mine} == {'pj/c1', 'pj/c2'}
    per_poll = {}
    for r in mine:
        bucket = BASE + datetime.timedelta(
            seconds=(r['timestamp'] - BASE).total_seconds() // 600 * 600)
        per_poll[bucket] = per_poll.get(bucket, 0) + r['counter_volume']
    result = stats.aggregate(
        store, OBJECTS, dimensions={'project_id': 'pj',
                                    'container_name': 'xxx'},
        period=600, aggregates=('sum', 'count'))
    assert [(r['period_start'], r['sum'], r['count']) for r in result] == [
        (bucket, pytest.approx(total), 2)
        for bucket, total in sorted(per_poll.items())]
    assert len(result) == STEPS


def test_peter_cpu_summed_over_instance_type(loaded):
    store, rows = loaded
    expected = sum(r['counter_volume'] for r in rows
                   if r['counter_name'] == 'cpu' and r['user_id'] == 'peter'
                   and dim(r, 'instance_type') == 'm1.yyyy')
    result = stats.aggregate(
        store, 'cpu', filter='user_id = peter and instance_type = m1.yyyy',
        aggregates=('sum',))
    assert result == [{'sum': pytest.approx(expected)}]
    # i1 only: i3 is Andrew's, i5 is 'M1.YYYY'.
    only_i1 = sum(r['counter_volume'] for r in rows
                  if r['counter_name'] == 'cpu' and r['resource_id'] == 'i1')
    assert expected == only_i1


def test_andrew_max_cpu_over_instance_ids(loaded):
    store, rows = loaded
    chosen = ('i1', 'i3', 'i4')
    expected = max(r['counter_volume'] for r in rows
                   if r['counter_name'] == 'cpu_util'
                   and r['resource_id'] in chosen)
    result = stats.aggregate(store, 'cpu_util',
                             filter='resource_id in (i1, i3, i4)',
                             aggregates=('max',))
    assert result == [{'max': expected}]
    per_instance = stats.aggregate(store, 'cpu_util',
                                   filter='resource_id in (i1, i3, i4)',
                                   groupby=('resource_id',),
                                   aggregates=('max',))
    assert per_instance == [
        {'resource_id': rid, 'max': max(
            r['counter_volume'] for r in rows
            if r['counter_name'] == 'cpu_util' and r['resource_id'] == rid)}
        for rid in chosen]


# The same cases on every backend ------------------------------------------
def T(**delta):
    return BASE + datetime.timedelta(**delta)


CASES = [
    # (name, aggregate() keyword arguments, reference keyword arguments)
    ('all', {}, {}),
    ('dimension', {'dimensions': {'instance_type': 'm1.yyyy'}},
     {'keep': lambda r: dim(r, 'instance_type') == 'm1.yyyy'}),
    ('dimensions are ANDed', {'dimensions': ['instance_type=m1.yyyy',
                                             'status=active']},
     {'keep': lambda r: dim(r, 'instance_type') == 'm1.yyyy'
      and dim(r, 'status') == 'active'}),
    ('case and trailing blanks count', {'filter': 'status = active'},
     {'keep': lambda r: dim(r, 'status') == 'active'}),
    ('quoted value', {'filter': "status = 'active '"},
     {'keep': lambda r: dim(r, 'status') == 'active '}),
    ('!= needs the key', {'filter': 'image != img1'},
     {'keep': lambda r: dim(r, 'image') not in (None, 'img1')}),
    ('not negates all', {'filter': 'not image = img1'},
     {'keep': lambda r: dim(r, 'image') != 'img1'}),
    ('not in needs the key', {'filter': 'image not in (img1, nope)'},
     {'keep': lambda r: dim(r, 'image') not in (None, 'img1', 'nope')}),
    ('not (in)', {'filter': 'not image in (img1, nope)'},
     {'keep': lambda r: dim(r, 'image') not in ('img1', 'nope')}),
    ('implicit NULL and !=', {'filter': 'user_id != peter'},
     {'keep': lambda r: r['user_id'] not in (None, 'peter')}),
    ('implicit NULL and not', {'filter': 'not user_id = peter'},
     {'keep': lambda r: r['user_id'] != 'peter'}),
    ('precedence', {'filter': 'status = error or instance_type = m1.yyyy '
                              '& project_id = p2'},
     {'keep': lambda r: dim(r, 'status') == 'error' or (
         dim(r, 'instance_type') == 'm1.yyyy' and r['project_id'] == 'p2')}),
    ('parentheses', {'filter': '(status = error | instance_type = m1.yyyy)'
                               ' and not (project_id = p2)'},
     {'keep': lambda r: (dim(r, 'status') == 'error' or dim(
         r, 'instance_type') == 'm1.yyyy') and r['project_id'] != 'p2'}),
    ('strings compare as strings', {'filter': 'disk_gb < 20'},
     {'keep': lambda r: dim(r, 'disk_gb') is not None
      and dim(r, 'disk_gb') < '20'}),
    ('code point order', {'filter': 'disk_gb >= z or disk_gb <= 10'},
     {'keep': lambda r: dim(r, 'disk_gb') is not None
      and (dim(r, 'disk_gb') >= 'z' or dim(r, 'disk_gb') <= '10')}),
    ('ordering on implicit', {'filter': 'resource_id > i2 & '
                                        'resource_id <= i5'},
     {'keep': lambda r: 'i2' < r['resource_id'] <= 'i5'}),
    ('groupby dimension, absent key',
     {'groupby': ('image',)}, {'groupby': ('image',)}),
    ('groupby exact values', {'groupby': ('status', 'project_id')},
     {'groupby': ('status', 'project_id')}),
    ('groupby implicit with a filter',
     {'groupby': ('user_id',), 'filter': 'source = openstack'},
     {'groupby': ('user_id',)}),
    ('hour-multiple period', {'period': 7200, 'groupby': ('project_id',)},
     {'period': 7200, 'groupby': ('project_id',)}),
    ('epoch-aligned odd period', {'period': 7000},
     {'period': 7000}),
    ('short period', {'period': 900, 'dimensions': {'image': 'img1'}},
     {'period': 900, 'keep': lambda r: dim(r, 'image') == 'img1'}),
    # i1's samples are exactly at T(hours=1) and T(hours=4).
    ('start inclusive, end exclusive, aligned',
     {'start': T(hours=1), 'end': T(hours=4), 'period': 3600},
     {'start': T(hours=1), 'end': T(hours=4), 'period': 3600}),
    ('unaligned range', {'start': T(hours=1, minutes=3, seconds=7),
                         'end': T(hours=3, seconds=74.246912)},
     {'start': T(hours=1, minutes=3, seconds=7),
      'end': T(hours=3, seconds=74.246912)}),
    ('start as text with an offset',
     {'start': (BASE + datetime.timedelta(hours=3)).isoformat() + '+02:00'},
     {'start': T(hours=1)}),
    ('nothing matches', {'filter': 'status = nope'},
     {'keep': lambda r: False}),
]


def _run_case(store, rows, meter, kwargs, ref, table):
    result = stats.aggregate(store, meter, table=table, **kwargs)
    got = keyed(result, kwargs.get('groupby', ()), kwargs.get('period'))
    assert_same(got, reference(rows, meter, **ref))
    return result


def test_cases_raw_and_rollup_agree_with_reference(loaded):
    store, rows = loaded
    checked = 0
    for name, kwargs, ref in CASES:
        request = stats.make_request('cpu', **kwargs)
        tables = ['samples', 'auto']
        if stats.choose_table(request) == 'samples_hourly':
            tables.append('samples_hourly')
        results = []
        for table in tables:
            try:
                results.append(_run_case(store, rows, 'cpu', kwargs, ref,
                                         table))
            except AssertionError as exc:
                raise AssertionError('case %r on %s: %s'
                                     % (name, table, exc)) from None
            checked += 1
        assert all(r == results[0] for r in results), name
    assert checked >= 2 * len(CASES)


def test_rollup_chosen_only_when_it_gives_the_same_answer(loaded):
    store, rows = loaded
    choose = stats.choose_table
    hour = T(hours=2)
    assert choose(stats.make_request('cpu')) == 'samples_hourly'
    assert choose(stats.make_request('cpu', period=7200, start=hour,
                                     end=T(hours=5))) == 'samples_hourly'
    for odd in ({'period': 1800}, {'period': 5400},
                {'start': hour + datetime.timedelta(microseconds=1)},
                {'end': T(hours=3, minutes=1)}):
        assert choose(stats.make_request('cpu', **odd)) == 'samples', odd
    with pytest.raises(stats.StatsError, match='hour-aligned'):
        stats.aggregate(store, 'cpu', period=600, table='samples_hourly')
    # Proof that 'auto' really reads the rollup: raw rows removed behind
    # the store's back are still counted from samples_hourly only.
    with store.engine.begin() as conn:
        conn.execute(sa.delete(schema.samples).where(
            schema.samples.c.counter_name == 'cpu'))
    total = reference(rows, 'cpu')[()]['count']
    assert stats.aggregate(store, 'cpu', aggregates=('count',)) == [
        {'count': total}]
    assert stats.aggregate(store, 'cpu', period=600,
                           aggregates=('count',)) == []


def test_output_order_and_fields(loaded):
    store, rows = loaded
    result = stats.aggregate(store, 'cpu_util', groupby=('image', 'user_id'),
                             period=10800, aggregates=('count', 'avg'))
    assert list(result[0]) == ['image', 'user_id', 'period_start',
                               'period_end', 'count', 'avg']
    keys = [(r['image'] is not None, r['image'] or '',
             r['user_id'] is not None, r['user_id'] or '', r['period_start'])
            for r in result]
    assert keys == sorted(keys)
    assert result[0]['image'] is None     # samples without an image first
    assert all(r['period_start'] == EPOCH + datetime.timedelta(
        seconds=_epoch(r['period_start']) // 10800 * 10800) for r in result)


def test_bad_requests(loaded):
    store, _ = loaded
    with pytest.raises(stats.ExpressionError) as info:
        stats.aggregate(store, 'cpu', filter='a = 1 and (b = 2')
    assert info.value.position == 16
    for kwargs, message in [
            ({'aggregates': 'sum,median'}, 'median'),
            ({'period': 0}, 'period'),
            ({'start': T(hours=2), 'end': T(hours=1)}, 'end'),
            ({'start': 'yesterday'}, 'start'),
            ({'groupby': ('count',)}, 'clash')]:
        with pytest.raises(stats.StatsError, match=message):
            stats.aggregate(store, 'cpu', **kwargs)


# The rollup stays equal to a GROUP BY over samples -------------------------
def assert_rollup_consistent(store):
    s, h = schema.samples, schema.samples_hourly
    names = ('counter_name', 'resource_id', 'project_id', 'user_id',
             'source', 'dimension_set_id')
    with store.engine.connect() as conn:
        samples = conn.execute(sa.select(
            *[s.c[n] for n in names], s.c.timestamp,
            s.c.counter_volume)).all()
        hourly = conn.execute(sa.select(
            *[h.c[n] for n in names], h.c.hour, h.c['count'], h.c['sum'],
            h.c['min'], h.c['max'])).all()
    expected = {}
    for row in samples:
        key = tuple(row[:6]) + (row.timestamp.replace(
            minute=0, second=0, microsecond=0),)
        expected.setdefault(key, []).append(row.counter_volume)
    got = {}
    for row in hourly:
        key = tuple(row[:7])
        assert key not in got, 'duplicate rollup row %r' % (key,)
        got[key] = tuple(row[7:])
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    for key, volumes in expected.items():
        assert got[key] == (len(volumes), pytest.approx(sum(volumes)),
                            min(volumes), max(volumes)), key


def _changed(row, **changes):
    return dict(row, **changes)


def test_rollup_equals_group_by_after_overlaps_and_updates(db_url):
    store = _store(db_url)
    rows = [r for r in dataset() if r['counter_name'] == 'cpu']
    store.write_page('test', 'cpu', rows[:120], fingerprint=FP)
    assert_rollup_consistent(store)
    # Re-read with overlap (the lookback window): nothing counted twice.
    assert store.write_page('test', 'cpu', rows[80:200], fingerprint=FP) == 80
    assert_rollup_consistent(store)
    assert store.write_page('test', 'cpu', rows[:200], fingerprint=FP) == 0
    assert_rollup_consistent(store)
    # Samples that change on re-read: volume, metadata (new dimension
    # set), timestamp (another hour), meter; and a duplicate in the page.
    edited = [
        _changed(rows[10], counter_volume=1234.5),
        _changed(rows[11], resource_metadata={'instance_type': 'm9'}),
        _changed(rows[12], timestamp=rows[12]['timestamp']
                 + datetime.timedelta(hours=2, minutes=31)),
        _changed(rows[13], counter_name='cpu_util'),
        _changed(rows[14], resource_metadata={}, project_id='p9'),
        rows[15], _changed(rows[15], counter_volume=-1.0),
        rows[199],
    ]
    assert store.write_page('test', 'cpu', edited, fingerprint=FP) == 0
    assert_rollup_consistent(store)
    store.write_page('test', 'cpu', rows[200:], fingerprint=FP)
    assert_rollup_consistent(store)
    final = {r['message_id']: r for r in rows}
    # Within one page the documented version of a duplicated id wins.
    final.update((r['message_id'], r)
                 for r in duplicates.latest_versions(edited))
    final = list(final.values())
    for kwargs, ref in [
            ({}, {}),
            ({'groupby': ('instance_type', 'project_id'), 'period': 3600},
             {'groupby': ('instance_type', 'project_id'), 'period': 3600})]:
        raw = stats.aggregate(store, 'cpu', table='samples', **kwargs)
        rolled = stats.aggregate(store, 'cpu', table='samples_hourly',
                                 **kwargs)
        assert rolled == raw
        assert_same(keyed(raw, kwargs.get('groupby', ()),
                          kwargs.get('period')),
                    reference(final, 'cpu', **ref))


def test_migration_fills_the_rollup_from_existing_samples(db_url):
    store = Store(db_url)
    rows = [r for r in dataset() if r['counter_name'] == 'cpu_util'][:150]
    with store.engine.begin() as conn:
        command.upgrade(migration._config(conn), '001')
    with store.engine.begin() as conn:
        conn.execute(sa.insert(schema.samples), [
            dict(r, dimension_set_id=None) for r in rows])
    before, _ = store.upgrade()
    assert before == '001'
    assert_rollup_consistent(store)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(
            schema.samples_hourly)).scalar() > 0


def test_rebuild_dimensions_after_changing_the_filter(db_url):
    store = _store(db_url)
    rows = [r for r in dataset() if r['counter_name'] == 'cpu']
    _write(store, rows)
    narrow = dimensions.DimensionFilter(exclude=('status', 'disk_gb'))
    rebuilt = Store(db_url, narrow)
    report = rebuilt.rebuild_dimensions(batch=50)
    with_status = [r for r in rows if 'status' in r['resource_metadata']
                   or 'disk_gb' in r['resource_metadata']]
    assert report['samples'] == len(rows)
    assert report['changed'] == len(with_status)
    assert report['dimension_rows_deleted'] > 0
    assert_rollup_consistent(rebuilt)
    with rebuilt.engine.connect() as conn:
        keys = set(conn.execute(sa.text(
            'SELECT DISTINCT d.%s FROM dimensions d' % (
                conn.dialect.identifier_preparer.quote('key')))).scalars())
        view_rows = conn.execute(sa.text(
            'SELECT COUNT(*) FROM sample_dimensions')).scalar()
    assert keys == {'instance_type', 'image'}
    assert view_rows == sum(
        len(set(r['resource_metadata']) - {'status', 'disk_gb'})
        for r in rows)
    assert stats.aggregate(rebuilt, 'cpu', dimensions={'status': 'active'}) \
        == []
    assert rebuilt.rebuild_dimensions(batch=50) == {
        'samples': len(rows), 'changed': 0, 'dimension_rows_deleted': 0}
    # And back: the JSON kept everything.
    assert store.rebuild_dimensions()['changed'] == len(with_status)
    assert_same(keyed(stats.aggregate(store, 'cpu', groupby=('status',)),
                      ('status',)),
                reference(rows, 'cpu', groupby=('status',)))


# The command ---------------------------------------------------------------
def _conf(tmp_path, url):
    path = tmp_path / 'stats.conf'
    path.write_text('[database]\nconnection = %s\n' % url)
    return str(path)


def test_cli_json_csv_table(loaded, tmp_path, capsys):
    store, rows = loaded
    conf = _conf(tmp_path, store.engine.url.render_as_string(
        hide_password=False))
    args = ['--config-file', conf, '--meter', 'cpu', '--dimension',
            'instance_type=m1.yyyy', '--groupby', 'project_id',
            '--period', '7200', '--start', '2024-03-10T02:00:00Z',
            '--end', '2024-03-10T06:00:00Z', '--aggregate', 'sum,count']
    assert stats_cmd.main(args + ['--format', 'json']) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = reference(rows, 'cpu', lambda r: dim(
        r, 'instance_type') == 'm1.yyyy', ('project_id',), 7200,
        T(hours=2), T(hours=6))
    assert printed == [
        {'project_id': key[0],
         'period_start': key[1].isoformat() + 'Z',
         'period_end': (key[1] + datetime.timedelta(hours=2)).isoformat()
         + 'Z',
         'sum': pytest.approx(figures['sum']), 'count': figures['count']}
        for key, figures in sorted(expected.items())]
    assert printed[0]['period_start'] == '2024-03-10T02:00:00Z'
    assert stats_cmd.main(args + ['--format', 'csv']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'project_id,period_start,period_end,sum,count'
    assert len(lines) == len(printed) + 1
    assert stats_cmd.main(args) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ['project_id', 'period_start', 'period_end',
                                'sum', 'count']
    assert len(table) == len(printed) + 1


def test_cli_usage_errors(loaded, tmp_path, capsys):
    store, _ = loaded
    conf = _conf(tmp_path, store.engine.url.render_as_string(
        hide_password=False))
    base = ['--config-file', conf, '--meter', 'cpu']
    assert stats_cmd.main(base + ['--filter', 'a = 1 & (b = 2']) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == ("ceilometer-export-stats: error: --filter: expected "
                      "')', found end of expression at column 15")
    assert err[1:] == ['  a = 1 & (b = 2', '                ^']
    assert stats_cmd.main(base + ['--aggregate', 'sum,p99']) == 2
    assert '--aggregate' in capsys.readouterr().err
    assert stats_cmd.main(base + ['--dimension', 'flavor']) == 2
    assert 'KEY=VALUE' in capsys.readouterr().err
    assert stats_cmd.main(['--config-file', conf]) == 2
    assert 'meter' in capsys.readouterr().err


def test_cli_refuses_unmigrated_database(make_db_url, tmp_path, capsys):
    conf = _conf(tmp_path, make_db_url('sqlite'))
    assert stats_cmd.main(['--config-file', conf, '--meter', 'cpu']) == 2
    assert 'ceilometer-export-dbsync' in capsys.readouterr().err
