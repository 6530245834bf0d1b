"""Samples that cannot be stored become reject rows with a reason code and
round-tripping raw text; duplicates keep the latest version."""

import datetime
import json

import pytest

from ceilometer_export import rejects
from ceilometer_export import service
from ceilometer_export.source import paging
from ceilometer_export.source import samples
from ceilometer_export.store import duplicates

T = datetime.datetime(2024, 1, 1, 12, 0)
GOOD = {'id': 'm1', 'meter': 'cpu_util', 'type': 'gauge', 'unit': '%',
        'volume': 1.5, 'user_id': 'u', 'project_id': 'p',
        'resource_id': 'r', 'source': 'openstack',
        'timestamp': '2024-01-01T12:00:00', 'recorded_at': None,
        'metadata': {'display_name': 'vm'}}


def test_a_good_sample_is_a_row():
    row = samples.from_sample(dict(GOOD), 'cpu_util')
    assert not rejects.is_reject(row)
    assert (row['message_id'], row['timestamp']) == ('m1', T)


@pytest.mark.parametrize('change, code, position', [
    ({'volume': float('nan')}, 'volume', True),
    ({'volume': '3'}, 'volume', True),
    ({'volume': 10 ** 400}, 'volume', True),
    ({'timestamp': '2024-13-01'}, 'timestamp', False),
    ({'id': None}, 'message_id', False),
    ({'id': 'x' * 129}, 'too_long', False),
    ({'metadata': {'k': ['a', 'caf\udce9']}}, 'unicode', True),
    ({'metadata': {'caf\udce9': 'v'}}, 'unicode', True),
    ({'resource_id': 'r' * 256}, 'too_long', True),
    ({'meter': 'memory'}, 'other', True),
])
def test_each_problem_is_a_reject_with_its_code(change, code, position):
    raw = dict(GOOD, **change)
    row = samples.from_sample(raw, 'cpu_util')
    assert rejects.is_reject(row)
    assert rejects.code(rejects.reason_of(row)) == code
    assert (paging.position(row) is not None) == position
    # ASCII JSON that gives back exactly what the API sent.
    assert row['raw'].isascii()
    assert json.dumps(json.loads(row['raw'])) == json.dumps(raw)


def test_a_non_object_is_a_reject():
    row = samples.from_old_sample('oops', 'cpu_util')
    assert rejects.code(rejects.reason_of(row)) == 'other'
    assert paging.position(row) is None


def test_keyset_paging_steps_over_samples_without_a_position():
    data = [{'timestamp': T, 'message_id': 'a'},
            {'timestamp': None, 'message_id': None, 'reject': 'x',
             'raw': '{}'},
            {'timestamp': T, 'message_id': 'b'}]
    calls = []

    def fetch(lower, after, limit):
        calls.append(after)
        rows = data if after is None else [r for r in data[1:]
                                           if (r['message_id'] or '') > 'a']
        return rows[:limit]
    pages = list(paging.keyset_pages(fetch, None, 2))
    assert [len(p) for p in pages] == [2, 1]
    assert calls == [None, (T, 'a')]


def test_a_full_page_without_positions_is_an_error():
    bad = {'timestamp': None, 'message_id': None, 'reject': 'x', 'raw': ''}
    with pytest.raises(paging.OrderError):
        list(paging.keyset_pages(lambda *a: [bad, bad], None, 2))


def test_duplicates_keep_the_latest_version_whatever_the_order():
    old = {'message_id': 'm', 'timestamp': T, 'recorded_at': None, 'v': 1}
    new = dict(old, recorded_at=T, v=2)
    later = dict(old, timestamp=T + datetime.timedelta(seconds=1), v=3)
    for rows in ([old, new, later], [later, new, old], [new, later, old]):
        assert duplicates.latest_versions(rows) == [later]
    assert duplicates.latest_versions([new, old]) == [new]


def test_the_request_timeout_defaults_to_60_seconds():
    conf = service.new_conf()
    conf([], default_config_files=[])
    assert conf.service_credentials.timeout == 60.0
