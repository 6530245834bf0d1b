"""Newest first with no tie-breaker, default limit, limit validation."""
import datetime

import pytest

from ceilometer_export.simulator import Simulator
from ceilometer_export.simulator import generate_samples
from tests.functional.simulator import clients


def _ts(items):
    return [s.timestamp for s in items]


def test_newest_first_and_ties_not_by_message_id(cc):
    page = cc.samples.list(meter_name='network.incoming.bytes', limit=60)
    stamps = _ts(page)
    assert stamps == sorted(stamps, reverse=True)
    groups = {}
    for s in page:
        groups.setdefault(s.timestamp, []).append(s.message_id)
    tied = [ids for ids in groups.values() if len(ids) > 3]
    assert tied, 'the generator shares one timestamp per cycle'
    assert any(ids != sorted(ids) and ids != sorted(ids, reverse=True)
               for ids in tied)


def test_all_samples_of_a_cycle_share_one_timestamp(cc):
    page = cc.new_samples.list(limit=500)
    newest = page[0].timestamp
    cycle = [s for s in page if s.timestamp == newest]
    assert len({s.meter for s in cycle}) >= 8
    assert len(cycle) > 50


def test_limit_cuts_inside_a_tie_group(cc):
    whole = cc.samples.list(meter_name='cpu_util', limit=100)
    newest = whole[0].timestamp
    group = {s.message_id for s in whole if s.timestamp == newest}
    cut = cc.samples.list(meter_name='cpu_util', limit=3)
    assert len(cut) == 3 and {s.message_id for s in cut} <= group
    assert len(group) > 3


def test_tie_order_depends_on_seed_not_ids():
    samples = generate_samples(cycles=2)
    orders = []
    for seed in (1, 2):
        with Simulator(samples=samples, seed=seed) as sim:
            page = clients.admin(sim).new_samples.list(limit=1000)
            orders.append([s.id for s in page])
    assert sorted(orders[0]) == sorted(orders[1])
    assert orders[0] != orders[1]


def test_default_limit_is_100(cc):
    assert len(cc.samples.list(meter_name='cpu_util')) == 100
    assert len(cc.new_samples.list()) == 100
    assert len(cc.query_samples.query()) == 100


def test_configurable_default_limit():
    with Simulator(default_limit=7) as sim:
        cc = clients.admin(sim)
        assert len(cc.samples.list(meter_name='cpu_util')) == 7
        assert len(cc.samples.list(meter_name='cpu_util', limit=9)) == 9


@pytest.mark.parametrize('limit', ['0', '-1'])
def test_limit_must_be_positive(cc, limit):
    for url in ('/v2/meters/cpu_util?limit=', '/v2/samples?limit=',
                '/v2/meters?limit=', '/v2/resources?limit='):
        resp = clients.get(cc, url + limit)
        assert resp.status_code == 400
        assert resp.json() == {'error_message': {
            'faultcode': 'Client', 'faultstring': 'Limit must be positive',
            'debuginfo': None}}
    resp = clients.post(cc, '/v2/query/samples', {'limit': int(limit)})
    assert resp.status_code == 400


def test_limit_not_an_int_is_a_server_error(cc):
    resp = clients.get(cc, '/v2/meters/cpu_util?limit=abc')
    assert resp.status_code == 500
    assert resp.json()['error_message'] == {
        'faultcode': 'Server',
        'faultstring': "invalid literal for int() with base 10: 'abc'",
        'debuginfo': None}


def test_no_maximum_limit(cc):
    total = len(cc.samples.list(meter_name='cpu_util', limit=100000))
    assert total == 8 * 24


def test_unknown_meter_is_empty_and_trailing_slash_ok(cc):
    assert cc.samples.list(meter_name='no.such.meter') == []
    resp = clients.get(cc, '/v2/meters/cpu_util/?limit=2')
    assert resp.status_code == 200 and len(resp.json()) == 2


def test_late_samples_are_visible_by_timestamp():
    with Simulator() as sim:
        cc = clients.admin(sim)
        before = cc.samples.list(meter_name='cpu_util', limit=1)[0]
        late = {'message_id': 'late-1', 'counter_name': 'cpu_util',
                'counter_type': 'gauge', 'counter_unit': '%',
                'counter_volume': 1.5, 'user_id': 'u-alice',
                'project_id': 'p-alpha-0001', 'resource_id': 'r-late',
                'source': 'openstack',
                'timestamp': datetime.datetime(2024, 1, 1, 1, 0),
                'recorded_at': None, 'resource_metadata': {'a': {'b': 1}}}
        sim.add_samples([late])
        assert cc.samples.list(meter_name='cpu_util', limit=1)[0].message_id \
            == before.message_id
        q = [{'field': 'timestamp', 'op': 'le', 'value': '2024-01-01T01:00:00'},
             {'field': 'resource_id', 'value': 'r-late'}]
        found = cc.samples.list(meter_name='cpu_util', q=q)
        assert [s.message_id for s in found] == ['late-1']
        assert found[0].resource_metadata == {'a.b': '1'}
        assert found[0].recorded_at > '2025'
