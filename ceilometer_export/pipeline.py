"""A bounded two-stage pipeline: the next pages are fetched, decoded and
prepared in a thread while the current one is written.

The consumer (the worker's thread, which does all the writing and so
every checkpoint move) receives the items in order; at most ``depth``
items wait in the queue, plus one in the making, so memory stays flat.
An exception of the producer is raised in the consumer at the point
where its item would have come; when the consumer stops early (a stop
request, a failed write), the producer is told to stop and joined, so no
thread outlives its pair and nothing uncommitted is kept.
"""

import queue
import sys
import threading
import typing

from ceilometer_export import timings

_DONE = object()
# How often a producer blocked on a full queue checks that the consumer
# still wants its items.
_POLL = 0.1
# The consumer mostly waits on the database and, after each statement,
# needs the GIL back from a producer that is computing: at the default
# 5 ms switch interval that wait would be added to every statement.
_SWITCH_INTERVAL = 0.0005


class _Failure(object):
    def __init__(self, exc):
        self.exc = exc


def prefetched(items: typing.Iterable, depth: int = 1) -> typing.Iterator:
    """Iterate over ``items``, produced in a thread ``depth`` ahead."""
    pending = queue.Queue(maxsize=depth)
    closed = threading.Event()

    def put(item):
        while not closed.is_set():
            try:
                pending.put(item, timeout=_POLL)
                return True
            except queue.Full:
                pass
        return False

    def produce():
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:   # handed to the consumer
            put(_Failure(exc))
            return
        put(_DONE)

    sys.setswitchinterval(min(sys.getswitchinterval(), _SWITCH_INTERVAL))
    thread = threading.Thread(target=produce, name='prefetch', daemon=True)
    thread.start()
    try:
        while True:
            with timings.measure('wait'):
                item = pending.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        closed.set()
        thread.join()
        close = getattr(items, 'close', None)
        if close is not None:
            close()
