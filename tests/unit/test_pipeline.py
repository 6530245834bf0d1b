"""The prefetching pipeline: order, bounds, errors and early stops."""

import threading

import pytest

from ceilometer_export import pipeline


def test_items_arrive_in_order_and_complete():
    assert list(pipeline.prefetched(iter(range(50)))) == list(range(50))


def test_producer_stays_at_most_depth_plus_one_ahead():
    produced = []
    consumed = []

    def items():
        for i in range(20):
            produced.append(i)
            # Never more than the queue (1), the one being handed over
            # and the one the consumer holds.
            assert len(produced) - len(consumed) <= 3
            yield i
    for item in pipeline.prefetched(items(), depth=1):
        consumed.append(item)
    assert consumed == list(range(20))


def test_a_producer_error_is_raised_where_its_item_would_come():
    def items():
        yield 1
        yield 2
        raise ValueError('page 3 unreadable')
    got = []
    with pytest.raises(ValueError, match='page 3 unreadable'):
        for item in pipeline.prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_and_joins_the_producer():
    closed = threading.Event()

    def items():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()
    before = threading.active_count()
    for item in pipeline.prefetched(items()):
        if item == 3:
            break
    assert closed.is_set()
    assert threading.active_count() == before


def test_a_consumer_error_stops_the_producer():
    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i
    with pytest.raises(RuntimeError):
        for item in pipeline.prefetched(items()):
            if item == 2:
                raise RuntimeError('write failed')
    assert len(produced) <= 6
