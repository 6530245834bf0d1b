"""POST /v2/query/samples: grammar, fields, ordering, limits, errors."""
import json

import pytest

from ceilometer_export.simulator import complex_query
from tests.functional.simulator import clients


def _query(cc, filt=None, orderby=None, limit=None):
    return cc.query_samples.query(
        filter=None if filt is None else json.dumps(filt),
        orderby=None if orderby is None else json.dumps(orderby),
        limit=limit)


def _post(cc, body):
    resp = clients.post(cc, '/v2/query/samples', body)
    return resp.status_code, resp.json()


def test_default_order_is_timestamp_desc(cc):
    page = _query(cc, {'=': {'meter': 'cpu_util'}}, limit=50)
    stamps = [s.timestamp for s in page]
    assert stamps == sorted(stamps, reverse=True)
    assert {s.meter for s in page} == {'cpu_util'}


def test_operators_are_case_insensitive(cc):
    filt = {'AnD': [{'In': {'meter': ['cpu_util', 'memory.usage']}},
                    {'NOT': {'=': {'resource_metadata': 'x'}}},
                    {'Or': [{'=': {'project': 'p-alpha-0001'}},
                            {'=': {'project_id': 'p-beta-0002'}}]},
                    {'>=': {'timestamp': '2024-01-01T03:00:00'}}]}
    page = _query(cc, filt, limit=1000)
    assert page
    assert {s.meter for s in page} == {'cpu_util', 'memory.usage'}
    assert {s.project_id for s in page} == {'p-alpha-0001', 'p-beta-0002'}
    assert min(s.timestamp for s in page) == '2024-01-01T03:00:00'


@pytest.mark.parametrize('op, check', [
    ('=<', lambda v: v <= 50), ('=>', lambda v: v >= 50),
    ('<', lambda v: v < 50), ('!=', lambda v: v != 50),
])
def test_numeric_operators_on_volume(cc, op, check):
    page = _query(cc, {'and': [{'=': {'meter': 'cpu_util'}},
                               {op: {'volume': 50}}]}, limit=1000)
    assert page and all(check(s.volume) for s in page)


def test_regex_operator(cc):
    page = _query(cc, {'=~': {'meter': '^disk\\.'}}, limit=20)
    assert page and {s.meter for s in page} == {'disk.read.bytes'}


def test_multi_key_orderby(cc):
    orderby = [{'project_id': 'desc'}, {'volume': 'ASC'}, {'message_id': 'asc'}]
    page = _query(cc, {'=': {'meter': 'cpu_util'}}, orderby, limit=1000)
    keys = [(s.project_id, s.volume, s.id) for s in page]
    expected = sorted(keys, key=lambda k: (k[1], k[2]))
    expected.sort(key=lambda k: k[0], reverse=True)
    assert keys == expected


def test_keyset_paging_reads_every_sample_once(cc):
    """The exporter's complex-mode paging works across tie groups."""
    orderby = [{'timestamp': 'asc'}, {'message_id': 'asc'}]
    seen, last = [], None
    while True:
        filt = {'=': {'meter': 'network.incoming.bytes'}}
        if last:
            filt = {'and': [filt, {'or': [
                {'>': {'timestamp': last[0]}},
                {'and': [{'=': {'timestamp': last[0]}},
                         {'>': {'message_id': last[1]}}]}]}]}
        page = _query(cc, filt, orderby, limit=7)
        seen.extend(s.id for s in page)
        if len(page) < 7:
            break
        last = (page[-1].timestamp, page[-1].id)
    assert len(seen) == len(set(seen)) == 12 * 24


def test_timestamp_only_order_has_no_tie_breaker(cc):
    page = _query(cc, {'=': {'meter': 'cpu_util'}}, [{'timestamp': 'asc'}],
                  limit=8)
    ids = [s.id for s in page]
    assert len({s.timestamp for s in page}) == 1
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)


def test_metadata_fields_and_flattening(cc):
    page = _query(cc, {'and': [
        {'=': {'metadata.flavor.name': 'm1.tiny'}},
        {'=': {'metadata.image_meta.properties.hw_disk_bus': 'virtio'}},
        {'=': {'metadata.memory_mb': 512}},
        {'=': {'meter': 'cpu_util'}}]}, limit=3)
    assert len(page) == 3
    meta = page[0].metadata
    assert meta['flavor.name'] == 'm1.tiny'
    assert meta['image_meta.properties:hw_disk_bus'] == 'virtio'
    assert meta['memory_mb'] == '512'
    assert meta['OS-EXT-AZ.availability_zone'] == 'nova'
    assert meta['kernel_id'] == 'None' and meta['auto_disk_config'] == 'False'
    assert meta['image.links'].startswith("[{'href': ")


