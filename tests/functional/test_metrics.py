"""The daemon's Prometheus endpoint, scraped over HTTP from the real
process, checked against the database it wrote."""

import math
import signal
import socket
import subprocess
import urllib.request

from prometheus_client import parser
import pytest
import sqlalchemy as sa

from ceilometer_export import rejects
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from ceilometer_export.store import schema
from tests.functional import daemon_harness as dh
from tests.functional import harness

MAPPINGS = {'a': ('', 'cpu_util, cpu'), 'b': ('', 'memory.usage'),
            # Every request about this meter fails: never read to the end.
            'broken': ('', 'disk.read.bytes')}
KINDS = ('timeout', 'connection', 'http_4xx', 'http_5xx', 'auth',
         'bad_body')


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=7, cycles=4)) as running:
        yield running


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def _scrape(port):
    """{name: {labels tuple: value}} of every sample on /metrics."""
    url = 'http://127.0.0.1:%d/metrics' % port
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    found = {}
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[
                frozenset(sample.labels.items())] = sample.value
    return found


_LABELS = ('mapping', 'meter', 'kind', 'reason')


def _series(scraped, name):
    """{label values (in the order mapping, meter, kind, reason): value}."""
    found = {}
    for labels, value in scraped.get(name, {}).items():
        named = dict(labels)
        found[tuple(named[k] for k in _LABELS if k in named)] = value
    return found


def _db_rows_per_meter(db_url):
    engine = sa.create_engine(db_url)
    col = schema.samples.c
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.select(
                col.counter_name, sa.func.count()).group_by(
                col.counter_name)).all())
    finally:
        engine.dispose()


def _db_rejects(db_url):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.export_rejects)).all()
    finally:
        engine.dispose()
    found = {}
    for row in rows:
        key = (row.mapping, row.meter, rejects.code(row.reason))
        found[key] = found.get(key, 0) + 1
    return found


def _corrupt_two(sim):
    cpu = sorted(harness.expected(sim, ['cpu_util']).values(),
                 key=lambda s: (s['timestamp'], s['message_id']))
    sim.corrupt(cpu[2]['message_id'], {'counter_volume': float('inf')})
    sim.corrupt(cpu[5]['message_id'], {'resource_id': 'r' * 300})


@pytest.mark.parametrize('backend', ['sqlite', 'postgresql'])
def test_scraped_counters_match_the_database(tmp_path, sim, make_db_url,
                                             backend):
    db_url = make_db_url(backend)
    port = _free_port()
    _corrupt_two(sim)
    sim.faults.fail_meter('disk.read.bytes', 500)
    conf = harness.configure(
        tmp_path / 'c.conf', sim, db_url, MAPPINGS,
        export={'poll_interval': '1'}, ceilometer={'page_size': '7'},
        metrics={'port': str(port)})
    proc = dh.start_daemon(conf)
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('mapping broken failed this pass')
        first = _scrape(port)
        # Freshness +Inf for the pair never read to the end, from the
        # first scrape on; the API errors it met, under its mapping.
        fresh = _series(first, 'ceilometer_export_freshness_seconds')
        assert fresh[('broken', 'disk.read.bytes')] == math.inf
        errors = _series(first, 'ceilometer_export_api_errors_total')
        assert errors[('broken', 'http_5xx')] >= 1
        assert {k for m, k in errors if m == 'a'} == set(KINDS)
        # A second complete pass: re-reading the lookback counts nothing.
        passes = logs.text().count('mapping broken failed')
        logs.wait_for('mapping broken failed', count=passes + 1)
        # A connection dropped by the API, during some mapping's pass.
        before = sum(v for (m, k), v in errors.items() if k == 'connection')
        sim.faults.fail_next(1, 'drop')
        dh.wait_until(lambda: sum(
            v for (m, k), v in _series(
                _scrape(port), 'ceilometer_export_api_errors_total').items()
            if k == 'connection') == before + 1, what='a connection error')
        scraped = _scrape(port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = _db_rows_per_meter(db_url)
    samples = _series(scraped, 'ceilometer_export_samples_total')
    assert samples == {('a', 'cpu_util'): rows['cpu_util'],
                       ('a', 'cpu'): rows['cpu'],
                       ('b', 'memory.usage'): rows['memory.usage'],
                       ('broken', 'disk.read.bytes'): 0}
    assert rows['cpu_util'] > 7     # several pages
    counted = {k: v for k, v in _series(
        scraped, 'ceilometer_export_rejects_total').items() if v}
    assert counted == _db_rejects(db_url) == {
        ('a', 'cpu_util', 'volume'): 1, ('a', 'cpu_util', 'too_long'): 1}
    assert {r for m, meter, r in _series(
        scraped, 'ceilometer_export_rejects_total')} == set(rejects.REASONS)
    fresh = _series(scraped, 'ceilometer_export_freshness_seconds')
    assert set(fresh) == set(samples)
    assert all(0 <= fresh[p] < 60 for p in samples if p[0] != 'broken')
    success = _series(scraped,
                      'ceilometer_export_last_success_timestamp_seconds')
    assert set(success) == {p for p in samples if p[0] != 'broken'}
    durations = _series(scraped, 'ceilometer_export_pass_duration_seconds'
                                 '_count')
    assert set(durations) == {('a',), ('b',), ('broken',)}
    assert all(count >= 2 for count in durations.values())
    assert 'process_cpu_seconds_total' in scraped


def test_a_port_in_use_is_a_configuration_error(tmp_path, sim,
                                                make_db_url):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        conf = harness.configure(
            tmp_path / 'c.conf', sim, make_db_url('sqlite'),
            {'a': ('', 'cpu_util')}, metrics={'port': str(port)})
        daemon = harness.run('ceilometer-export', '--config-file', conf,
                             timeout=60)
        # --once never opens the endpoint: the same port is no obstacle.
        once = harness.run('ceilometer-export', '--config-file', conf,
                           '--once', timeout=60)
    assert daemon.returncode == 2, daemon.stderr
    lines = daemon.stderr.strip().splitlines()
    assert len(lines) == 1 and '[metrics] port %d' % port in lines[0], lines
    assert once.returncode == 0, once.stderr


def test_no_port_no_endpoint(tmp_path, sim, make_db_url):
    # Off by default: the daemon runs, and nothing listens for it.
    conf = harness.configure(tmp_path / 'c.conf', sim, make_db_url('sqlite'),
                             {'a': ('', 'cpu_util')},
                             export={'poll_interval': '1'})
    proc = dh.start_daemon(conf)
    logs = dh.LogReader(proc)
    try:
        logs.wait_for('mapping a: ')
        listening = subprocess.run(
            ['ss', '-Hltnp'], capture_output=True, text=True).stdout
        assert 'pid=%d,' % proc.pid not in listening
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert 'Prometheus' not in logs.text()
