"""The real receiver process as a service: a fake systemd
($NOTIFY_SOCKET), real signals, a database that is down at start or holds
a lock, a schema that is not current (design section 12)."""

import json
import signal
import subprocess
import threading

import pytest
import sqlalchemy as sa

from tests.functional import daemon_harness as dh
from tests.functional import harness as fharness
from tests.functional.receiver import harness
from tests.functional.receiver import samples

WATCHDOG_USEC = 2000000     # a 2 s watchdog period


class Proc(object):
    """ceilometer-export-receiver with its stderr read as it comes."""

    def __init__(self, conf, port, env=None):
        self.port = port
        self.proc = fharness.start('ceilometer-export-receiver',
                                   '--config-file', conf, env=env,
                                   stderr=subprocess.PIPE, text=True)
        self.log = dh.LogReader(self.proc)

    def post(self, body):
        return harness.request('http://127.0.0.1:%d/v1' % self.port,
                               json.dumps(body).encode(),
                               {'Authorization': harness.basic(
                                   harness.USER, harness.PASSWORD)})

    def health(self):
        return harness.request('http://127.0.0.1:%d/healthcheck'
                               % self.port)

    def signal(self, signum):
        self.proc.send_signal(signum)

    def stop(self, timeout=40):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.log.join()
        return code


def _config(tmp_path, db_url, extra='', dbsync=True, **kwargs):
    conf, port = harness.write_config(tmp_path / 'receiver.conf', db_url,
                                      **kwargs)
    with open(conf, 'a') as out:
        out.write('\n[export]\nstop_timeout = 20\n' + extra)
    if dbsync:
        result = fharness.run('ceilometer-export-dbsync', '--config-file',
                              conf)
        assert result.returncode == 0, result.stderr
    return conf, port


def _count(db_url, meter=None):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            query = sa.text('SELECT count(*) FROM samples' + (
                ' WHERE counter_name = :m' if meter else ''))
            return conn.execute(query, {'m': meter}).scalar()
    finally:
        engine.dispose()


def test_notify_ready_status_watchdog_reload_stopping(tmp_path,
                                                      make_db_url):
    db_url = make_db_url('postgresql')
    conf, port = _config(tmp_path, db_url)
    notify = dh.NotifySocket()
    rcv = Proc(conf, port, env=notify.env(WATCHDOG_USEC))
    try:
        ready = notify.wait_for('READY', '1')
        assert notify.snapshot()[ready][1]['STATUS'].startswith('stored 0,')
        assert rcv.health() == (200, b'up\n')
        assert rcv.post(samples.make(4))[0] == 200
        index = _wait_status(notify, 'stored 4,', after=ready + 1)
        line = notify.snapshot()[index][1]['STATUS']
        assert line.startswith('stored 4, filtered 0, rejected 0')
        assert 'last commit 20' in line
        first = notify.wait_for('WATCHDOG', '1')
        notify.wait_for('WATCHDOG', '1', after=first + 8)
        beats = [t for t, f in notify.snapshot() if f.get('WATCHDOG')]
        gaps = [b - a for a, b in zip(beats, beats[1:])]
        assert max(gaps) < WATCHDOG_USEC / 2e6, gaps
        mark = len(notify.snapshot())
        rcv.signal(signal.SIGHUP)
        reloading = notify.wait_for('RELOADING', '1', after=mark)
        notify.wait_for('READY', '1', after=reloading + 1)
        mark = len(notify.snapshot())
        assert rcv.stop() == 0, rcv.log.text()
        notify.wait_for('STOPPING', '1', after=mark)
    finally:
        rcv.stop()
        notify.close()


def test_a_stuck_commit_stops_the_watchdog(tmp_path, make_db_url):
    db_url = make_db_url('postgresql')
    conf, port = _config(tmp_path, db_url)
    notify = dh.NotifySocket()
    rcv = Proc(conf, port, env=notify.env(WATCHDOG_USEC))
    engine = sa.create_engine(db_url)
    try:
        notify.wait_for('READY', '1')
        with engine.connect() as conn:
            conn.execute(sa.text('LOCK TABLE samples IN ACCESS EXCLUSIVE '
                                 'MODE'))
            # Answered 503 after the answer bound; the commit stays stuck.
            assert rcv.post(samples.make(2))[0] == 503
            stuck = _wait_status(notify, 'stuck for')
            stuck_at = notify.snapshot()[stuck][0]
            # Status lines keep coming (stuck seconds grow), beats not.
            dh.wait_until(lambda: notify.snapshot()[-1][0] > stuck_at + 5,
                          30, 'status lines 5 s after the stall')
            beats = [t for t, f in notify.snapshot() if f.get('WATCHDOG')]
            # The last promise (3 s) was made before the stall was seen.
            assert beats[-1] < stuck_at + 3.5
            # More than half a watchdog period without a beat: systemd
            # would restart the process.
            assert notify.snapshot()[-1][0] - beats[-1] > 1.5
            conn.rollback()
        resumed = len(notify.snapshot())
        notify.wait_for('WATCHDOG', '1', after=resumed)
        assert 'the watchdog is no longer fed' in rcv.log.text()
        assert rcv.stop() == 0
    finally:
        engine.dispose()
        rcv.stop()
        notify.close()
    # Committed once the lock went: the upsert makes a redelivery harmless.
    assert _count(db_url) == 2


def _wait_status(notify, needle, after=0):
    def found():
        for i, (_, fields) in enumerate(notify.snapshot()):
            if i >= after and needle in fields.get('STATUS', ''):
                return i + 1
        return None
    return dh.wait_until(found, 30, 'STATUS with %r' % needle) - 1


