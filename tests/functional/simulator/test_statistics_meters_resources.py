"""Statistics, meters and resources listings."""
import base64
import collections
import math
import urllib.parse

import pytest

from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients

STATS_KEYS = ['groupby', 'unit', 'min', 'max', 'avg', 'sum', 'count',
              'duration', 'duration_start', 'duration_end', 'period',
              'period_start', 'period_end']


def _cpu(sim, project=None):
    return [s for s in sim.samples() if s['counter_name'] == 'cpu_util'
            and project in (None, s['project_id'])]


def test_single_bucket_matches_the_data(sim, cc):
    rows = cc.statistics.list('cpu_util', q=[
        {'field': 'project_id', 'value': 'p-beta-0002'}])
    assert len(rows) == 1
    row = rows[0].to_dict()
    assert list(row) == STATS_KEYS
    volumes = [s['counter_volume'] for s in _cpu(sim, 'p-beta-0002')]
    assert row['count'] == len(volumes)
    assert (row['min'], row['max']) == (min(volumes), max(volumes))
    assert row['sum'] == pytest.approx(sum(volumes))
    assert row['avg'] == pytest.approx(sum(volumes) / len(volumes))
    assert row['period'] == 0 and row['groupby'] is None
    assert row['duration_start'] == row['period_start'] == \
        '2024-01-01T00:00:00'
    assert row['duration_end'] == '2024-01-01T03:50:00'
    assert row['duration'] == 230 * 60


def test_periods_start_at_the_lower_bound_and_are_half_open(cc):
    q = [{'field': 'timestamp', 'op': 'ge', 'value': '2024-01-01T00:05:00'},
         {'field': 'timestamp', 'op': 'lt', 'value': '2024-01-01T01:00:00'}]
    rows = [r.to_dict() for r in cc.statistics.list('cpu_util', q=q,
                                                    period=1200)]
    assert [(r['period_start'], r['period_end']) for r in rows] == [
        ('2024-01-01T00:05:00', '2024-01-01T00:25:00'),
        ('2024-01-01T00:25:00', '2024-01-01T00:45:00'),
        ('2024-01-01T00:45:00', '2024-01-01T01:05:00')]
    assert [r['count'] for r in rows] == [16, 16, 8]
    assert rows[0]['duration_start'] == '2024-01-01T00:10:00'
    assert all(r['period'] == 1200 for r in rows)
    # The last bucket's duration is clamped to the query's upper bound.
    assert rows[2]['duration_end'] == '2024-01-01T00:50:00'


def test_periods_without_bounds_start_at_the_first_sample(cc):
    rows = cc.statistics.list('cpu_util', period=3600)
    starts = [r.period_start for r in rows]
    assert starts == ['2024-01-01T0%d:00:00' % h for h in range(4)]
    # end = last sample (03:50), ceil(230 min / 60) = 4 buckets.
    assert sum(r.count for r in rows) == 8 * 24


def test_groupby_and_aggregates(sim, cc):
    rows = cc.statistics.list(
        'cpu_util', groupby=['project_id', 'resource_metadata.instance_type'],
        aggregates=[{'func': 'cardinality', 'param': 'resource_id'},
                    {'func': 'max'}, {'func': 'count'}])
    expected = collections.Counter(
        (s['project_id'], s['resource_metadata']['instance_type'])
        for s in _cpu(sim))
    got = {(r.groupby['project_id'],
            r.groupby['resource_metadata.instance_type']): r for r in rows}
    assert set(got) == set(expected)
    for key, row in got.items():
        data = row.to_dict()
        assert data['count'] == expected[key]
        assert 'min' not in data and 'avg' not in data
        assert set(data['aggregate']) == {'cardinality/resource_id', 'max',
                                          'count'}
        assert data['aggregate']['count'] == float(expected[key])
        assert data['aggregate']['max'] == data['max']


def test_stddev(sim, cc):
    row = cc.statistics.list('memory.usage',
                             aggregates=[{'func': 'stddev'}])[0]
    volumes = [s['counter_volume'] for s in sim.samples()
               if s['counter_name'] == 'memory.usage']
    mean = sum(volumes) / len(volumes)
    expected = math.sqrt(sum((v - mean) ** 2 for v in volumes) / len(volumes))
    assert row.aggregate['stddev'] == pytest.approx(expected)


