"""Publisher samples -> rows: the v2 API's metadata flattening (checked
against the simulator's copy of ceilometer's), timestamps, rejects, and
Basic auth parsing."""

import base64
import datetime
import random

import pytest

from ceilometer_export import rejects
from ceilometer_export.receiver import auth
from ceilometer_export.receiver import convert
from ceilometer_export.simulator import model

NOW = datetime.datetime(2026, 12, 1, 12, 0, 0, 1)


def _pushed(**changes):
    sample = {'name': 'cpu', 'type': 'cumulative', 'unit': 'ns',
              'volume': 12, 'user_id': 'u', 'project_id': 'p',
              'resource_id': 'r', 'timestamp': '2026-12-01T10:00:00',
              'resource_metadata': {'flavor': {'ram': 512}},
              'source': 'openstack', 'id': 'm-1', 'monotonic_time': None,
              'user_name': None, 'project_name': None}
    sample.update(changes)
    return sample


@pytest.mark.parametrize('metadata, flat', [
    ({'a': {'b': {'c': 'd'}}}, {'a.b:c': 'd'}),
    ({'flavor': {'name': 'm1', 'ram': 512}},
     {'flavor.name': 'm1', 'flavor.ram': '512'}),
    ({'properties': {'prop.3': {'$sub_prop.2': 'v'}}},
     {'properties.prop:3:$sub_prop:2': 'v'}),
    ({'l': ['x', 1], 't': True, 'n': None, 'f': 0.5},
     {'l': "['x', 1]", 't': 'True', 'n': 'None', 'f': '0.5'}),
])
def test_flatten_like_the_v2_api(metadata, flat):
    assert convert.flatten_metadata(metadata) == flat


def _random_value(rng, depth):
    roll = rng.random()
    if depth < 3 and roll < 0.25:
        return {rng.choice(['a', 'b.c', 'd:e', 'f']): _random_value(
            rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if roll < 0.35:
        return [_random_value(rng, depth + 1) for _ in range(2)]
    return rng.choice([None, True, False, 0, -3, 2 ** 40, 0.1, 1e20, '',
                       'x', '\u00e9t\u00e9', "it's"])


def test_flatten_matches_the_simulators_api_rendering():
    rng = random.Random(11)
    for _ in range(300):
        metadata = {k: _random_value(rng, 0)
                    for k in rng.sample(['a', 'b', 'c.d', 'e'], 3)}
        assert convert.flatten_metadata(metadata) == \
            model.flatten_metadata(metadata)


@pytest.mark.parametrize('text, parsed', [
    ('2026-12-01T10:00:00', datetime.datetime(2026, 12, 1, 10)),
    ('2026-12-01T10:00:00.5', datetime.datetime(2026, 12, 1, 10, 0, 0,
                                                500000)),
    ('2026-12-01 10:00:00.123456', datetime.datetime(2026, 12, 1, 10, 0, 0,
                                                     123456)),
    ('2026-12-01T10:00:00+00:00', datetime.datetime(2026, 12, 1, 10)),
    ('2026-12-01T10:00:00Z', datetime.datetime(2026, 12, 1, 10)),
    ('2026-12-01T01:00:00-0230', datetime.datetime(2026, 12, 1, 3, 30)),
])
def test_timestamps_become_naive_utc(text, parsed):
    assert convert.parse_timestamp(text) == parsed


@pytest.mark.parametrize('text', ['2026-12-01', 'yesterday', 1700000000,
                                  None, '2026-13-01T00:00:00'])
def test_bad_timestamps(text):
    with pytest.raises(ValueError):
        convert.parse_timestamp(text)


def test_row_as_the_pull_path_builds_it():
    converted = convert.convert(_pushed(), NOW)
    assert not converted.rejected
    assert converted.row == {
        'message_id': 'm-1', 'counter_name': 'cpu', 'counter_type':
        'cumulative', 'counter_unit': 'ns', 'counter_volume': 12.0,
        'user_id': 'u', 'project_id': 'p', 'resource_id': 'r',
        'source': 'openstack', 'timestamp': datetime.datetime(2026, 12, 1,
                                                              10),
        'recorded_at': NOW, 'resource_metadata': {'flavor.ram': '512'}}
    # Queries see the typed original, not the flattened strings.
    assert converted.subject.metadata == {'flavor.ram': 512}


@pytest.mark.parametrize('changes, code', [
    ({'volume': float('nan')}, rejects.VOLUME),
    ({'volume': 'many'}, rejects.VOLUME),
    ({'timestamp': 'now'}, rejects.TIMESTAMP),
    ({'id': None}, rejects.MESSAGE_ID),
    ({'resource_metadata': {'k': 'caf\udce9'}}, rejects.UNICODE),
    ({'resource_id': 'r' * 300}, rejects.TOO_LONG),
    ({'resource_metadata': ['not', 'a', 'dict']}, rejects.OTHER),
])
def test_malformed_samples_become_rejects(changes, code):
    pushed = _pushed(**changes)
    converted = convert.convert(pushed, NOW)
    assert converted.rejected
    assert rejects.code(rejects.reason_of(converted.row)) == code
    assert converted.row['meter'] == 'cpu'
    assert converted.row['raw'] == rejects.raw_text(pushed)


def test_not_an_object():
    converted = convert.convert(['x'], NOW)
    assert converted.rejected and converted.row['meter'] is None


def _environ(user, password):
    token = base64.b64encode(('%s:%s' % (user, password)).encode())
    return {'HTTP_AUTHORIZATION': 'Basic ' + token.decode()}


def test_basic_auth():
    creds = auth.from_options('ceilometer', 'pa$$-w0rd')
    assert auth.allowed(creds, _environ('ceilometer', 'pa$$-w0rd'))
    assert not auth.allowed(creds, _environ('ceilometer', 'pa$$-w0rX'))
    assert not auth.allowed(creds, _environ('other', 'pa$$-w0rd'))
    assert not auth.allowed(creds, {'HTTP_AUTHORIZATION': 'Basic !!'})
    assert not auth.allowed(creds, {})
    assert auth.allowed(None, {})


@pytest.mark.parametrize('user, password', [
    ('ceilometer', ''), ('', 'x'), ('a@b', 'x'), ('a', 'p:w'),
    ('a', 'p%40')])
def test_credentials_must_be_both_and_url_safe(user, password):
    with pytest.raises(ValueError, match=r'\[receiver\] (username|password)'):
        auth.from_options(user, password)


@pytest.mark.parametrize('text, suspect', [
    ('[{"a": "caf\\u00e9"}]', False), ('[{"a": "x\\udce9"}]', True),
    ('[{"a": "x\\uD800"}]', True), ('[{"a": "\\u0000"}]', True),
    ('[{"a": "caf\udce9"}]', True), ('[{"a": "\x00"}]', True),
    ('[{"a": "\\u00000"}]', True), ('[]', False)])
def test_body_scan_finds_every_invalid_string(text, suspect):
    assert convert.may_hold_invalid_text(text) is suspect
