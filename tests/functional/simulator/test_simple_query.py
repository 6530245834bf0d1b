"""Simple query field/op rules, error bodies, typing and offsets."""
import datetime

import pytest

from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients

SAMPLE_KEYS = ("['message_id', 'meter', 'project', 'resource', "
               "'search_offset', 'source', 'timestamp', 'user']")


def _fault(resp):
    return resp.status_code, resp.json()['error_message']['faultstring']


def _q(*items):
    return [dict(zip(('field', 'op', 'value', 'type'), item))
            for item in items]


@pytest.mark.parametrize('url, status, text', [
    ('/v2/meters/cpu_util?q.field=project_id&q.op=ne&q.value=p-alpha-0001',
     400, "Invalid input for field/attribute op. Value: 'ne'. "
          "unimplemented operator for project_id"),
    ('/v2/meters/cpu_util?q.field=timestamp&q.op=eq'
     '&q.value=2024-01-01T00:00:00',
     400, "Invalid input for field/attribute op. Value: 'eq'. "
          "unimplemented operator for timestamp"),
    ('/v2/meters/cpu_util?q.field=timestamp&q.op=&q.type='
     '&q.value=2024-01-01T00:00:00',
     400, "Invalid input for field/attribute op. Value: 'eq'. "
          "unimplemented operator for timestamp"),
    ('/v2/samples?q.field=counter_name&q.op=&q.type=&q.value=cpu_util',
     400, 'Unknown argument: "counter_name": unrecognized field in query: '
          "[<Query 'counter_name' eq 'cpu_util' >], valid keys: "
          + SAMPLE_KEYS),
    ('/v2/meters/cpu_util?q.field=recorded_at&q.op=gt&q.value=2024',
     400, 'Unknown argument: "recorded_at": unrecognized field in query: '
          "[<Query 'recorded_at' gt '2024' Unset>], valid keys: "
          + SAMPLE_KEYS),
    ('/v2/meters?q.field=timestamp&q.op=gt&q.value=2024-01-01',
     400, 'Unknown argument: "timestamp": not valid for this resource'),
    ('/v2/meters?q.field=meter&q.op=eq&q.value=cpu_util',
     400, 'Unknown argument: "meter": unrecognized field in query: '
          "[<Query 'meter' eq 'cpu_util' Unset>], valid keys: "
          "['project', 'resource', 'source', 'unique', 'user']"),
    ('/v2/samples?q.field=search_offset&q.op=eq&q.value=5',
     400, "Invalid input for field/attribute field. Value: 'search_offset'. "
          "search_offset cannot be used without timestamp"),
    ('/v2/samples?q.field=timestamp&q.op=gt&q.value=1420107630',
     400, "Invalid input for field/attribute timestamp. Value: "
          "'1420107630'. invalid timestamp format"),
    ('/v2/samples?q.field=metadata.vcpus&q.op=eq&q.type=blob&q.value=1',
     400, "The data type blob is not supported. The supported data type "
          "list is: ['integer', 'float', 'string', 'boolean', 'datetime']"),
    ('/v2/samples?q.field=metadata.vcpus&q.op=eq&q.type=integer&q.value=x',
     400, 'Unable to convert the value x to the expected data type '
          'integer.'),
    ('/v2/samples?q.field=metadata.vcpus&q.op=eq&q.type=boolean'
     '&q.value=maybe',
     400, 'Unable to convert the value maybe to the expected data type '
          'boolean.'),
    ('/v2/samples?foo=1', 400, 'Unknown argument: "foo"'),
    ('/v2/meters/cpu_util?q.field=metadata.x&q.op=eq&q.type=datetime'
     '&q.value=2024-01-01',
     501, "Query on metadata.x is of <class 'datetime.datetime'> type and "
          "is not supported"),
])
def test_errors(cc, url, status, text):
    assert _fault(clients.get(cc, url)) == (status, text)


def test_error_envelope_exactly(cc):
    resp = clients.get(cc, '/v2/meters/cpu_util?q.field=resource&q.op=gt'
                           '&q.value=x')
    assert resp.json() == {'error_message': {
        'faultcode': 'Client',
        'faultstring': "Invalid input for field/attribute op. Value: 'gt'. "
                       "unimplemented operator for resource",
        'debuginfo': None}}
    assert resp.headers['x-openstack-request-id'].startswith('req-')


def test_aliases_and_empty_op(cc):
    full = cc.samples.list(meter_name='cpu_util', limit=1000)
    some = full[5]
    for field in ('resource', 'resource_id'):
        found = cc.samples.list(meter_name='cpu_util', q=_q(
            (field, '', some.resource_id)), limit=1000)
        assert found and {s.resource_id for s in found} == {some.resource_id}
    for field in ('user', 'user_id'):
        found = cc.samples.list(meter_name='cpu_util', q=_q(
            (field, 'eq', some.user_id)), limit=1000)
        assert {s.user_id for s in found} == {some.user_id}
    found = cc.new_samples.list(q=_q(('message_id', 'eq', some.message_id)))
    assert [s.id for s in found] == [some.message_id]
    found = cc.new_samples.list(q=_q(('meter', 'eq', 'image.size')),
                                limit=1000)
    assert len(found) == 48 and {s.meter for s in found} == {'image.size'}


