"""The recorded Ceilometer 9.0.7 request -> response pairs are reproduced."""
import pytest

from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients
from tests.functional.simulator import examples


@pytest.fixture(scope='module')
def recorded():
    with Simulator(samples=examples.union_samples(), seed=0,
                   port=0) as simulator:
        yield simulator, clients.admin(simulator)


def _answer(recorded, name):
    sim, cc = recorded
    if name in examples.POSTS:
        resp = clients.post(cc, '/v2/query/samples',
                            examples.request_body(name))
    else:
        resp = clients.get(cc, examples.GETS[name])
    return resp


def _links_on(sim, body):
    """Recorded links name 127.0.0.1:8777; ours name the real port."""
    text = repr(body)
    return eval(text.replace(sim.ceilometer_url, 'http://127.0.0.1:8777'))


@pytest.mark.parametrize('name', examples.EXACT)
def test_same_response(recorded, name):
    resp = _answer(recorded, name)
    expected = examples.load(name)
    error = isinstance(expected, dict) and 'error_message' in expected
    assert resp.status_code == (400 if error else 200)
    assert resp.json() == expected
    # Same key order too (the JSON text, not only the parsed value).
    assert list(_walk_keys(resp.json())) == list(_walk_keys(expected))


def _walk_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_keys(item)


@pytest.mark.parametrize('name', examples.METERS)
def test_meters_same_entries_same_order_rule(recorded, name):
    sim, cc = recorded
    got = _answer(recorded, name).json()
    expected = examples.load(name)
    key = lambda m: (m['name'], m['resource_id'])  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
    assert [list(m) for m in got] == [list(m) for m in expected]
    for listing in (got, expected):
        # Grouped by meter, resource ids ascending inside a group.
        names = [m['name'] for m in listing]
        groups = [n for i, n in enumerate(names) if i == 0 or
                  names[i - 1] != n]
        assert len(groups) == len(set(groups))
        for group in groups:
            ids = [m['resource_id'] for m in listing if m['name'] == group]
            assert ids == sorted(ids)
    # Our meter order is the order meters were first stored.
    first_seen = []
    for sample in examples.union_samples():
        if sample['counter_name'] not in first_seen:
            first_seen.append(sample['counter_name'])
    got_order = [n for i, n in enumerate(m['name'] for m in got)
                 if i == 0 or got[i - 1]['name'] != n]
    assert got_order == [n for n in first_seen if n in got_order]


def test_offset_is_dropped_like_recorded(recorded):
    sim, cc = recorded
    with_tz = clients.get(cc, examples.GETS['cpu_util_q_ts_gt_tz']).json()
    without = clients.get(cc, examples.GETS['cpu_util_q_ts_gt_tz'].replace(
        '%2B02:00', '')).json()
    assert with_tz == without == examples.load('cpu_util_q_ts_gt_tz')


def test_resources_comparable_fields(recorded):
    sim, cc = recorded
    got = _links_on(sim, _answer(recorded, 'resources_limit3').json())
    expected = examples.load('resources_limit3')
    assert [list(r) for r in got] == [list(r) for r in expected]
    for ours, real in zip(got, expected):
        # first_sample_timestamp needs the older samples we do not have.
        assert ours['first_sample_timestamp'] >= real['first_sample_timestamp']
        ours.pop('first_sample_timestamp')
        real.pop('first_sample_timestamp')
        # Meter links follow the meter table order (see the meters test).
        ours_links, real_links = ours.pop('links'), real.pop('links')
        assert ours_links[0] == real_links[0]
        assert sorted(ours_links[1:], key=repr) == sorted(real_links[1:],
                                                          key=repr)
        assert ours == real


def test_statistics_shape_and_values(recorded):
    sim, cc = recorded
    got = _answer(recorded, 'statistics_cpu_util').json()
    expected = examples.load('statistics_cpu_util')
    assert len(got) == 1
    assert list(got[0]) == list(expected[0])
    alpha = [s for s in examples.union_samples()
             if s['counter_name'] == 'cpu_util'
             and s['project_id'] == 'p-alpha-0001']
    volumes = [s['counter_volume'] for s in alpha]
    first = min(s['timestamp'] for s in alpha).isoformat()
    last = max(s['timestamp'] for s in alpha).isoformat()
    row = got[0]
    assert row['count'] == len(volumes)
    assert row['min'] == min(volumes) and row['max'] == max(volumes)
    assert row['sum'] == pytest.approx(sum(volumes))
    assert row['avg'] == pytest.approx(sum(volumes) / len(volumes))
    assert (row['duration_start'], row['duration_end']) == (first, last)
    assert (row['period_start'], row['period_end']) == (first, last)
    assert row['period'] == expected[0]['period'] == 0
    assert row['groupby'] is expected[0]['groupby'] is None
    assert row['unit'] == expected[0]['unit']
    # The recorded maximum and end are the newest alpha samples: present.
    assert row['duration_end'] == expected[0]['duration_end']