def test_metadata_types_do_not_mix(cc):
    assert _query(cc, {'=': {'metadata.memory_mb': '512'}}, limit=1) == []
    assert _query(cc, {'=': {'metadata.memory_mb': 512.0}}, limit=1) == []
    assert _query(cc, {'=': {'metadata.auto_disk_config': False}}, limit=1)


def test_missing_metadata_key_never_matches(cc):
    for filt in ({'!=': {'metadata.no_such_key': 'x'}},
                 {'not': {'=': {'metadata.no_such_key': 'x'}}},
                 {'not': {'!=': {'metadata.no_such_key': 'x'}}}):
        assert _query(cc, filt, limit=5) == []
    # ...while "or" with something true still matches.
    filt = {'or': [{'!=': {'metadata.no_such_key': 'x'}},
                   {'=': {'meter': 'cpu_util'}}]}
    assert len(_query(cc, filt, limit=5)) == 5


def test_limit_as_numeric_string(cc):
    assert _post(cc, {'limit': '3'})[0] == 200
    assert len(_post(cc, {'limit': '3'})[1]) == 3


def _invalid(text):
    return 'Filter expression not valid: %s' % text


@pytest.mark.parametrize('filt', [
    {'=': {'counter': 'x'}},                    # unknown field
    {'=': {'meter': None}},                     # null
    {'and': [{'=': {'meter': 'x'}}]},           # and needs 2 items
    {'=': {'meter': 'x'}, '<': {'volume': 1}},  # two keys
    {'~': {'meter': 'x'}},                      # unknown operator
    {'in': {'meter': []}},                      # empty in-list
    {'=': {'resource_metadata.flavor': 'x'}},   # only metadata.* allowed
])
def test_invalid_filters(cc, filt):
    status, body = _post(cc, {'filter': json.dumps(filt)})
    assert status == 400
    assert body['error_message']['faultstring'] == _invalid(
        '%r is not valid under any of the given schemas' % (filt,))


@pytest.mark.parametrize('body, status, text', [
    ({'filter': 'not json'}, 400,
     'Filter expression not valid: Expecting value: line 1 column 1 '
     '(char 0)'),
    ({'filter': '{"=": {"timestamp": "yesterday"}}'}, 400,
     'Failed to parse the timestamp value yesterday'),
    ({'orderby': '[{"timestamp": "up"}]'}, 400,
     "Order-by expression not valid: 'up' does not match "
     "'(?i)^asc$|^desc$'"),
    ({'orderby': '[{"metadata.a": "asc"}]'}, 400,
     "Order-by expression not valid: 'metadata.a' does not match any of "
     "the regexes: '%s'" % complex_query._FIELD_RE.pattern),
    ({'orderby': '{"timestamp": "asc"}'}, 400,
     "Order-by expression not valid: {'timestamp': 'asc'} is not of type "
     "'array'"),
    ({'filter': '{"in": {"metadata.status": ["active"]}}'}, 501,
     'Metadata query with in operator is not implemented'),
    ({'filter': '{"=": {"source": "openstack"}}'}, 500,
     "type object 'FullSample' has no attribute 'source'"),
    ({'orderby': '[{"source": "asc"}]'}, 500,
     "type object 'FullSample' has no attribute 'source'"),
    ({'limit': 0}, 400, 'Limit must be positive'),
    ({'limit': -5}, 400, 'Limit must be positive'),
    ({'filter': '{"=": {"recorded_at": "2024-01-01T00:00:00"}}'}, 500,
     "'str' object has no attribute 'utctimetuple'"),
])
def test_errors(cc, body, status, text):
    got_status, got = _post(cc, body)
    assert (got_status, got['error_message']['faultstring']) == (status, text)
    assert got['error_message']['faultcode'] == (
        'Client' if status < 500 else 'Server')


def test_filter_sent_as_object_is_rejected(cc):
    # python-ceilometerclient sends a dict filter unchanged.
    status, body = _post(cc, {'filter': {'=': {'meter': 'cpu_util'}},
                              'limit': 5})
    assert status == 400


def test_offset_dropped_in_complex_timestamps(cc):
    a = _query(cc, {'<': {'timestamp': '2024-01-01T02:00:00+03:00'}}, limit=3)
    b = _query(cc, {'<': {'timestamp': '2024-01-01T02:00:00'}}, limit=3)
    assert [s.id for s in a] == [s.id for s in b]
    assert a[0].timestamp == '2024-01-01T01:50:00'