def test_timestamp_bounds_and_last_one_wins(cc):
    def window(*bounds):
        q = _q(*[('timestamp', op, value) for op, value in bounds])
        return _ts(cc.samples.list(meter_name='cpu_util', q=q, limit=1000))
    t1, t2 = '2024-01-01T01:00:00', '2024-01-01T02:00:00'
    assert set(window(('gt', t1), ('lt', t2))) == {
        '2024-01-01T01:10:00', '2024-01-01T01:20:00', '2024-01-01T01:30:00',
        '2024-01-01T01:40:00', '2024-01-01T01:50:00'}
    assert min(window(('ge', t1), ('le', t2))) == t1
    assert max(window(('ge', t1), ('le', t2))) == t2
    # Repeated bounds: the last one wins (not the tightest).
    assert min(window(('gt', t2), ('gt', t1), ('lt', '2024-01-01T03:00:00'))
               ) == '2024-01-01T01:10:00'


def _ts(items):
    return [s.timestamp for s in items]


def test_offsets_are_dropped_not_converted(cc):
    def newest_after(value):
        q = _q(('timestamp', 'lt', value))
        return cc.samples.list(meter_name='cpu_util', q=q, limit=1)[0]
    assert newest_after('2024-01-01T02:00:00+05:00').timestamp == \
        newest_after('2024-01-01T02:00:00').timestamp == \
        newest_after('2024-01-01T02:00:00Z').timestamp == \
        '2024-01-01T01:50:00'
    assert newest_after('2024-01-01 02:00').timestamp == '2024-01-01T01:50:00'


def test_search_offset_widens_both_bounds(cc):
    q = _q(('timestamp', 'ge', '2024-01-01T01:00:00'),
           ('timestamp', 'le', '2024-01-01T01:00:00'),
           ('search_offset', 'eq', '10'))
    stamps = set(_ts(cc.samples.list(meter_name='cpu_util', q=q, limit=99)))
    assert stamps == {'2024-01-01T00:50:00', '2024-01-01T01:00:00',
                      '2024-01-01T01:10:00'}


@pytest.mark.parametrize('field, value, kind, matches', [
    ('metadata.memory_mb', '512', '', True),         # literal_eval -> int
    ('metadata.memory_mb', '512', 'integer', True),
    ('metadata.memory_mb', '512', 'string', False),  # stored as an int
    ('metadata.memory_mb', '512.0', '', False),      # float table
    ('metadata.flavor.ram', '512', '', True),        # nested a -> b
    ('resource_metadata.flavor.name', 'm1.tiny', '', True),
    ('metadata.flavor.name', "'m1.tiny'", '', True),  # quotes unquoted
    ('metadata.auto_disk_config', 'False', '', True),  # bool
    ('metadata.auto_disk_config', 'false', 'boolean', True),
    ('metadata.auto_disk_config', '0', '', False),   # int, not bool
    ('metadata.image_meta.properties.hw_disk_bus', 'virtio', '', True),
    ('metadata.image_meta.min_disk', '1', '', False),  # stored '1' (str)
    ('metadata.image_meta.min_disk', '1', 'string', True),
    ('metadata.no_such_key', 'x', '', False),
])
def test_metadata_typing(cc, field, value, kind, matches):
    q = _q((field, 'eq', value, kind), ('resource', 'eq', _tiny(cc)))
    found = cc.samples.list(meter_name='cpu_util', q=q, limit=5)
    assert bool(found) is matches


def _tiny(cc):
    found = cc.samples.list(meter_name='cpu_util', q=_q(
        ('metadata.instance_type', 'eq', 'm1.tiny', 'string')), limit=1)
    return found[0].resource_id


def test_none_query_matches_missing_keys_like_sql(cc):
    # 'None' literal_evals to None: the SQL driver filters "value IS NULL"
    # on an outer join, which a missing key satisfies too.
    q = _q(('metadata.kernel_id', 'eq', 'None'))
    assert len(cc.samples.list(meter_name='cpu_util', q=q, limit=5)) == 5
    q = _q(('metadata.no_such_key', 'eq', 'None'))
    assert len(cc.samples.list(meter_name='cpu_util', q=q, limit=5)) == 5


def test_project_none_means_null():
    sample = {'counter_name': 'image.size', 'counter_type': 'gauge',
              'counter_unit': 'B', 'counter_volume': 1, 'user_id': None,
              'project_id': None, 'resource_id': 'img',
              'timestamp': datetime.datetime(2024, 1, 1)}
    with Simulator(samples=[sample]) as sim:
        cc = clients.admin(sim)
        found = cc.new_samples.list(q=_q(('user', 'eq', 'None')))
        assert [s.user_id for s in found] == [None]
