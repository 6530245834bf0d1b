"""The real exporter against the simulator, into every real database:
the database must equal the simulator's data, sample by sample and field
by field."""

import datetime
import uuid

import pytest

from ceilometer_export.cmd import export
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export import timeutil
from tests.functional import harness

METERS = ('cpu_util', 'network.incoming.bytes', 'storage.objects')


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=7, cycles=6)) as running:
        yield running


def _export(tmp_path, sim, db_url, *args, mappings=None, **sections):
    mappings = mappings or {'all': ('', ', '.join(METERS))}
    conf = harness.write_config(tmp_path / 'export.conf', sim, db_url,
                                mappings, **sections)
    if not (tmp_path / 'synced').exists():
        assert harness.run('ceilometer-export-dbsync', '--config-file',
                           conf).returncode == 0
        (tmp_path / 'synced').touch()
    return export.main(['--config-file', conf] + list(args))


def _late_copy(sample, when):
    late = dict(sample, message_id=str(uuid.uuid1()), timestamp=when,
                recorded_at=None)
    return late


@pytest.mark.parametrize('mode', ['complex', 'simple'])
def test_ties_larger_than_page_exported_exactly_once(tmp_path, sim, db_url,
                                                     mode):
    # 8 instances share every polling timestamp: ties of 8 (12 for NICs)
    # against pages of 3.
    code = _export(tmp_path, sim, db_url, '--once',
                   ceilometer={'page_size': '3', 'query_mode': mode})
    assert code == 0
    assert harness.exported(db_url) == harness.expected(sim, METERS)
    cps = harness.checkpoints(db_url)
    newest = max(s['timestamp'] for s in sim.samples()
                 if s['counter_name'] == 'cpu_util')
    assert timeutil.format_api(cps[('all', 'cpu_util')].last_timestamp) \
        == newest
    assert cps[('all', 'cpu_util')].samples_exported == len(
        harness.expected(sim, ['cpu_util']))


@pytest.mark.parametrize('mode', ['complex', 'simple'])
def test_late_samples_inside_lookback(tmp_path, sim, make_db_url, mode):
    db_url = make_db_url('sqlite')
    opts = {'ceilometer': {'page_size': '5', 'query_mode': mode},
            'export': {'lookback': '900'}}
    assert _export(tmp_path, sim, db_url, '--once', **opts) == 0
    raw = [s for s in generate_samples(seed=7, cycles=6)
           if s['counter_name'] == 'cpu_util']
    newest = max(s['timestamp'] for s in raw)
    inside = [_late_copy(raw[0], newest - datetime.timedelta(seconds=s))
              for s in (0, 300, 600)]
    outside = _late_copy(raw[0], newest - datetime.timedelta(hours=1))
    fresh = _late_copy(raw[1], newest + datetime.timedelta(minutes=10))
    sim.add_samples(inside + [outside, fresh])
    assert _export(tmp_path, sim, db_url, '--once', **opts) == 0
    got = harness.exported(db_url)
    for sample in inside + [fresh]:
        assert sample['message_id'] in got
    # Older than the lookback window: documented as not re-read.
    assert outside['message_id'] not in got
    want = harness.expected(sim, METERS)
    del want[outside['message_id']]
    assert got == want


