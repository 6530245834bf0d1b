"""The ready SQL of doc/bi.rst, run exactly as written on PostgreSQL and
MariaDB over exported samples, against answers computed here."""

import datetime
import pathlib
import re

import pytest

from ceilometer_export.store import Store

DOC = pathlib.Path(__file__).resolve().parents[2] / 'doc' / 'bi.rst'
BLOCK = re.compile(r'^\.\. code-block:: sql\n\n((?:    .*\n|\n)+)', re.M)
HEADER = re.compile(r'^-- ([a-z-]+) \(([a-z, ]+)\)$')

# resource, project, flavor (None: no such dimension); the traps are a
# flavor differing only by case and a sample outside the range.
RESOURCES = [('inst-1', 'p1', 'm1.small'), ('inst-2', 'p1', 'M1.SMALL'),
             ('inst-3', 'p2', 'm1.large'), ('inst-4', 'p2', None),
             ('inst-5', None, 'm1.small')]
START = datetime.datetime(2024, 3, 10, 19, 0, 0)


def blocks():
    """{(name, backend): sql} from the document."""
    found = {}
    for match in BLOCK.finditer(DOC.read_text()):
        lines = [line[4:] for line in match.group(1).splitlines()]
        header = HEADER.match(lines[0])
        assert header, 'SQL block without "-- name (backends)": %r' % lines[0]
        sql = '\n'.join(lines[1:]).strip()
        for backend in header.group(2).split(','):
            found[(header.group(1), backend.strip())] = sql
    return found


def dataset():
    rows = []
    for n, (rid, project, flavor) in enumerate(RESOURCES):
        metadata = {'status': 'active'}
        if flavor:
            metadata['instance_type'] = flavor
        for i in range(20):   # every 30 minutes: across midnight
            for meter in ('cpu_util', 'memory'):
                rows.append(dict(
                    message_id='%s-%s-%02d' % (meter, rid, i),
                    counter_name=meter, counter_type='gauge',
                    counter_unit='%', counter_volume=(n * 7 + i * 3) % 50
                    + 0.5 * n, project_id=project, resource_id=rid,
                    user_id='u', source='openstack',
                    timestamp=START + datetime.timedelta(
                        minutes=30 * i, seconds=n * 61, microseconds=n),
                    recorded_at=None, resource_metadata=dict(metadata)))
    # Outside the documented month.
    rows.append(dict(rows[0], message_id='old', timestamp=datetime.datetime(
        2024, 2, 29, 23, 59, 59, 999999)))
    return rows


def _selected(rows, start=datetime.datetime(2024, 3, 1),
              end=datetime.datetime(2024, 4, 1)):
    return [r for r in rows if r['counter_name'] == 'cpu_util'
            and start <= r['timestamp'] < end]


def _figures(volumes):
    return [len(volumes), sum(volumes), sum(volumes) / len(volumes),
            min(volumes), max(volumes)]


def _grouped(rows, key):
    groups = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row['counter_volume'])
    return groups


def _nulls_sort(value):
    return (value is None, value or '')


def expect_per_project(rows, backend):
    groups = _grouped(_selected(rows), lambda r: (
        r['project_id'], r['timestamp'].date()))
    # PostgreSQL sorts NULL last, MySQL first.
    order = sorted(groups, key=lambda k: (
        _nulls_sort(k[0]) if backend == 'postgresql'
        else (k[0] is not None, k[0] or ''), k[1]))
    return [list(k) + _figures(groups[k]) for k in order]


def expect_per_flavor(rows, backend):
    groups = _grouped([r for r in _selected(rows)
                       if 'instance_type' in r['resource_metadata']],
                      lambda r: (r['resource_metadata']['instance_type'],
                                 r['timestamp'].date()))
    return [list(k) + [f for i, f in enumerate(_figures(groups[k]))
                       if i != 3] for k in sorted(groups)]


def expect_top(rows, backend):
    groups = _grouped(_selected(rows), lambda r: r['resource_id'])
    ranked = sorted(groups, key=lambda k: (-sum(groups[k]), k))[:10]
    return [[k, sum(groups[k]), len(groups[k]), max(groups[k])]
            for k in ranked]


def expect_samples_with_flavor(rows, backend):
    day = _selected(rows, datetime.datetime(2024, 3, 10),
                    datetime.datetime(2024, 3, 11))
    day.sort(key=lambda r: (r['timestamp'], r['resource_id']))
    return [[r['timestamp'], r['resource_id'], r['project_id'],
             r['counter_volume'],
             r['resource_metadata'].get('instance_type')] for r in day]


def expect_dimensions_of_samples(rows, backend):
    mine = sorted((r for r in rows if r['resource_id'] == 'inst-1'
                   and r['counter_name'] == 'cpu_util'),
                  key=lambda r: r['message_id'])
    return [[r['message_id'], key, r['resource_metadata'][key]]
            for r in mine for key in sorted(r['resource_metadata'])]


EXPECTED = {
    'usage-per-project-per-day': expect_per_project,
    'usage-per-project-per-day-raw': expect_per_project,
    'usage-per-flavor-per-day': expect_per_flavor,
    'top-resources': expect_top,
    'samples-with-flavor': expect_samples_with_flavor,
    'dimensions-of-samples': expect_dimensions_of_samples,
}

# Ordered by a flavor name: a PostgreSQL database with a non-C locale
# sorts 'M1.SMALL' elsewhere; the rows are what is checked.
ORDER_FOLLOWS_LOCALE = {'usage-per-flavor-per-day'}


def test_every_block_is_known_and_covers_both_backends():
    found = blocks()
    assert {name for name, _ in found} == set(EXPECTED)
    for name in EXPECTED:
        assert (name, 'postgresql') in found and (name, 'mysql') in found


def _plain(value):
    # Decimal from SUM over integers; floats compared approximately.
    if value is None or isinstance(value, (str, datetime.date)):
        return value
    return pytest.approx(float(value))


@pytest.mark.parametrize('backend', ['postgresql', 'mysql'])
def test_documented_sql_gives_the_expected_answers(make_db_url, backend):
    store = Store(make_db_url(backend))
    store.upgrade()
    store.start_pair('doc', 'all', 'f' * 64)
    rows = dataset()
    store.write_page('doc', 'all', rows)
    ran = 0
    with store.engine.connect() as conn:
        for (name, dialect), sql in sorted(blocks().items()):
            if dialect != backend:
                continue
            got = [list(r) for r in conn.exec_driver_sql(sql)]
            expected = EXPECTED[name](rows, backend)
            if name in ORDER_FOLLOWS_LOCALE:
                got.sort(key=repr)
                expected.sort(key=repr)
            assert got == [[_plain(v) for v in row] for row in expected], \
                name
            assert got, name
            ran += 1
    assert ran == len(EXPECTED)
