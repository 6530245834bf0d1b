"""Unit tests for verify's pure parts: statistics request ranges, repair
ranges, the JSON shape of an hour."""

import datetime

from ceilometer_export.source import counts
from ceilometer_export import verify

T = datetime.datetime(2024, 1, 1)
H = datetime.timedelta(hours=1)


def test_statistics_requests_start_on_hour_boundaries():
    start = T + datetime.timedelta(minutes=30)
    end = T + 400 * H + datetime.timedelta(seconds=5)
    ranges = list(counts._requests(start, end))
    # A start inside an hour is a request of its own, up to the boundary:
    # the driver's period buckets start at the query's lower bound.
    assert ranges[0] == (start, T + H)
    assert all(lo == counts.floor_hour(lo) for lo, _ in ranges[1:])
    assert all(hi - lo <= 168 * H for lo, hi in ranges)
    assert [hi for _, hi in ranges[:-1]] == [lo for lo, _ in ranges[1:]]
    assert ranges[-1][1] == end


def test_statistics_requests_of_an_aligned_start():
    assert list(counts._requests(T, T + 2 * H)) == [(T, T + 2 * H)]
    assert list(counts._requests(T, T)) == []


def _hour(meter, hour):
    return verify.Hour('m', meter, hour, 2, 1)


def test_repair_ranges_merge_consecutive_hours_within_the_pair_range():
    class Mapping:
        name = 'm'
    end = T + 5 * H + datetime.timedelta(minutes=7)
    pair = verify.Pair(Mapping, 'cpu', T + datetime.timedelta(minutes=20),
                       end)
    hours = [_hour('cpu', T + n * H) for n in (5, 0, 1, 3)]
    assert verify._ranges({('m', 'cpu'): pair}, hours) == {('m', 'cpu'): [
        (T + datetime.timedelta(minutes=20), T + 2 * H),
        (T + 3 * H, T + 4 * H), (T + 5 * H, end)]}


def test_hour_json_shape():
    assert _hour('cpu', T + 3 * H).as_json() == {
        'mapping': 'm', 'meter': 'cpu', 'hour': '2024-01-01T03:00:00Z',
        'api_count': 2, 'db_count': 1}