def test_auto_mode_follows_capabilities(tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    sim.complex_query = False
    assert _export(tmp_path, sim, db_url, '--once',
                   ceilometer={'page_size': '4'}) == 0
    assert harness.exported(db_url) == harness.expected(sim, METERS)
    posts = [r for r in sim.request_log if r['method'] == 'POST']
    assert posts == []
    gets = [r for r in sim.request_log
            if r['path'].startswith('/v2/meters/')
            and not r['path'].endswith('/statistics')]
    assert gets and all('limit' in r['query'] for r in gets)


def _meta(key):
    return lambda s: s['resource_metadata'].get(key)


@pytest.mark.parametrize('query,where', [
    ('project_id=p-alpha-0001;metadata.instance_type=m1.tiny',
     lambda s: s['project_id'] == 'p-alpha-0001'
     and _meta('instance_type')(s) == 'm1.tiny'),
    # Untyped numbers match the stored integer, in both modes.
    ('metadata.memory_mb=2048', lambda s: _meta('memory_mb')(s) == '2048'),
    # A string-typed number never equals a stored integer.
    ('metadata.memory_mb=string::2048', lambda s: False),
    ("metadata.status='active'", lambda s: _meta('status')(s) == 'active'),
])
def test_mapping_query_selects_same_samples_in_both_modes(
        tmp_path, sim, make_db_url, query, where):
    results = []
    for mode in ('complex', 'simple'):
        db_url = make_db_url('sqlite')
        (tmp_path / 'synced').unlink(missing_ok=True)
        assert _export(tmp_path, sim, db_url, '--once',
                       mappings={'m': (query, 'cpu_util')},
                       ceilometer={'page_size': '7',
                                   'query_mode': mode}) == 0
        results.append(harness.exported(db_url))
    want = harness.expected(sim, ['cpu_util'], where=where)
    assert want or 'string::' in query, 'the case must select something'
    assert results[0] == want
    assert results[1] == want


def test_changed_query_starts_the_pair_over(tmp_path, sim, make_db_url,
                                            capfd):
    db_url = make_db_url('sqlite')
    first = {'m': ('project_id=p-alpha-0001', 'cpu_util')}
    assert _export(tmp_path, sim, db_url, '--once', mappings=first) == 0
    before = harness.checkpoints(db_url)[('m', 'cpu_util')]
    second = {'m': ('project_id=p-beta-0002', 'cpu_util')}
    assert _export(tmp_path, sim, db_url, '--once', mappings=second) == 0
    after = harness.checkpoints(db_url)[('m', 'cpu_util')]
    assert after.query_fingerprint != before.query_fingerprint
    got = harness.exported(db_url)
    beta = harness.expected(sim, ['cpu_util'],
                            where=lambda s: s['project_id'] == 'p-beta-0002')
    assert beta and set(beta) <= set(got)
    assert 'the query changed' in capfd.readouterr().err


def test_since_until_backfill_leaves_checkpoint_alone(
        tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    stamps = sorted({s['timestamp'] for s in sim.samples()})
    since, until = stamps[1], stamps[3]
    code = _export(tmp_path, sim, db_url, '--once', '--since', since,
                   '--until', until, ceilometer={'page_size': '3'})
    assert code == 0
    want = harness.expected(
        sim, METERS, where=lambda s: since <= s['timestamp'] < until)
    assert want and harness.exported(db_url) == want
    assert all(cp.last_timestamp is None
               for cp in harness.checkpoints(db_url).values())
    # Then a normal pass exports the rest and moves the checkpoints.
    assert _export(tmp_path, sim, db_url, '--once') == 0
    assert harness.exported(db_url) == harness.expected(sim, METERS)
    # Each sample counted once, by the range or by the pass.
    for meter in METERS:
        cp = harness.checkpoints(db_url)[('all', meter)]
        assert cp.samples_exported == len(harness.expected(sim, [meter]))


def test_v2password_auth_with_tenant(tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    conf = harness.write_config(tmp_path / 'v2.conf', sim, db_url,
                                {'all': ('', 'cpu_util')}, auth='v2password')
    assert harness.run('ceilometer-export-dbsync', '--config-file',
                       conf).returncode == 0
    assert export.main(['--config-file', conf, '--once']) == 0
    assert harness.exported(db_url) == harness.expected(sim, ['cpu_util'])


def test_discovered_meters(tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    assert _export(tmp_path, sim, db_url, '--once',
                   mappings={'every': ('', '*')}) == 0
    assert harness.exported(db_url) == harness.expected(sim)


@pytest.mark.parametrize('mode', ['complex', 'simple'])
def test_hundreds_sharing_one_timestamp(tmp_path, make_db_url, mode):
    # A real polling cycle: 250 instances stamped alike, pages of 100.
    data = generate_samples(seed=11, cycles=2, instances=250,
                            meters=['cpu_util'])
    db_url = make_db_url('postgresql')
    with Simulator(samples=data) as big:
        assert _export(tmp_path, big, db_url, '--once',
                       mappings={'all': ('', 'cpu_util')},
                       ceilometer={'page_size': '100',
                                   'query_mode': mode}) == 0
        assert harness.exported(db_url) == harness.expected(big)
        limits = {int(r['query'].get('limit', ['0'])[0])
                  for r in big.request_log if r['method'] == 'GET'
                  and not r['path'].endswith('/statistics')}
    if mode == 'simple':
        # The tie group did not fit a page: it was read with a larger limit.
        assert max(limits) > 100
