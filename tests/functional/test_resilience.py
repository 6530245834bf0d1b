"""Crashes, signals and a failing API: nothing exported is ever lost or
doubled, and one broken mapping never stops the others."""

import signal
import subprocess
import time

import pytest
import sqlalchemy as sa

from ceilometer_export.cmd import export
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import checkpoints
from tests.functional import harness

METERS = 'cpu_util, network.incoming.bytes'
WANT = ('cpu_util', 'network.incoming.bytes')


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=3, cycles=6)) as running:
        yield running


def _config(tmp_path, sim, db_url, mappings=None, **sections):
    return harness.configure(tmp_path / 'export.conf', sim, db_url,
                             mappings or {'all': ('', METERS)}, **sections)


def _count(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text('SELECT COUNT(*) FROM samples')
                                ).scalar()
    finally:
        engine.dispose()


def test_crash_inside_a_page_transaction_resumes_exactly(
        tmp_path, sim, db_url, monkeypatch):
    conf = _config(tmp_path, sim, db_url,
                   ceilometer={'page_size': '7'})
    real_advance = checkpoints.advance
    calls = []

    def crash_on_third(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            # After the page's samples were upserted, before commit.
            raise RuntimeError('simulated crash')
        return real_advance(*args, **kwargs)
    monkeypatch.setattr(checkpoints, 'advance', crash_on_third)
    with pytest.raises(RuntimeError, match='simulated crash'):
        export.main(['--config-file', conf, '--once'])
    # Exactly the two committed pages, and the checkpoint at their end.
    assert _count(db_url) == 14
    cp = harness.checkpoints(db_url)[('all', 'cpu_util')]
    committed = sorted(harness.exported(db_url).values(),
                       key=lambda s: (s['timestamp'], s['message_id']))
    assert (cp.last_message_id, cp.samples_exported) == (
        committed[-1]['message_id'], 14)
    monkeypatch.setattr(checkpoints, 'advance', real_advance)
    assert export.main(['--config-file', conf, '--once']) == 0
    assert harness.exported(db_url) == harness.expected(sim, WANT)
    total = sum(cp.samples_exported
                for cp in harness.checkpoints(db_url).values())
    assert total == len(harness.expected(sim, WANT))


@pytest.mark.parametrize('backend', ['postgresql', 'mysql'])
def test_sigkill_at_any_moment_then_resume(tmp_path, sim, make_db_url,
                                           backend):
    db_url = make_db_url(backend)
    conf = _config(tmp_path, sim, db_url, ceilometer={'page_size': '5'})
    sim.faults.delay, sim.faults.delay_rate = 0.02, 1.0
    proc = harness.start('ceilometer-export', '--config-file', conf,
                         '--once', stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while _count(db_url) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _count(db_url)
    assert 0 < partial < len(harness.expected(sim, WANT))
    sim.faults.clear()
    assert export.main(['--config-file', conf, '--once']) == 0
    assert harness.exported(db_url) == harness.expected(sim, WANT)


def test_sigterm_finishes_the_page_and_exits_zero(tmp_path, sim,
                                                  make_db_url):
    db_url = make_db_url('sqlite')
    conf = _config(tmp_path, sim, db_url, ceilometer={'page_size': '5'},
                   export={'poll_interval': '3600'})
    sim.faults.delay, sim.faults.delay_rate = 0.05, 1.0
    proc = harness.start('ceilometer-export', '--config-file', conf,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    deadline = time.monotonic() + 30
    while _count_safe(db_url) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert 'SIGTERM received: stopping' in out
    got = harness.exported(db_url)
    assert 0 < len(got) < len(harness.expected(sim, WANT))
    # Every committed page is whole: the checkpoint covers what is there.
    cps = harness.checkpoints(db_url)
    assert sum(cp.samples_exported for cp in cps.values()) == len(got)


def _count_safe(db_url):
    try:
        return _count(db_url)
    except sa.exc.OperationalError:
        return 0   # tables not there yet, or the file is locked


def test_transient_faults_are_retried(tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    conf = _config(tmp_path, sim, db_url, ceilometer={'page_size': '6'})
    for kind in (500, 503, 'drop', 'truncate', 'nonjson'):
        sim.faults.fail_next(1, status=kind)
        sim.faults.fail_next(1, status=503)
        assert export.main(['--config-file', conf, '--once']) == 0, kind
    sim.faults.error_rate = 0.3
    assert export.main(['--config-file', conf, '--once']) == 0
    sim.faults.clear()
    assert export.main(['--config-file', conf, '--once']) == 0
    assert harness.exported(db_url) == harness.expected(sim, WANT)


def test_exhausted_retries_fail_the_mapping_exit_1(tmp_path, sim,
                                                   make_db_url, capfd):
    db_url = make_db_url('sqlite')
    conf = _config(tmp_path, sim, db_url)
    export.main(['--config-file', conf, '--once'])
    sim.faults.fail_next(50, status=503)
    assert export.main(['--config-file', conf, '--once']) == 1
    out = capfd.readouterr().err
    assert 'mapping all failed this pass' in out and 'HTTP 503' in out
    status = harness.run('ceilometer-export-status', '--config-file', conf,
                         '--format', 'json')
    assert 'HTTP 503' in status.stdout
    # What was exported before is still there, untouched.
    sim.faults.clear()
    assert harness.exported(db_url) == harness.expected(sim, WANT)


def test_gnocchi_410_is_fatal_without_busy_retries(tmp_path, sim,
                                                   make_db_url, capfd):
    db_url = make_db_url('sqlite')
    conf = _config(tmp_path, sim, db_url,
                   ceilometer={'max_retries': '5', 'retry_delay': '5'})
    sim.gnocchi = True
    started = time.monotonic()
    assert export.main(['--config-file', conf, '--once']) == 1
    assert time.monotonic() - started < 5
    assert 'Gnocchi' in capfd.readouterr().err


def test_failing_mapping_does_not_stop_the_others(tmp_path, sim,
                                                  make_db_url):
    db_url = make_db_url('sqlite')
    sim.complex_query = False
    conf = _config(tmp_path, sim, db_url, mappings={
        'json': ('{"=": {"project_id": "p-alpha-0001"}}', 'cpu_util'),
        'plain': ('', 'cpu_util')})
    assert export.main(['--config-file', conf, '--once']) == 1
    assert harness.exported(db_url) == harness.expected(sim, ['cpu_util'])
    cps = harness.checkpoints(db_url)
    assert 'query_mode complex' in cps[('json', 'cpu_util')].last_error
    assert cps[('plain', 'cpu_util')].last_error is None


def test_token_expiry_mid_run_reauthenticates(tmp_path, make_db_url):
    db_url = make_db_url('sqlite')
    # Every token dies after 3 requests: keystoneauth must fetch new ones
    # in the middle of a pass.
    with Simulator(samples=generate_samples(seed=3, cycles=6),
                   token_max_uses=3) as sim:
        conf = _config(tmp_path, sim, db_url, ceilometer={'page_size': '4'})
        assert export.main(['--config-file', conf, '--once']) == 0
        assert harness.exported(db_url) == harness.expected(sim, WANT)
        statuses = [r['status'] for r in sim.request_log]
    assert 401 in statuses
