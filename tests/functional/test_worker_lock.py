"""Without [coordination], one worker per database: real processes on every
backend; a second one refuses (--once) or waits (the daemon) and takes
over when the first is killed."""

import signal

import pytest
import sqlalchemy as sa

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import schema
from ceilometer_export import timeutil
from tests.functional import conftest
from tests.functional import daemon_harness as dh
from tests.functional import harness


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=3, cycles=3)) as running:
        yield running


def _conf(tmp_path, sim, db_url, name='c.conf', **sections):
    sections.setdefault('export', {}).setdefault('poll_interval', '1')
    return harness.configure(tmp_path / name, sim, db_url,
                             {'a': ('', 'cpu_util')}, **sections)


def _runs(db_url):
    """[(worker, started_at)] of export_runs."""
    engine = sa.create_engine(db_url)
    col = schema.export_runs.c
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(col.worker, col.started_at)).all()
    finally:
        engine.dispose()


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except Exception:
            proc.kill()
            raise


def test_second_worker_refuses_or_waits_then_takes_over(tmp_path, sim,
                                                        db_url):
    conf = _conf(tmp_path, sim, db_url)
    # The second daemon logs each retry at debug level.
    second_conf = _conf(tmp_path, sim, db_url, 'second.conf',
                        DEFAULT={'debug': 'true'})
    first = dh.start_daemon(conf)
    first_logs = dh.LogReader(first)
    second = None
    notify = dh.NotifySocket()
    try:
        first_logs.wait_for('mapping a: ')
        # --once: one line, exit 1, naming the holder.
        once = harness.run('ceilometer-export', '--config-file', conf,
                           '--once', timeout=60)
        assert once.returncode == 1, once.stderr
        lines = once.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert 'another worker exports into database' in lines[0]
        if not db_url.startswith('mysql'):
            assert 'pid %d' % first.pid in lines[0], lines
        # A daemon waits, logging it once, and writes nothing meanwhile.
        second = dh.start_daemon(second_conf, env=notify.env())
        second_logs = dh.LogReader(second)
        second_logs.wait_for('still held by', count=2)
        assert second_logs.text().count('waiting, trying again') == 1
        # systemctl status shows it as a standby.
        dh.wait_until(lambda: _status(notify, 'standby: another worker'),
                      what='a standby STATUS=')
        killed_at = timeutil.utcnow()
        first.kill()
        first.wait(timeout=30)
        second_logs.wait_for('(the other worker is gone)')
        second_logs.wait_for('mapping a: ')
        dh.wait_until(lambda: _status(notify, 'pass '),
                      what='a STATUS= of a pass after the take-over')
        mine = ':%d' % second.pid
        runs = _runs(db_url)
        assert any(w.endswith(mine) for w, _ in runs), runs
        assert all(at >= killed_at for w, at in runs if w.endswith(mine))
        assert {w for w, _ in runs} == {w for w, _ in runs if w.endswith(
            (mine, ':%d' % first.pid))}
    finally:
        if first.poll() is None:
            first.kill()
        if second is not None:
            _stop(second)
        notify.close()
    assert second.returncode == 0


def _status(notify, prefix):
    return any(f.get('STATUS', '').startswith(prefix)
               for _, f in notify.snapshot())


def _kill_lock_connection(db_url, pid):
    """Close the lock's server connection, as a server restart would."""
    backend = 'postgresql' if db_url.startswith('postgresql') else 'mysql'
    engine = conftest._admin_engine(backend)
    try:
        with engine.connect() as conn:
            if backend == 'postgresql':
                killed = conn.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE application_name LIKE :me'),
                    {'me': '%% pid %d' % pid}).all()
            else:
                database = sa.engine.make_url(db_url).database
                ids = conn.execute(sa.text(
                    "SELECT IS_USED_LOCK(:n)"),
                    {'n': 'ceilometer-export:%s' % database}).all()
                killed = [conn.execute(sa.text('KILL %d' % i))
                          for i, in ids if i is not None]
    finally:
        engine.dispose()
    assert killed


@pytest.mark.parametrize('backend', ['postgresql', 'mysql'])
def test_a_lost_lock_connection_is_taken_again(tmp_path, sim, make_db_url,
                                               backend):
    db_url = make_db_url(backend)
    conf = _conf(tmp_path, sim, db_url)
    proc = dh.start_daemon(conf)
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('mapping a: ')
        _kill_lock_connection(db_url, proc.pid)
        # Noticed (between pages, or by the next pass's check), then taken
        # again on a new connection.
        logs.wait_for('holding the worker lock', count=2)
        passes = logs.text().count('mapping a: ')
        logs.wait_for('mapping a: ', count=passes + 1)
        once = harness.run('ceilometer-export', '--config-file', conf,
                           '--once', timeout=60)
        assert once.returncode == 1, once.stderr
    finally:
        _stop(proc)
    assert proc.returncode == 0
