"""API faults are isolated and bounded: a broken meter fails alone, a hung
request times out, a down endpoint costs one retry ladder per pass."""

import re

import pytest

from ceilometer_export.cmd import export
from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from tests.functional import harness

METERS = 'cpu_util, disk.read.bytes, network.incoming.bytes'
OTHERS = ('disk.read.bytes', 'network.incoming.bytes')
RETRIES = 2


@pytest.fixture
def sim():
    with Simulator(samples=generate_samples(seed=3, cycles=6)) as running:
        yield running


def _config(tmp_path, sim, mappings=None, **sections):
    db_url = 'sqlite:///%s' % (tmp_path / 'export.sqlite')
    conf = harness.configure(tmp_path / 'export.conf', sim, db_url,
                             mappings or {'all': ('', METERS)}, **sections)
    return conf, db_url


@pytest.mark.parametrize('fault', [504, 'drop', 'truncate'])
def test_a_failing_meter_is_recorded_on_it_and_the_others_run(
        tmp_path, sim, fault):
    # cpu_util comes first: it used to starve every meter after it.
    conf, db_url = _config(tmp_path, sim)
    sim.faults.fail_meter('cpu_util', fault)
    for _ in range(2):
        assert export.main(['--config-file', conf, '--once']) == 1
    assert harness.exported(db_url) == harness.expected(sim, OTHERS)
    cps = harness.checkpoints(db_url)
    assert cps[('all', 'cpu_util')].last_error.startswith(
        'meter cpu_util: POST /v2/query/samples')
    assert all(cps[('all', m)].last_error is None for m in OTHERS)
    sim.faults.fail_meter('cpu_util', None)
    assert export.main(['--config-file', conf, '--once']) == 0
    assert harness.exported(db_url) == harness.expected(
        sim, ('cpu_util',) + OTHERS)


def test_a_hung_request_times_out(tmp_path, sim, capfd):
    conf, db_url = _config(tmp_path, sim,
                           service_credentials={'timeout': '0.3'})
    # Far longer than the timeout; the other meters' requests are instant.
    sim.faults.fail_meter('cpu_util', 'delay', delay=2.0)
    assert export.main(['--config-file', conf, '--once']) == 1
    error = harness.checkpoints(db_url)[('all', 'cpu_util')].last_error
    assert 'meter cpu_util' in error and 'imed out' in error, error
    assert harness.exported(db_url) == harness.expected(sim, OTHERS)
    err = capfd.readouterr().err
    assert len(re.findall(r'timed out; retry \d of %d' % RETRIES, err)) \
        == RETRIES


def test_an_api_that_keeps_failing_costs_one_ladder_per_pass(
        tmp_path, sim, capfd):
    mappings = {'m%d' % i: ('', METERS) for i in range(3)}
    conf, db_url = _config(tmp_path, sim, mappings)
    sim.faults.error_rate = 1.0
    assert export.main(['--config-file', conf, '--once']) == 1
    # GET /v2/capabilities: the first try and its retries, then nothing.
    assert len(sim.request_log) == RETRIES + 1
    assert {r['path'] for r in sim.request_log} == {'/v2/capabilities'}
    cps = harness.checkpoints(db_url)
    assert len(cps) == 9 and all(
        'HTTP 503' in cp.last_error for cp in cps.values())
    assert sum('the API is down this pass' in cp.last_error
               for cp in cps.values()) == 8
    # The next pass gets its own ladder, and succeeds once the API is back.
    sim.faults.clear()
    assert export.main(['--config-file', conf, '--once']) == 0


def test_an_unreachable_endpoint_costs_one_ladder_per_pass(tmp_path, sim,
                                                           capfd):
    mappings = {'m%d' % i: ('', METERS) for i in range(3)}
    conf, db_url = _config(tmp_path, sim, mappings, ceilometer={
        'endpoint_override': 'http://127.0.0.1:9', 'query_mode': 'complex'})
    capfd.readouterr()
    assert export.main(['--config-file', conf, '--once']) == 1
    err = capfd.readouterr().err
    assert len(re.findall(r'retry \d of %d' % RETRIES, err)) == RETRIES
    assert err.count('fail without being sent') == 1
    cps = harness.checkpoints(db_url)
    assert len(cps) == 9 and all(cp.last_error for cp in cps.values())
