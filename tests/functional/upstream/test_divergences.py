"""Known differences between the simulator and the real 9.0.7 API.

Each is asserted as it is, so that a change on either side (a fix in the
simulator, another upstream recipe) shows up here and the normalisation in
cloud.known_divergences is revisited.
"""
import datetime

import pytest

from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients as sim_clients
from tests.functional.upstream import cloud
from tests.functional.upstream import clients as up_clients

WHEN = datetime.datetime(2024, 1, 1)
LISTS = {'links': [{'href': 'http://x/1', 'rel': 'bookmark'}],
         'tags': ['a', 'b'], 'sizes': [1, 2]}


@pytest.fixture(scope='module')
def pair(start_upstream):
    samples = [cloud._sample(1, 'm', 'p', 'u', 'r', WHEN, 1.0, LISTS)]
    with Simulator(samples=samples, seed=0) as sim:
        real = start_upstream(samples)
        yield sim_clients.admin(sim), up_clients.client_for(real)


def _metadata(client):
    return client.samples.list('m')[0].resource_metadata


def test_metadata_lists_render_as_bytes_on_python3(pair):
    # 9.0.7 passes list values through utils.decode_unicode, which on
    # Python 3 encodes every str to bytes before the repr; a Python 2
    # server (and the simulator) shows plain quotes. Numbers are untouched.
    # The exporter stores the text as the API returns it either way.
    sim, real = (_metadata(c) for c in pair)
    assert sim == {'links': "[{'href': 'http://x/1', 'rel': 'bookmark'}]",
                   'tags': "['a', 'b']", 'sizes': '[1, 2]'}
    assert real == {'links': "[{b'href': b'http://x/1', b'rel': b'bookmark'}]",
                    'tags': "[b'a', b'b']", 'sizes': '[1, 2]'}
    assert cloud.known_divergences(real) == sim


def test_schema_errors_carry_jsonschema_details_on_the_real_api(pair):
    # The real faultstring is "Filter expression not valid: " + str() of
    # jsonschema's ValidationError, which goes on with a dump of the
    # schema and the instance; the simulator gives the first line.
    body = {'filter': '{"=": {"nonsense": 1}}'}
    sim, real = (cloud.raw(c, 'POST', '/v2/query/samples', body)[1]
                 ['error_message']['faultstring'] for c in pair)
    assert '\n' not in sim
    assert real.startswith(sim + cloud.JSONSCHEMA_DETAIL)
    assert "Failed validating 'oneOf' in schema" in real


def test_recorded_at_in_a_complex_filter_fails_in_the_sql_layer(pair):
    # recorded_at values are not converted to datetimes, so the SQLite
    # DateTime bind rejects the str: a 500 on both, whose text is the
    # database library's. The simulator reproduces the message of the
    # SQLAlchemy of Ceilometer's time; the recipe runs SQLAlchemy 1.4.
    body = {'filter': '{"=": {"recorded_at": "2024-01-01T00:00:00"}}'}
    sim, real = (cloud.raw(c, 'POST', '/v2/query/samples', body)
                 for c in pair)
    assert sim[0] == real[0] == 500
    sim, real = (r[1]['error_message'] for r in (sim, real))
    assert sim['faultcode'] == real['faultcode'] == 'Server'
    assert sim['faultstring'] == "'str' object has no attribute 'utctimetuple'"
    assert real['faultstring'].startswith(
        '(builtins.TypeError) SQLite DateTime type only accepts Python '
        'datetime and date objects as input.')
