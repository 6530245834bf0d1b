"""The real ``ceilometer-export --once`` against the real Ceilometer 9.0.7
API, into real databases: the database must hold exactly the samples that
were loaded (through Ceilometer's storage driver) and that the mapping
selects, field by field.

The expected rows are computed from the loaded samples alone, not from the
simulator, so these tests do not share its blind spots.
"""
import datetime

import pytest

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import model
from tests.functional import harness
from tests.functional.upstream import cloud

METERS = ('cpu_util', 'network.incoming.bytes', 'image.size')
FIELDS = ('message_id', 'counter_name', 'counter_type', 'counter_unit',
          'counter_volume', 'user_id', 'project_id', 'resource_id', 'source')


def _cloud():
    # 8 instances polled at one instant: ties of 8 (12 for NICs); plus
    # cloud.ELSEWHERE, whose newest sample is p-beta's.
    return generate_samples(seed=7, cycles=3) + [
        s for s in cloud.samples() if s['counter_name'] == cloud.ELSEWHERE]


CLOUD = _cloud()


@pytest.fixture(scope='module')
def shared(start_upstream):
    """One API for the tests that only read."""
    return start_upstream(CLOUD)


def _expected(samples, meters=None, where=lambda s: True):
    """{message_id: row} as harness.exported() renders the samples table."""
    out = {}
    for s in samples:
        if (meters is None or s['counter_name'] in meters) and where(s):
            row = {k: s[k] for k in FIELDS}
            row['resource_metadata'] = model.flatten_metadata(
                s['resource_metadata'])
            row['timestamp'] = s['timestamp'].isoformat()
            row['recorded_at'] = s['recorded_at'].isoformat()
            out[s['message_id']] = row
    return out


def _exported(db_url):
    # The only known divergence a row can carry: metadata lists rendered
    # with bytes by 9.0.7 on Python 3 (test_divergences.py).
    return cloud.known_divergences(harness.exported(db_url))


def _export(tmp_path, api, db_url, mappings, **sections):
    conf = tmp_path / 'export.conf'
    if not conf.exists():
        harness.configure(conf, None, db_url, mappings,
                          credentials=api.credentials(), **sections)
    else:
        harness.write_config(conf, None, db_url, mappings,
                             credentials=api.credentials(), **sections)
    result = harness.run('ceilometer-export', '--config-file', str(conf),
                         '--once')
    assert result.returncode == 0, result.stderr[-2000:]
    return result


@pytest.mark.parametrize('mode,backend', [('complex', 'sqlite'),
                                          ('simple', 'sqlite'),
                                          ('complex', 'postgresql')])
def test_ties_larger_than_the_page(tmp_path, shared, make_db_url, mode,
                                   backend):
    db_url = make_db_url(backend)
    _export(tmp_path, shared, db_url, {'all': ('', ', '.join(METERS))},
            ceilometer={'page_size': '3', 'query_mode': mode})
    want = _expected(CLOUD, METERS)
    assert len(want) > 60
    assert _exported(db_url) == want
    cps = harness.checkpoints(db_url)
    newest = max(s['timestamp'] for s in CLOUD
                 if s['counter_name'] == 'cpu_util')
    assert cps[('all', 'cpu_util')].last_timestamp == newest


@pytest.mark.parametrize('mode', ['complex', 'simple'])
def test_every_meter_of_one_project(tmp_path, shared, make_db_url, mode):
    # Issue 7: /v2/meters filtered by project lists only the meters whose
    # newest sample is that project's; discovery must not use the filter.
    # Beside it, in the same pass, a mapping on typed metadata values.
    db_url = make_db_url('sqlite')
    mappings = {'alpha': ('project_id=p-alpha-0001', '*'),
                'typed': ('metadata.memory_mb=2048;metadata.status=active',
                          'cpu_util')}
    _export(tmp_path, shared, db_url, mappings,
            ceilometer={'page_size': '50', 'query_mode': mode})
    alpha = _expected(CLOUD, where=lambda s: s['project_id'] == 'p-alpha-0001')
    assert cloud.ELSEWHERE in {r['counter_name'] for r in alpha.values()}
    typed = _expected(CLOUD, ['cpu_util'], lambda s: (
        s['resource_metadata'].get('memory_mb') == 2048 and
        s['resource_metadata'].get('status') == 'active'))
    assert set(typed) - set(alpha), 'the typed mapping must add rows'
    assert _exported(db_url) == dict(alpha, **typed)


@pytest.mark.parametrize('mode', ['complex', 'auto'])
def test_source_mapping_is_read_in_simple_mode(tmp_path, shared,
                                               make_db_url, mode):
    # 9.0.7's SQL driver answers a complex filter on 'source' with a 500;
    # such a CLI mapping is read with simple queries instead.
    db_url = make_db_url('sqlite')
    source = CLOUD[0]['source']
    _export(tmp_path, shared, db_url, {'src': ('source=%s' % source,
                                               'cpu_util')},
            ceilometer={'page_size': '50', 'query_mode': mode})
    want = _expected(CLOUD, ['cpu_util'], lambda s: s['source'] == source)
    assert want
    assert _exported(db_url) == want


def _late(sample, when, n):
    return dict(sample, message_id='late-%04d-%s' % (n, sample['message_id']),
                timestamp=when,
                recorded_at=when + datetime.timedelta(seconds=30))


def test_late_samples_inside_and_outside_the_lookback(
        tmp_path, start_upstream, make_db_url):
    api = start_upstream(CLOUD)
    mappings = {'all': ('', 'cpu_util')}
    runs = {mode: (tmp_path / mode, make_db_url('sqlite'), {
        'ceilometer': {'page_size': '20', 'query_mode': mode},
        'export': {'lookback': '900'}}) for mode in ('complex', 'simple')}
    for path, db_url, opts in runs.values():
        path.mkdir()
        _export(path, api, db_url, mappings, **opts)
    cpu = [s for s in CLOUD if s['counter_name'] == 'cpu_util']
    newest = max(s['timestamp'] for s in cpu)
    step = datetime.timedelta(seconds=300)
    inside = [_late(cpu[0], newest - step * i, i) for i in range(3)]
    outside = _late(cpu[0], newest - step * 4, 4)
    fresh = _late(cpu[1], newest + step, 99)
    assert api.add_samples(inside + [outside, fresh]) == 5
    for mode, (path, db_url, opts) in runs.items():
        _export(path, api, db_url, mappings, **opts)
        got = _exported(db_url)
        # Older than the lookback window: documented as not re-read.
        assert outside['message_id'] not in got, mode
        assert got == _expected(cpu + inside + [fresh]), mode


def test_changed_query_starts_the_pair_over(tmp_path, shared, make_db_url):
    db_url = make_db_url('sqlite')
    _export(tmp_path, shared, db_url,
            {'m': ('project_id=p-alpha-0001', 'cpu_util')})
    before = harness.checkpoints(db_url)[('m', 'cpu_util')]
    result = _export(tmp_path, shared, db_url,
                     {'m': ('project_id=p-beta-0002', 'cpu_util')})
    after = harness.checkpoints(db_url)[('m', 'cpu_util')]
    assert after.query_fingerprint != before.query_fingerprint
    assert 'the query changed' in result.stderr

    def project(*names):
        return lambda s: s['project_id'] in names
    # Rows already exported stay; the new query's rows are all there.
    assert _exported(db_url) == _expected(
        CLOUD, ['cpu_util'], project('p-alpha-0001', 'p-beta-0002'))
