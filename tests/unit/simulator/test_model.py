"""Metadata flattening, typed key/values and JSON rendering."""
import datetime
import json

from ceilometer_export.simulator import model
from ceilometer_export.simulator import store


def test_flatten_rules_from_the_api_doc():
    assert model.flatten_metadata({'a': {'b': {'c': 'd'}}}) == {'a.b:c': 'd'}
    assert model.flatten_metadata({'flavor': {'name': 'm1', 'ram': 512}}) \
        == {'flavor.name': 'm1', 'flavor.ram': '512'}
    assert model.flatten_metadata(
        {'properties': {'prop.3': {'$sub_prop.2': 'v'}}}) == {
        'properties.prop:3:$sub_prop:2': 'v'}


def test_flatten_values_and_order():
    flat = model.flatten_metadata({'z': 1, 'b': 0.5, 'a': True, 'n': None,
                                   'l': ['x', 1], 't': (1, 2), 's': {1},
                                   'OS-EXT-AZ:zone': 'nova', 'e': {}})
    assert flat == {'OS-EXT-AZ.zone': 'nova', 'a': 'True', 'b': '0.5',
                    'l': "['x', 1]", 'n': 'None', 't': '[1, 2]', 'z': '1'}
    assert list(flat) == sorted(flat)
    assert model.flatten_metadata({}) == {} == model.flatten_metadata(None)


def test_typed_keyvals_like_the_sql_tables():
    typed = dict(model.typed_keyvals({'a': {'b': 1}, 'l': [{'x': True}, 2],
                                      'n': None}))
    assert typed == {'a.b': 1, 'l[0].x': True, 'l[1]': 2, 'n': None}


def test_restore_nesting():
    assert model.restore_nesting({'a.b:c': '1', 'd': 'x'}) == {
        'a': {'b': {'c': '1'}}, 'd': 'x'}


def test_sort_keys_order_by_time_then_tiebreak():
    t = datetime.datetime(2024, 1, 1, 0, 0, 0, 5)
    assert model.sort_key(t, 7) < model.sort_key(t, 8) < \
        model.sort_key(t + datetime.timedelta(microseconds=1), 0)
    assert model.lower_key(t, strict=True) > model.sort_key(t, 2 ** 24 - 1)
    assert model.upper_key(t, inclusive=False) <= model.sort_key(t, 0)


def _records():
    base = {'counter_name': 'm', 'counter_type': 'gauge',
            'counter_unit': 'u\u00e9', 'counter_volume': 1,
            'resource_id': 'r"1', 'project_id': None, 'user_id': 'u',
            'timestamp': datetime.datetime(2024, 1, 1, 0, 0, 0, 120000),
            'resource_metadata': {'k': {'n': [1, 'x']}, 'u': '\u2603'}}
    other = dict(base, counter_volume=float('inf'), message_id='id-2',
                 timestamp=datetime.datetime(2024, 1, 1))
    return store.SampleStore().add([base, other])


def test_fast_rendering_equals_json_dumps():
    recs = _records()
    assert model.render_old_samples(recs) == json.dumps(
        [model.old_sample(r) for r in recs]).encode()
    assert model.render_samples(recs) == json.dumps(
        [model.new_sample(r) for r in recs]).encode()
    assert model.render_samples([]) == b'[]'


def test_api_shapes():
    rec = _records()[1]
    old = model.old_sample(rec)
    assert list(old) == ['source', 'counter_name', 'counter_type',
                         'counter_unit', 'counter_volume', 'user_id',
                         'project_id', 'resource_id', 'timestamp',
                         'recorded_at', 'resource_metadata', 'message_id']
    assert old['timestamp'] == '2024-01-01T00:00:00'
    assert list(model.new_sample(rec)) == [
        'id', 'meter', 'type', 'unit', 'volume', 'user_id', 'project_id',
        'resource_id', 'source', 'timestamp', 'recorded_at', 'metadata']
    assert _records()[0].timestamp.isoformat().endswith('.120000')