def test_meters_one_per_meter_and_resource(sim, cc):
    meters = cc.meters.list(limit=1000)
    pairs = {(s['counter_name'], s['resource_id']) for s in sim.samples()}
    assert {(m.name, m.resource_id) for m in meters} == pairs
    first = meters[0].to_dict()
    assert list(first) == ['name', 'type', 'unit', 'resource_id',
                           'project_id', 'user_id', 'source', 'meter_id']
    assert base64.b64decode(first['meter_id']).decode() == '%s+%s' % (
        first['resource_id'], first['name'])
    assert len(pairs) == 64
    assert len(cc.meters.list(limit=10)) == 10     # limit counts pairs


def test_meters_unique(cc):
    meters = cc.meters.list(unique=True, limit=100)
    names = [m.name for m in meters]
    assert len(names) == len(set(names)) == 9
    assert all(m.resource_id is None and m.project_id is None
               for m in meters)
    assert base64.b64decode(meters[0].meter_id).decode() == \
        'None+%s' % meters[0].name


def test_meters_filter_on_the_latest_sample(cc):
    meters = cc.meters.list(q=[{'field': 'metadata.status',
                                'value': 'shutoff'}], limit=1000)
    # One instance was shut off half way: only its meters match.
    assert len({m.resource_id for m in meters}) == 1
    assert len(meters) == 6
    assert {m.project_id for m in meters} == {'p-gamma-0003'}


def test_resources(sim, cc):
    listed = cc.resources.list(limit=1000)
    ids = [r.resource_id for r in listed]
    assert ids == sorted({s['resource_id'] for s in sim.samples()})
    one = listed[0].to_dict()
    assert list(one) == ['resource_id', 'project_id', 'user_id',
                         'first_sample_timestamp', 'last_sample_timestamp',
                         'metadata', 'links', 'source']
    assert [link['rel'] for link in one['links']] == ['self']  # meter_links=0
    resp = clients.get(cc, '/v2/resources?limit=2')
    linked = resp.json()[0]['links']
    assert linked[0] == {'href': '%s/v2/resources/%s' % (
        sim.ceilometer_url, linked[0]['href'].rsplit('/', 1)[1]),
        'rel': 'self'}
    assert len(linked) > 1 and linked[1]['href'].startswith(
        sim.ceilometer_url + '/v2/meters/')


def test_resource_with_a_slash_and_timestamps(sim, cc):
    container = [r for r in cc.resources.list(limit=1000)
                 if '/' in r.resource_id][0]
    one = cc.resources.get(urllib.parse.quote(container.resource_id, safe=''))
    assert one.resource_id == container.resource_id
    assert one.metadata['container'].startswith('container-')
    q = [{'field': 'timestamp', 'op': 'ge', 'value': '2024-01-01T01:00:00'},
         {'field': 'timestamp', 'op': 'lt', 'value': '2024-01-01T02:00:00'}]
    windowed = cc.resources.list(q=q, limit=1000)
    assert {r.first_sample_timestamp for r in windowed} == {
        '2024-01-01T01:00:00'}
    assert {r.last_sample_timestamp for r in windowed} == {
        '2024-01-01T01:50:00'}


def test_capabilities(cc):
    caps = cc.capabilities.get()
    assert caps.api['samples:query:complex'] is True
    assert caps.storage == {'storage:production_ready': True}
    assert list(caps.api) == sorted(caps.api)


def test_post_samples_through_the_api():
    with Simulator(samples=[]) as sim:
        cc = clients.admin(sim)
        created = cc.samples.create(
            meter_name='cpu_util', counter_name='cpu_util',
            counter_type='gauge', counter_unit='%', counter_volume=12.5,
            resource_id='r1', project_id='p-alpha-0001',
            timestamp='2024-02-01T00:00:00+01:00',
            resource_metadata={'flavor.name': 'm1.tiny', 'n': '1'})
        stored = cc.samples.list(meter_name='cpu_util')
        assert [s.message_id for s in stored] == [created[0].message_id]
        assert stored[0].source == 'p-alpha-0001:openstack'
        assert stored[0].timestamp == '2024-01-31T23:00:00'
        assert stored[0].user_id == 'admin'
        assert stored[0].resource_metadata == {'flavor.name': 'm1.tiny',
                                               'n': '1'}
        demo = clients.demo(sim)
        error = clients.error_of(
            demo.samples.create, meter_name='cpu_util',
            counter_name='cpu_util', counter_type='gauge',
            counter_unit='%', counter_volume=1, resource_id='r1',
            project_id='p-beta-0002')
        assert error.code == 400
