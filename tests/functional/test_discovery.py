"""``meters = *`` with a filter: every meter the filter selects samples of
is found, although /v2/meters only filters each meter's newest sample."""

import datetime

import pytest

from ceilometer_export.cmd import export
from ceilometer_export.simulator import Simulator
from tests.functional import harness

T0 = datetime.datetime(2024, 3, 1, 12, 0)


def _sample(n, meter, project, minutes):
    return {'message_id': 'msg-%04d' % n, 'counter_name': meter,
            'counter_type': 'gauge', 'counter_unit': '%',
            'counter_volume': float(n), 'user_id': 'u-1',
            'project_id': project, 'resource_id': 'r-%s' % project,
            'source': 'openstack',
            'timestamp': T0 + datetime.timedelta(minutes=minutes),
            'resource_metadata': {'flavor': 'm1.small'}}


def _cloud():
    return [
        # Only gamma: found by any listing.
        _sample(1, 'cpu_util', 'p-gamma', 0),
        _sample(2, 'cpu_util', 'p-gamma', 10),
        # Gamma's samples are older than delta's newest one: a listing
        # filtered on p-gamma omits the meter.
        _sample(3, 'disk.read.bytes', 'p-gamma', 0),
        _sample(4, 'disk.read.bytes', 'p-gamma', 5),
        _sample(5, 'disk.read.bytes', 'p-delta', 20),
        # No gamma sample at all.
        _sample(6, 'network.incoming.bytes', 'p-delta', 0),
    ]


@pytest.mark.parametrize('mode', ['complex', 'simple'])
def test_filtered_discovery_finds_meters_newest_in_other_project(
        tmp_path, make_db_url, mode):
    db_url = make_db_url('sqlite')
    with Simulator(samples=_cloud()) as sim:
        conf = harness.configure(
            tmp_path / 'export.conf', sim, db_url,
            {'gamma_all': ('project_id=p-gamma', '*')},
            ceilometer={'page_size': '10', 'query_mode': mode})
        assert export.main(['--config-file', conf, '--once']) == 0
        want = harness.expected(
            sim, where=lambda s: s['project_id'] == 'p-gamma')
        assert {s['counter_name'] for s in want.values()} == {
            'cpu_util', 'disk.read.bytes'}
        assert harness.exported(db_url) == want
        listings = [r for r in sim.request_log if r['path'] == '/v2/meters']
        assert listings and all('q.field' not in r['query']
                                for r in listings)
        empty = [r for r in sim.request_log
                 if 'network.incoming.bytes' in r['path']
                 or 'network.incoming.bytes' in str(r.get('body'))]
    # One request found that the meter has nothing for gamma ...
    assert len(empty) == 1
    # ... and it left no checkpoint row claiming anything.
    assert set(harness.checkpoints(db_url)) == {
        ('gamma_all', 'cpu_util'), ('gamma_all', 'disk.read.bytes')}
