"""Database faults on the real servers: a connection killed in the middle of
a page's transaction, deadlocks against a second writer, a full SQLite
database. Nothing is lost or doubled; persistent errors are recorded."""

import signal
import subprocess
import threading
import time

import pytest
import sqlalchemy as sa

from ceilometer_export.cmd import export
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import dialects
from tests.functional import harness

METERS = 'cpu_util, network.incoming.bytes'
WANT = ('cpu_util', 'network.incoming.bytes')
DB_RETRIES = {'db_max_retries': '3', 'db_retry_interval': '0.05',
              'db_max_retry_interval': '0.2'}


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=3, cycles=6)) as running:
        yield running


class Exporter(object):
    """ceilometer-export in its own process (its own connections, which
    the test can kill), stderr collected line by line."""

    def __init__(self, conf, *args):
        self.lines = []
        self.proc = harness.start('ceilometer-export', '--config-file', conf,
                                  *args, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError('no %r in: %s' % (text, ''.join(self.lines)))

    def finish(self, timeout=60):
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code, ''.join(self.lines)


def _until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError('condition not met within %s s' % timeout)


def _configure(tmp_path, sim, db_url, **sections):
    return harness.configure(tmp_path / 'export.conf', sim, db_url,
                             {'all': ('', METERS)}, database=DB_RETRIES,
                             ceilometer={'page_size': '10'}, **sections)


def _exact(db_url, sim):
    assert harness.exported(db_url) == harness.expected(sim, WANT)
    # Counted once: a page rolled back and run again is not counted twice.
    total = sum(cp.samples_exported
                for cp in harness.checkpoints(db_url).values())
    assert total == len(harness.expected(sim, WANT))


# -- a connection killed inside a page transaction ---------------------------

_BLOCKED = {
    'postgresql': ("SELECT pid FROM pg_stat_activity WHERE datname = "
                   "current_database() AND pid <> pg_backend_pid() AND "
                   "wait_event_type = 'Lock'"),
    'mysql': ("SELECT id FROM information_schema.processlist WHERE db = "
              "DATABASE() AND id <> CONNECTION_ID() AND state LIKE "
              "'%%lock%%'"),
}
# A row lock wait shows in MariaDB's processlist as a statement 'Updating'.
_ROW_WAIT = dict(_BLOCKED, mysql="SELECT id FROM information_schema."
                 "processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() "
                 "AND state = 'Updating' AND info LIKE "
                 "'UPDATE export_checkpoints%%'")
_KILL = {'postgresql': 'SELECT pg_terminate_backend(%d)',
         'mysql': 'KILL CONNECTION %d'}
_LOCK = {'postgresql': 'LOCK TABLE samples IN SHARE MODE',
         'mysql': 'LOCK TABLES samples READ'}
_UNLOCK = {'postgresql': 'COMMIT', 'mysql': 'UNLOCK TABLES'}


@pytest.mark.parametrize('backend', ['postgresql', 'mysql'])
def test_connection_killed_mid_page_is_retried_whole(tmp_path, sim,
                                                     make_db_url, backend):
    db_url = make_db_url(backend)
    conf = _configure(tmp_path, sim, db_url)
    engine = sa.create_engine(db_url, isolation_level='AUTOCOMMIT')
    # pg_stat_activity is a snapshot within a transaction: watch outside.
    with engine.connect() as conn, engine.connect() as watch:
        if backend == 'postgresql':
            conn.exec_driver_sql('BEGIN')
        # The exporter's first page then waits inside its transaction.
        conn.exec_driver_sql(_LOCK[backend])
        exporter = Exporter(conf, '--once')
        pid = _until(lambda: watch.exec_driver_sql(
            _BLOCKED[backend]).scalar())
        conn.exec_driver_sql(_KILL[backend] % pid)
        conn.exec_driver_sql(_UNLOCK[backend])
    engine.dispose()
    code, err = exporter.finish()
    assert code == 0, err
    assert 'DatabaseUnavailable' not in err
    assert 'retry 1 of 3' in err, err
    _exact(db_url, sim)


# -- deadlocks against a second writer ----------------------------------------

def _second_writer_deadlocks(db_url, backend, conf):
    """Hold the cpu_util checkpoint row, let the exporter block on it with
    its page's earlier locks held (PostgreSQL: the meter's advisory lock;
    MySQL: the page's sample rows, pre-read FOR UPDATE), then want one of
    those: a deadlock, in which the server picks the exporter as the
    victim."""
    engine = sa.create_engine(db_url)
    watcher = sa.create_engine(db_url, isolation_level='AUTOCOMMIT')
    with engine.connect() as conn, watcher.connect() as watch:
        if backend == 'mysql':
            # InnoDB aborts the transaction that changed fewer rows.
            conn.exec_driver_sql('CREATE TABLE ballast (n INT)')
            conn.exec_driver_sql('INSERT INTO ballast VALUES ' + ', '.join(
                '(%d)' % n for n in range(3000)))
        else:
            # So that the exporter, not this session, detects the cycle.
            conn.exec_driver_sql("SET deadlock_timeout = '20s'")
        conn.exec_driver_sql("SELECT * FROM export_checkpoints WHERE "
                             "meter = 'cpu_util' FOR UPDATE").all()
        exporter = Exporter(conf, '--once')
        _until(lambda: watch.exec_driver_sql(_ROW_WAIT[backend]).scalar())
        if backend == 'postgresql':
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(
                dialects._PG_LOCK_CLASS, sa.func.hashtext('cpu_util'))))
        else:
            conn.exec_driver_sql("SELECT COUNT(*) FROM samples WHERE "
                                 "counter_name = 'cpu_util' FOR UPDATE")
        conn.rollback()
    engine.dispose()
    watcher.dispose()
    return exporter.finish()


