"""Where an export's time goes, per stage, for benchmarks and debugging.

Process-wide totals of wall time spent in each stage of the page
pipeline; stages run in two threads (see ``pipeline``), so their sum can
exceed the elapsed time. Cheap enough to be always on (two clock reads
per stage and page). ``ceilometer-export`` logs them at debug level when
it exits and, when the environment variable ``CEILOMETER_EXPORT_TIMINGS``
names a file, writes them there as JSON (``tools/benchmark.py`` does).
"""

import contextlib
import json
import threading
import time
import typing

ENVIRONMENT = 'CEILOMETER_EXPORT_TIMINGS'
# fetch: HTTP request and JSON decoding of a page; transform: API samples
# checked into rows; prepare: dimension sets and rows encoded for the
# database; write: the page's statements; commit; wait: the writer idle,
# waiting for the next page.
STAGES = ('fetch', 'transform', 'prepare', 'write', 'commit', 'wait')


class Timings(object):

    def __init__(self):
        self._lock = threading.Lock()
        self._seconds = dict.fromkeys(STAGES, 0.0)
        self._counts = dict.fromkeys(STAGES, 0)
        self._started = time.perf_counter()

    @contextlib.contextmanager
    def measure(self, stage: str) -> typing.Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self._seconds[stage] += elapsed
                self._counts[stage] += 1

    def report(self) -> dict:
        """{'elapsed': s, 'stages': {stage: {'seconds': s, 'count': n}}}"""
        with self._lock:
            return {'elapsed': time.perf_counter() - self._started,
                    'stages': {s: {'seconds': round(self._seconds[s], 6),
                                   'count': self._counts[s]}
                               for s in STAGES}}

    def write(self, path: str) -> None:
        with open(path, 'w') as out:
            json.dump(self.report(), out, indent=1)


RECORDER = Timings()
measure = RECORDER.measure
