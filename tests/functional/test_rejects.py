"""Samples that cannot be stored go to export_rejects, through the real API
path: the rest of their page lands and the checkpoint moves past them."""

import datetime
import json

import pytest
import sqlalchemy as sa

from ceilometer_export.cmd import export
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import model
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import schema
from ceilometer_export import store as store_mod
from tests.functional import harness

METERS = 'cpu_util, network.incoming.bytes'
WANT = ('cpu_util', 'network.incoming.bytes')
# What the API sends instead (OldSample field -> value), the reason code
# expected, and what json.loads(raw) must give back for that field.
DAMAGE = [
    ({'counter_volume': float('inf')}, 'volume'),
    ({'counter_volume': '12.5 percent'}, 'volume'),
    ({'timestamp': 'yesterday at noon'}, 'timestamp'),
    ({'message_id': model.MISSING}, 'message_id'),
    ({'resource_metadata': {'display_name': 'caf\udce9'}}, 'unicode'),
    # Raw bytes that are not UTF-8: never replaced, rejected escaped.
    ({'resource_metadata': b'{"display_name": "caf\xe9"}'}, 'unicode'),
    ({'resource_metadata': {'note': 'a\x00b'}}, 'unicode'),
    ({'resource_id': 'r' * 300}, 'too_long'),
    # Last: the newest cpu_util sample; the checkpoint must pass it.
    ({'counter_volume': float('nan')}, 'volume'),
]


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=5, cycles=8)) as running:
        yield running


def _damage(sim):
    cpu = [s for s in harness.expected(sim, ['cpu_util']).values()]
    cpu.sort(key=lambda s: (s['timestamp'], s['message_id']))
    # Spread over the meter, so most pages hold one; the last one last.
    picked = cpu[3:-1:max(1, len(cpu) // len(DAMAGE))][:len(DAMAGE) - 1]
    picked.append(cpu[-1])
    for sample, (fields, _) in zip(picked, DAMAGE):
        sim.corrupt(sample['message_id'], fields)
    return picked


def _rejects(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(schema.export_rejects).order_by(
                schema.export_rejects.c.id)).mappings().all()
    finally:
        engine.dispose()


@pytest.mark.parametrize('mode', ['complex', 'simple'])
def test_each_reject_reason_lands_and_the_rest_is_stored(
        tmp_path, sim, make_db_url, mode, request):
    backends = ['sqlite', 'postgresql', 'mysql'] if mode == 'complex' \
        else ['sqlite']
    picked = _damage(sim)
    bad_ids = {s['message_id'] for s in picked}
    good = {k: v for k, v in harness.expected(sim, WANT).items()
            if k not in bad_ids}
    for backend in backends:
        db_url = make_db_url(backend)
        conf = harness.configure(
            tmp_path / ('%s.conf' % backend), sim, db_url,
            {'all': ('', METERS)},
            ceilometer={'page_size': '7', 'query_mode': mode})
        # Twice: the lookback re-read must not store the rejects again.
        for _ in range(2):
            assert export.main(['--config-file', conf, '--once']) == 0
        assert harness.exported(db_url) == good, backend
        rows = _rejects(db_url)
        assert sorted(r['reason'].split(':')[0] for r in rows) == \
            sorted(code for _, code in DAMAGE), backend
        _check_raw(rows, picked)
        cp = harness.checkpoints(db_url)[('all', 'cpu_util')]
        assert (cp.last_timestamp.isoformat(), cp.last_message_id) == (
            picked[-1]['timestamp'], picked[-1]['message_id'])
        assert cp.samples_exported == len(
            [s for s in good.values() if s['counter_name'] == 'cpu_util'])
        counts = store_mod.Store(db_url).reject_counts()
        assert counts == {('all', 'cpu_util'): {
            'volume': 3, 'timestamp': 1, 'message_id': 1, 'unicode': 3,
            'too_long': 1}}


def _check_raw(rows, picked):
    """raw is ASCII JSON that gives back what the API sent."""
    by_id = {r['message_id']: r for r in rows}
    for sample, (fields, code) in zip(picked, DAMAGE):
        if code == 'message_id':
            row = next(r for r in rows if r['reason'].startswith(code))
        else:
            row = by_id[sample['message_id']]
        assert row['raw'].isascii()
        raw = json.loads(row['raw'])
        for key, value in fields.items():
            api_key = key if key in raw or value is model.MISSING else \
                {'counter_volume': 'volume', 'resource_metadata': 'metadata',
                 'message_id': 'id'}[key]
            if value is model.MISSING:
                assert api_key not in raw and 'id' not in raw
            elif isinstance(value, bytes):
                assert raw[api_key] == {'display_name': 'caf\udce9'}
            elif value != value:
                assert raw[api_key] != raw[api_key]    # NaN stays NaN
            else:
                assert raw[api_key] == value


def test_duplicate_message_id_keeps_the_latest_version(tmp_path, sim,
                                                       make_db_url):
    db_url = make_db_url('sqlite')
    cpu = sorted(harness.expected(sim, ['cpu_util']).values(),
                 key=lambda s: s['timestamp'])
    older, newer = cpu[2], cpu[-3]
    twin = dict(sim.store.by_id(older['message_id'])[0].raw(),
                timestamp=newer['timestamp'], counter_volume=-1.0,
                recorded_at=None)
    sim.add_samples([twin])
    conf = harness.configure(tmp_path / 'export.conf', sim, db_url,
                             {'all': ('', 'cpu_util')},
                             ceilometer={'page_size': '5'})
    assert export.main(['--config-file', conf, '--once']) == 0
    stored = harness.exported(db_url)[older['message_id']]
    assert (stored['timestamp'], stored['counter_volume']) == (
        newer['timestamp'], -1.0)
    # A backfill that reads only the older version does not bring it back.
    until = datetime.datetime.fromisoformat(older['timestamp']) + \
        datetime.timedelta(seconds=1)
    assert export.main(['--config-file', conf, '--once', '--since',
                        older['timestamp'], '--until',
                        until.isoformat()]) == 0
    assert harness.exported(db_url)[older['message_id']][
        'counter_volume'] == -1.0