@pytest.mark.parametrize('backend', ['postgresql', 'mysql'])
def test_deadlock_with_a_second_writer_is_retried(tmp_path, sim,
                                                  make_db_url, backend):
    db_url = make_db_url(backend)
    conf = _configure(tmp_path, sim, db_url)
    assert export.main(['--config-file', conf, '--once']) == 0
    # The second pass re-reads the lookback window: pages are written.
    code, err = _second_writer_deadlocks(db_url, backend, conf)
    assert code == 0, err
    assert ('40P01' in err or 'deadlock detected' in err
            or '1213' in err), err
    assert 'retry 1 of 3' in err
    _exact(db_url, sim)


def test_sqlite_locked_by_a_second_writer_is_retried(tmp_path, sim,
                                                     make_db_url):
    db_url = make_db_url('sqlite')
    conf = _configure(tmp_path, sim, db_url)
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        # Held past pysqlite's 5 s busy timeout: "database is locked".
        conn.exec_driver_sql('BEGIN IMMEDIATE')
        exporter = Exporter(conf, '--once')
        exporter.wait_for('database is locked', timeout=60)
        conn.rollback()
    engine.dispose()
    code, err = exporter.finish()
    assert code == 0, err
    assert 'retry 1 of 3' in err
    _exact(db_url, sim)


# -- a full SQLite database ---------------------------------------------------

def test_full_sqlite_database_is_recorded_and_loses_nothing(
        tmp_path, sim, make_db_url):
    # PRAGMA max_page_count makes SQLite's pager itself answer SQLITE_FULL
    # ("database or disk is full") when the file would grow past it: the
    # real error, no root or mount needed, and only for the exporter's
    # connections. Updates in place (recording last_error) still fit.
    db_url = make_db_url('sqlite')
    conf = _configure(tmp_path, sim, db_url)
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql('PRAGMA page_count').scalar()
    engine.dispose()

    def limit(dbapi_conn, record):
        dbapi_conn.execute('PRAGMA max_page_count = %d' % (pages + 8))
    sa.event.listen(sa.engine.Engine, 'connect', limit)
    try:
        assert export.main(['--config-file', conf, '--once']) == 1
    finally:
        sa.event.remove(sa.engine.Engine, 'connect', limit)
    cps = harness.checkpoints(db_url)
    assert 'database or disk is full' in cps[('all', 'cpu_util')].last_error
    assert 0 < len(harness.exported(db_url)) < len(
        harness.expected(sim, WANT))
    assert export.main(['--config-file', conf, '--once']) == 0
    _exact(db_url, sim)
    assert all(cp.last_error is None
               for cp in harness.checkpoints(db_url).values())


# -- a database down at start -------------------------------------------------

def test_once_with_the_database_down_exits_1_after_its_retries(tmp_path,
                                                               sim):
    down = harness.write_config(
        tmp_path / 'down.conf', sim,
        'postgresql+psycopg2://postgres@127.0.0.1:9/none',
        {'all': ('', METERS)}, database=DB_RETRIES)
    result = harness.run('ceilometer-export', '--config-file', down,
                         '--once')
    assert result.returncode == 1, result.stderr
    assert result.stderr.count('retry ') == 3
    assert 'Traceback' not in result.stderr


def test_daemon_waiting_for_the_database_stops_on_sigterm(tmp_path, sim):
    down = harness.write_config(
        tmp_path / 'down.conf', sim,
        'postgresql+psycopg2://postgres@127.0.0.1:9/none',
        {'all': ('', METERS)},
        database=dict(DB_RETRIES, retry_interval='30'))
    exporter = Exporter(down)
    exporter.wait_for('waiting for the database, attempt 1')
    exporter.proc.send_signal(signal.SIGTERM)
    code, err = exporter.finish(timeout=10)
    assert code == 0, err


def test_daemon_waits_for_a_database_down_at_start(tmp_path, sim,
                                                   private_pg):
    private_pg.start()
    conf = harness.configure(
        tmp_path / 'export.conf', sim, private_pg.url, {'all': ('', METERS)},
        database=dict(DB_RETRIES, retry_interval='0.2'),
        export={'poll_interval': '3600'})
    private_pg.stop()
    exporter = Exporter(conf)
    exporter.wait_for('waiting for the database, attempt 2')
    private_pg.start()
    engine = sa.create_engine(private_pg.url)
    try:
        want = len(harness.expected(sim, WANT))
        _until(lambda: _count(engine) == want)
    finally:
        engine.dispose()
    exporter.proc.send_signal(signal.SIGTERM)
    code, err = exporter.finish(timeout=30)
    assert code == 0, err
    _exact(private_pg.url, sim)


def _count(engine):
    with engine.connect() as conn:
        return conn.exec_driver_sql('SELECT COUNT(*) FROM samples').scalar()


def test_server_restarted_mid_pass_is_retried_within_the_pass(
        tmp_path, sim, private_pg):
    private_pg.start()
    retries = dict(DB_RETRIES, db_max_retries='6', db_retry_interval='0.5',
                   db_max_retry_interval='2')
    conf = harness.configure(
        tmp_path / 'export.conf', sim, private_pg.url, {'all': ('', METERS)},
        database=retries, ceilometer={'page_size': '5'})
    # Slow pages, so that the restart falls in the middle of the pass.
    sim.faults.delay, sim.faults.delay_rate = 0.05, 1.0
    exporter = Exporter(conf, '--once')
    engine = sa.create_engine(private_pg.url)
    _until(lambda: _count(engine) >= 20)
    engine.dispose()
    private_pg.stop()
    exporter.wait_for('retry 1 of 6')
    private_pg.start()
    code, err = exporter.finish()
    assert code == 0, err
    sim.faults.clear()
    _exact(private_pg.url, sim)
