"""Paging decisions against in-memory data with the API's semantics:
every sample exactly once, whatever the ties and the page size."""

import datetime
import random

import pytest

from ceilometer_export.source import paging

T0 = datetime.datetime(2024, 1, 1)


def _dataset(seed, groups, max_tie):
    rnd = random.Random(seed)
    rows, ts = [], T0
    for g in range(groups):
        ts += datetime.timedelta(seconds=rnd.choice([0.000001, 1, 600]))
        for i in range(rnd.randint(1, max_tie)):
            rows.append({'timestamp': ts,
                         'message_id': '%08x' % rnd.getrandbits(32)})
    return rows


def _newest_first(rows, rnd):
    # The API orders by timestamp only: ties come in no particular order.
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    return sorted(shuffled, key=lambda r: r['timestamp'], reverse=True)


def window_fetch(rows, calls, seed=0):
    rnd = random.Random(seed)

    def fetch(lo, hi, limit):
        calls.append((lo, hi, limit))
        hit = [r for r in rows if r['timestamp'] >= lo
               and (hi is None or r['timestamp'] <= hi)]
        return _newest_first(hit, rnd)[:limit]
    return fetch


def keyset_fetch(rows, calls):
    ordered = sorted(rows, key=paging.position)

    def fetch(lower, after, limit):
        calls.append((lower, after, limit))
        if after is not None:
            hit = [r for r in ordered if paging.position(r) > after]
        else:
            hit = [r for r in ordered
                   if lower is None or r['timestamp'] >= lower]
        return hit[:limit]
    return fetch


def _ids(pages):
    return [r['message_id'] for page in pages for r in page]


@pytest.mark.parametrize('seed', range(8))
@pytest.mark.parametrize('page_size', [1, 2, 7, 50])
def test_keyset_every_sample_once(seed, page_size):
    rows = _dataset(seed, groups=30, max_tie=120)
    calls = []
    pages = list(paging.keyset_pages(keyset_fetch(rows, calls), None,
                                     page_size))
    assert sorted(_ids(pages)) == sorted(r['message_id'] for r in rows)
    assert all(len(p) <= page_size for p in pages)


def test_keyset_starts_at_lower_inclusive():
    rows = _dataset(1, groups=10, max_tie=5)
    lower = sorted({r['timestamp'] for r in rows})[4]
    pages = list(paging.keyset_pages(keyset_fetch(rows, []), lower, 3))
    assert sorted(_ids(pages)) == sorted(
        r['message_id'] for r in rows if r['timestamp'] >= lower)


def test_keyset_detects_ignored_order():
    rows = _dataset(2, groups=5, max_tie=5)

    def fetch(lower, after, limit):
        return sorted(rows, key=paging.position, reverse=True)[:limit]
    with pytest.raises(paging.OrderError):
        list(paging.keyset_pages(fetch, None, 3))


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('page_size,groups,max_tie', [
    (1, 6, 3), (3, 20, 12), (10, 30, 40), (100, 40, 300)])
def test_windows_every_sample_once(seed, page_size, groups, max_tie):
    rows = _dataset(seed, groups=groups, max_tie=max_tie)
    horizon = rows[-1]['timestamp'] - datetime.timedelta(hours=1)
    calls = []
    pages = list(paging.window_pages(
        window_fetch(rows, calls, seed), T0, page_size,
        datetime.timedelta(hours=1), horizon))
    got = _ids(pages)
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(r['message_id'] for r in rows)
    flat = [paging.position(r) for page in pages for r in page]
    assert flat == sorted(flat), 'pages must come in ascending order'


def test_windows_tie_group_larger_than_page():
    rows = [{'timestamp': T0, 'message_id': 'm%04d' % i} for i in range(250)]
    calls = []
    pages = list(paging.window_pages(window_fetch(rows, calls), T0, 100,
                                     datetime.timedelta(hours=1), T0))
    assert sorted(_ids(pages)) == sorted(r['message_id'] for r in rows)
    assert max(limit for _, _, limit in calls) == 400


def test_windows_end_is_exclusive_and_never_open():
    rows = _dataset(3, groups=20, max_tie=4)
    end = sorted({r['timestamp'] for r in rows})[10]
    calls = []
    pages = list(paging.window_pages(window_fetch(rows, calls), T0, 5,
                                     datetime.timedelta(seconds=30),
                                     datetime.datetime(2030, 1, 1), end))
    assert sorted(_ids(pages)) == sorted(
        r['message_id'] for r in rows if r['timestamp'] < end)
    assert all(hi is not None and hi < end for _, hi, _ in calls)


def test_windows_beyond_horizon_terminate():
    # Samples stamped in the future (skewed clocks) are still read.
    rows = _dataset(4, groups=15, max_tie=30)
    pages = list(paging.window_pages(window_fetch(rows, []), T0, 4,
                                     datetime.timedelta(seconds=1),
                                     T0 - datetime.timedelta(days=1)))
    assert sorted(_ids(pages)) == sorted(r['message_id'] for r in rows)
