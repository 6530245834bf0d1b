"""The real daemon process under a fake systemd, driven by real signals."""

import datetime
import signal
import time

import pytest
import sqlalchemy as sa

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import schema
from tests.functional import daemon_harness as dh
from tests.functional import harness

WATCHDOG_USEC = 2000000     # a 2 s watchdog period


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=5, cycles=3)) as running:
        yield running


def _conf(tmp_path, sim, db_url, mappings=None, **sections):
    sections.setdefault('export', {}).setdefault('poll_interval', '1')
    return harness.configure(tmp_path / 'export.conf', sim, db_url,
                             mappings or {'a': ('', 'cpu_util')},
                             **sections)


@pytest.mark.parametrize('abstract', [True, False])
def test_notify_ready_watchdog_status_reload_stopping(tmp_path, sim,
                                                      make_db_url, abstract):
    conf = _conf(tmp_path, sim, make_db_url('sqlite'))
    notify = dh.NotifySocket(None if abstract else tmp_path)
    proc = dh.start_daemon(conf, env=notify.env(WATCHDOG_USEC))
    logs = dh.LogReader(proc)
    try:
        ready = notify.wait_for('READY', '1')
        assert 'STATUS' in notify.snapshot()[ready][1]
        # STATUS= follows the passes.
        notify.wait_for('STATUS', after=ready + 1)
        dh.wait_until(lambda: any(f.get('STATUS', '').startswith('pass ')
                                  for _, f in notify.snapshot()),
                      what='a STATUS= line for a finished pass')
        # WATCHDOG=1 at least every half period (1 s), over ~3 periods.
        first = notify.wait_for('WATCHDOG', '1')
        notify.wait_for('WATCHDOG', '1', after=first + 12)
        beats = [t for t, f in notify.snapshot() if f.get('WATCHDOG')]
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        assert max(gaps) <= WATCHDOG_USEC / 2e6, gaps
        # A reload: RELOADING=1 (with MONOTONIC_USEC), then READY=1.
        mark = len(notify.snapshot())
        proc.send_signal(signal.SIGHUP)
        reloading = notify.wait_for('RELOADING', '1', after=mark)
        assert 'MONOTONIC_USEC' in notify.snapshot()[reloading][1]
        notify.wait_for('READY', '1', after=reloading + 1)
        mark = len(notify.snapshot())
        proc.send_signal(signal.SIGTERM)
        notify.wait_for('STOPPING', '1', after=mark)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        notify.close()
    logs.join()
    assert 'configuration reloaded' in logs.text()


def test_no_ready_when_the_schema_is_not_current(tmp_path, sim,
                                                 make_db_url):
    conf = harness.write_config(tmp_path / 'c.conf', sim,
                                make_db_url('sqlite'), {'a': ('', 'cpu')})
    notify = dh.NotifySocket()
    proc = dh.start_daemon(conf, env=notify.env(WATCHDOG_USEC))
    try:
        err = proc.communicate(timeout=60)[1]
    finally:
        notify.close()
    assert proc.returncode == 2, err
    assert 'ceilometer-export-dbsync' in err
    assert not any('READY' in f for _, f in notify.snapshot())


def test_watchdog_keeps_coming_during_a_slow_request(tmp_path, sim,
                                                     make_db_url):
    # A request answered after 3 s, within its 10 s timeout: progress.
    conf = _conf(tmp_path, sim, make_db_url('sqlite'),
                 service_credentials={'timeout': '10'})
    notify = dh.NotifySocket()
    proc = dh.start_daemon(conf, env=notify.env(WATCHDOG_USEC))
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('samples exported')
        sim.faults.fail_next(1, 'delay', delay=3.0)
        dh.wait_until(lambda: sim.faults.pending() == 0,
                      what='the delayed request started')
        started = time.monotonic()
        logs.wait_for('samples exported', count=2, timeout=30)
        beats = [t for t, f in notify.snapshot()
                 if f.get('WATCHDOG') and t >= started]
        assert beats and beats[0] - started <= 1.0
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        assert gaps and max(gaps) <= WATCHDOG_USEC / 2e6, gaps
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        notify.close()


def test_sigterm_mid_request_stops_within_stop_timeout(tmp_path, sim,
                                                       make_db_url):
    db_url = make_db_url('sqlite')
    conf = _conf(tmp_path, sim, db_url, export={'stop_timeout': '5'},
                 service_credentials={'timeout': '120'})
    proc = dh.start_daemon(conf)
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('samples exported')
        # The next request hangs for a minute.
        sim.faults.fail_next(1, 'delay', delay=60.0)
        dh.wait_until(lambda: sim.faults.pending() == 0,
                      what='the hung request started')
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    logs.join()
    assert took < 5, took
    assert 'abandoning the request' in logs.text()
    # Nothing half-written: every stored sample is the simulator's.
    want = harness.expected(sim, ['cpu_util'])
    assert harness.exported(db_url) == want


