"""Status tells the truth: run history, mapping-level failures, meters a
pass did not reach, counts that restart with the query, freshness apart
from lag, and --max-lag."""

import datetime
import json
import os
import socket

import pytest
import sqlalchemy as sa

from ceilometer_export.cmd import export
from ceilometer_export import daemon
from ceilometer_export import notify
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import schema
from tests.functional import harness

METERS = 'cpu_util, network.incoming.bytes'


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=5, cycles=4)) as running:
        yield running


def _status(conf, *args):
    result = harness.run('ceilometer-export-status', '--config-file', conf,
                         '--format', 'json', *args)
    assert result.returncode in (0, 1) and result.stdout, result.stderr
    found = {(r['mapping'], r['meter']): r for r in json.loads(result.stdout)}
    return result.returncode, found, result.stderr


def _runs(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(schema.export_runs).order_by(
                schema.export_runs.c.id)).mappings().all()
    finally:
        engine.dispose()


def test_every_pass_is_a_run_and_status_names_its_worker(
        tmp_path, sim, db_url):
    conf = harness.configure(tmp_path / 'e.conf', sim, db_url,
                             {'all': ('', METERS)})
    assert export.main(['--config-file', conf, '--once']) == 0
    stamps = sorted({s['timestamp'] for s in sim.samples()})
    assert export.main(['--config-file', conf, '--once',
                        '--since', stamps[1]]) == 0
    runs = _runs(db_url)
    me = '%s:%d' % (socket.gethostname(), os.getpid())
    want = len(harness.expected(sim, METERS.split(', ')))
    assert [(r.kind, r.mapping, r.outcome, r.worker, r.error)
            for r in runs] == [('export', 'all', 'ok', me, None),
                               ('backfill', 'all', 'ok', me, None)]
    assert [r.samples for r in runs] == [want, 0]
    assert all(r.started_at <= r.finished_at for r in runs)
    code, found, _ = _status(conf, '--max-lag', '3600')
    assert code == 0
    pair = found[('all', 'cpu_util')]
    assert (pair['state'], pair['worker'], pair['rejects']) == ('ok', me, 0)
    # The data is from 2024: old, but the pair was read just now.
    assert pair['lag_seconds'] > 3600 * 24 * 30
    assert pair['freshness_seconds'] < 600
    assert found[('all', '*')]['state'] == 'ok'


def test_discovery_failure_is_shown_for_the_mapping(tmp_path, sim,
                                                    make_db_url):
    db_url = make_db_url('sqlite')
    conf = harness.configure(tmp_path / 'e.conf', sim, db_url,
                             {'every': ('project_id=p-alpha-0001', '*')},
                             ceilometer={'query_mode': 'complex'})
    sim.faults.fail_next(3, status=503)   # the listing, and its 2 retries
    assert export.main(['--config-file', conf, '--once']) == 1
    assert harness.checkpoints(db_url) == {}
    [run] = _runs(db_url)
    assert run.outcome == 'failed' and 'HTTP 503' in run.error
    code, found, stderr = _status(conf, '--max-lag', '3600')
    assert code == 1 and 'never read to the end' in stderr
    row = found[('every', '*')]
    assert row['state'] == 'failed' and 'HTTP 503' in row['last_error']
    assert row['freshness_seconds'] is None


def test_meters_a_stopped_pass_did_not_reach(tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    conf = harness.configure(tmp_path / 'e.conf', sim, db_url,
                             {'all': ('', METERS)})
    assert export.main(['--config-file', conf, '--once']) == 0
    sim.add_samples(generate_samples(
        seed=6, cycles=1, start=datetime.datetime(2024, 2, 1)))
    # A SIGTERM that arrives once the first meter is done.
    run = export.Daemon(['--config-file', conf, '--once'],
                        daemon.Supervisor(notify.Notifier({})))
    run.build()
    stop, mappings, backfill, worker = (run.stop, run.mappings,
                                        run.backfill, run.worker)
    record = worker.store.record_result

    def then_stop(*args, **kwargs):
        record(*args, **kwargs)
        stop.set()
    worker.store.record_result = then_stop
    assert worker.run_pass(mappings, backfill)
    _, found, _ = _status(conf)
    assert found[('all', '*')]['state'] == 'interrupted'
    assert found[('all', 'cpu_util')]['state'] == 'ok'
    assert found[('all', 'network.incoming.bytes')]['state'] == \
        'not reached'


def test_count_restarts_with_a_changed_query(tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    alpha, beta = 'project_id=p-alpha-0001', 'project_id=p-beta-0002'
    for query in (alpha, beta, alpha):
        conf = harness.configure(tmp_path / 'e.conf', sim, db_url,
                                 {'m': (query, 'cpu_util')})
        assert export.main(['--config-file', conf, '--once']) == 0
    selected = harness.expected(
        sim, ['cpu_util'], where=lambda s: s['project_id'] == 'p-alpha-0001')
    assert selected
    cp = harness.checkpoints(db_url)[('m', 'cpu_util')]
    assert cp.samples_exported == len(selected)


def test_max_lag_fails_on_a_stale_pair_and_a_never_run_mapping(
        tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    conf = harness.configure(tmp_path / 'e.conf', sim, db_url,
                             {'all': ('', 'cpu_util'),
                              'later': ('', 'instance')})
    assert export.main(['--config-file', conf, '--once', '--mapping',
                        'all']) == 0
    code, found, stderr = _status(conf, '--max-lag', '3600')
    assert code == 1
    assert 'mapping later meter instance: never read to the end' in stderr
    assert 'mapping all' not in stderr
    assert found[('later', 'instance')]['state'] == 'never exported'
    assert export.main(['--config-file', conf, '--once']) == 0
    code, found, _ = _status(conf, '--max-lag', '3600')
    assert code == 0
    assert found[('later', 'instance')]['state'] in ('ok', 'no samples')
    # Two hours later, without a pass.
    engine = sa.create_engine(db_url)
    t = schema.export_checkpoints
    with engine.begin() as conn:
        for row in conn.execute(sa.select(t)).all():
            conn.execute(sa.update(t).where(
                t.c.mapping == row.mapping, t.c.meter == row.meter).values(
                last_success_at=row.last_success_at
                - datetime.timedelta(hours=2)))
    engine.dispose()
    code, found, stderr = _status(conf, '--max-lag', '3600')
    assert code == 1 and 'mapping all meter cpu_util: last read' in stderr
    assert found[('all', 'cpu_util')]['freshness_seconds'] >= 7200