def test_sigterm_answers_the_request_in_flight_after_its_commit(
        tmp_path, make_db_url):
    db_url = make_db_url('postgresql')
    conf, port = _config(tmp_path, db_url)
    rcv = Proc(conf, port)
    engine = sa.create_engine(db_url)
    answers = []
    try:
        dh.wait_until(lambda: rcv.health()[0] == 200, 30, 'receiver up')
        with engine.connect() as conn:
            conn.execute(sa.text('LOCK TABLE samples IN ACCESS EXCLUSIVE '
                                 'MODE'))
            poster = threading.Thread(target=lambda: answers.append(
                rcv.post(samples.make(3))))
            poster.start()
            dh.wait_until(lambda: conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type"
                " = 'Lock' AND pid <> pg_backend_pid()")).scalar(),
                3, 'the commit waiting on the lock')
            rcv.signal(signal.SIGTERM)
            rcv.log.wait_for('SIGTERM received', timeout=3)
            conn.rollback()
        poster.join(10)
        assert rcv.stop() == 0, rcv.log.text()
    finally:
        engine.dispose()
        rcv.stop()
    assert answers and answers[0][0] == 200, (answers, rcv.log.text())
    assert _count(db_url) == 3


def test_sighup_applies_mappings_keeps_a_bad_file_out(tmp_path,
                                                      make_db_url):
    db_url = make_db_url('sqlite')
    conf, port = _config(tmp_path, db_url, mappings={'a': ('', 'cpu')})
    rcv = Proc(conf, port)
    try:
        dh.wait_until(lambda: rcv.health()[0] == 200, 30, 'receiver up')
        batch = samples.make(3)      # cpu, memory.usage, network.*
        assert json.loads(rcv.post(batch)[1])['filtered'] == 2
        text = open(conf).read()
        with open(conf, 'w') as out:
            out.write(text.replace('meters = cpu', 'meters = memory.usage')
                      + '\n[DEFAULT]\ndebug = true\n')
        rcv.signal(signal.SIGHUP)
        rcv.log.wait_for('configuration reloaded')
        assert 'changed: a' in rcv.log.text()
        batch = samples.make(3, start=3)
        assert json.loads(rcv.post(batch)[1])['stored'] == 1
        rcv.log.wait_for("DEBUG ceilometer_export.receiver.app [-] request "
                         "from 127.0.0.1: {'stored': 1")
        with open(conf, 'a') as out:
            out.write('\n[receiver]\nno_such_option = 1\n')
        rcv.signal(signal.SIGHUP)
        rcv.log.wait_for('configuration reload failed')
        assert 'no_such_option' in rcv.log.text()
        for signum in (signal.SIGUSR1, signal.SIGUSR2):
            rcv.signal(signum)
            rcv.log.wait_for('%s received: ignored' % signum.name)
        assert rcv.post(samples.make(3, start=6))[0] == 200
        assert rcv.proc.poll() is None
        assert rcv.stop() == 0
    finally:
        rcv.stop()
    # cpu before the reload, memory.usage after it (the bad file too).
    assert _count(db_url, 'cpu') == 1 and _count(db_url) == 3


def test_database_down_at_start_then_up(tmp_path, private_pg):
    private_pg.start()
    conf, port = _config(tmp_path, private_pg.url,
                         extra='[database]\nretry_interval = 0.5\n')
    private_pg.stop()
    notify = dh.NotifySocket()
    rcv = Proc(conf, port, env=notify.env())
    try:
        dh.wait_until(lambda: rcv.health()[0] == 503, 30, '503 healthcheck')
        rcv.log.wait_for('waiting for the database')
        assert rcv.post(samples.make(2))[0] == 503
        assert not any('READY' in f for _, f in notify.snapshot())
        assert rcv.proc.poll() is None
        private_pg.start()
        notify.wait_for('READY', '1')
        assert rcv.health() == (200, b'up\n')
        assert rcv.post(samples.make(2, start=2))[0] == 200
        assert rcv.stop() == 0
    finally:
        rcv.stop()
        notify.close()
    assert _count(private_pg.url) == 2


@pytest.mark.parametrize('problem', ['schema', 'option', 'ssl'])
def test_exit_2_one_line(tmp_path, make_db_url, problem):
    db_url = make_db_url('sqlite')
    extra = {'option': '[receiver]\nthreads = many\n',
             'ssl': '[receiver]\nssl_cert_file = %s\n' % (tmp_path / 'no')
             }.get(problem, '')
    conf, port = _config(tmp_path, db_url, extra=extra,
                         dbsync=problem != 'schema')
    result = fharness.run('ceilometer-export-receiver', '--config-file',
                          conf, timeout=60)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('ceilometer-export-receiver: error: ')
    assert 'Traceback' not in result.stderr
    assert {'schema': 'ceilometer-export-dbsync', 'option': 'threads',
            'ssl': 'ssl_cert_file'}[problem] in last


def test_version():
    result = fharness.run('ceilometer-export-receiver', '--version')
    assert result.returncode == 0
    assert result.stdout.strip() or result.stderr.strip()


def test_sigterm_while_waiting_for_the_database(tmp_path):
    # Nothing listens on port 1: the database is down from the start.
    conf, port = _config(tmp_path, 'postgresql+psycopg2://u@127.0.0.1:1/x',
                         extra='[database]\nretry_interval = 60\n',
                         dbsync=False)
    rcv = Proc(conf, port)
    try:
        rcv.log.wait_for('waiting for the database')
        assert rcv.health()[0] == 503
        rcv.signal(signal.SIGTERM)
        # At once, not after the 60 s retry interval.
        assert rcv.proc.wait(10) == 0, rcv.log.text()
    finally:
        rcv.stop()