def test_sigterm_mid_backoff_stops_at_once(tmp_path, sim, make_db_url):
    conf = _conf(tmp_path, sim, make_db_url('sqlite'),
                 ceilometer={'max_retries': '5', 'retry_delay': '60',
                             'max_retry_delay': '60'})
    sim.faults.fail_next(1, 503)
    proc = dh.start_daemon(conf)
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('retry 1 of 5')
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert took < 5, took


@pytest.mark.parametrize('signum', [signal.SIGUSR1, signal.SIGUSR2,
                                    signal.SIGHUP])
def test_other_signals_never_kill(tmp_path, sim, make_db_url, signum):
    conf = _conf(tmp_path, sim, make_db_url('sqlite'))
    proc = dh.start_daemon(conf)
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('samples exported')
        proc.send_signal(signum)
        logs.wait_for('%s received' % signal.Signals(signum).name)
        passes = logs.text().count('samples exported')
        logs.wait_for('samples exported', count=passes + 1)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sighup_applies_mappings_and_keeps_a_bad_file_out(tmp_path, sim,
                                                          make_db_url):
    db_url = make_db_url('sqlite')
    path = tmp_path / 'export.conf'
    conf = _conf(tmp_path, sim, db_url, {'a': ('', 'cpu_util'),
                                         'gone': ('', 'cpu')})
    proc = dh.start_daemon(conf)
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('mapping gone:')
        # Invalid: an unknown option. Logged, old configuration kept.
        good = path.read_text()
        path.write_text(good + '\n[export]\npoll_intervall = 5\n')
        proc.send_signal(signal.SIGHUP)
        logs.wait_for('configuration reload failed')
        assert 'poll_intervall' in logs.text()
        passes = logs.text().count('mapping gone:')
        logs.wait_for('mapping gone:', count=passes + 1)
        # Valid: 'gone' removed, 'b' added, 'a' changed, debug on,
        # [database] touched (needs a restart).
        harness.write_config(
            path, sim, db_url + '?timeout=5',
            {'a': ('project_id=p-0', 'cpu_util'), 'b': ('', 'memory.usage')},
            export={'poll_interval': '1'}, DEFAULT={'debug': 'true'})
        proc.send_signal(signal.SIGHUP)
        logs.wait_for('mapping b:')
        logs.wait_for('DEBUG')
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    logs.join()
    text = logs.text()
    assert '(added: b; removed: gone; changed: a)' in text
    assert '[database] connection changed: takes effect after a restart' \
        in text
    after = text.split('(added: b;')[1]
    assert 'mapping gone:' not in after
    assert 'query changed' in after


def _verify_runs(db_url):
    engine = sa.create_engine(db_url)
    col = schema.export_runs.c
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(col.started_at, col.finished_at)
                                .where(col.kind == 'verify')).all()
    finally:
        engine.dispose()


def test_watchdog_keeps_coming_during_a_long_verify_run(tmp_path,
                                                        make_db_url):
    db_url = make_db_url('sqlite')
    start = (datetime.datetime.utcnow() - datetime.timedelta(hours=3)
             ).replace(microsecond=0)
    raws = generate_samples(seed=4, cycles=6, start=start,
                            meters=('cpu_util',))
    with Simulator(samples=raws, seed=4) as sim:
        # A JSON filter: verify counts by keyset paging, page by page; every
        # request answered after 0.3 s, so one run lasts several periods.
        conf = _conf(tmp_path, sim, db_url,
                     {'all': ('{">=": {"counter_volume": 0}}', 'cpu_util')},
                     ceilometer={'page_size': '5'},
                     export={'poll_interval': '1', 'verify_interval': '1',
                             'verify_window': '86400'})
        sim.faults.delay, sim.faults.delay_rate = 0.3, 1.0
        notify = dh.NotifySocket()
        offset = time.time() - time.monotonic()
        proc = dh.start_daemon(conf, env=notify.env(WATCHDOG_USEC))
        try:
            long_run = dh.wait_until(lambda: [
                r for r in _verify_runs(db_url)
                if (r.finished_at - r.started_at).total_seconds() >= 2.5],
                timeout=90, what='a verify run of 2.5 s or more')[0]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            notify.close()
    epoch = datetime.datetime(1970, 1, 1)
    lo, hi = [(t - epoch).total_seconds() - offset
              for t in (long_run.started_at, long_run.finished_at)]
    beats = [t for t, f in notify.snapshot() if f.get('WATCHDOG')]
    during = [t for t in beats if lo - 1 <= t <= hi + 1]
    gaps = [b - a for a, b in zip(during, during[1:])]
    assert len(during) >= 4 and max(gaps) <= WATCHDOG_USEC / 2e6, gaps
