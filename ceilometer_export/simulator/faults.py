"""Fault injection for Ceilometer API requests (never Keystone).

Random faults are drawn per request from a seeded generator; ``fail_next``
queues deterministic ones that take precedence; ``fail_meter`` makes every
request about one meter fail (its path names it, or its complex-query
filter compares counter_name with it) until cleared. Kinds:

- an int status: 500 gets a WSME fault envelope, 503 an HTML page from a
  load balancer, anything else a WSME envelope;
- ``'drop'``: the connection is closed without any response;
- ``'truncate'``: a complete HTTP response whose body is the first half of
  the real JSON (Content-Length matches the cut body);
- ``'nonjson'``: status 200 with an HTML body;
- ``'delay'``: the real response, after ``delay`` seconds.
"""
import collections
import random
import threading

KINDS = ('drop', 'truncate', 'nonjson', 'delay')

Fault = collections.namedtuple('Fault', 'kind status delay')


class Faults(object):
    def __init__(self, seed=0, error_rate=0.0, delay=0.0, delay_rate=0.0,
                 drop_rate=0.0, truncate_rate=0.0, nonjson_rate=0.0):
        self._lock = threading.Lock()
        self._queue = collections.deque()
        self._meters = {}
        self.error_rate = error_rate
        self.delay = delay
        self.delay_rate = delay_rate
        self.drop_rate = drop_rate
        self.truncate_rate = truncate_rate
        self.nonjson_rate = nonjson_rate
        self.seed = seed

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, value):
        with self._lock:
            self._seed = value
            self._rng = random.Random('faults-%s' % (value,))

    def fail_next(self, n=1, status=503, delay=None):
        """Make the next ``n`` Ceilometer requests fail with ``status``."""
        if not isinstance(status, int) and status not in KINDS:
            raise ValueError('status must be an int or one of %s' % (KINDS,))
        with self._lock:
            for _ in range(n):
                self._queue.append(self._make(status, delay))

    def fail_meter(self, name, status=504, delay=None):
        """Every request about meter ``name`` fails with ``status`` (a
        kind as for fail_next), until ``fail_meter(name, None)``/clear()."""
        with self._lock:
            if status is None:
                self._meters.pop(name, None)
            else:
                self._meters[name] = self._make(status, delay)

    def for_request(self, segments, body):
        """The fault for a request (path segments, parsed JSON body)."""
        with self._lock:
            meters = dict(self._meters)
        if meters:
            text = body.get('filter') if isinstance(body, dict) else None
            for name, fault in meters.items():
                if name in segments or (isinstance(text, str) and (
                        '"counter_name": "%s"' % name) in text):
                    return fault
        return self.pick()

    def clear(self):
        """No more faults: zero rates, empty queue, no failing meters."""
        with self._lock:
            self._queue.clear()
            self._meters.clear()
        self.error_rate = self.delay_rate = self.drop_rate = 0.0
        self.truncate_rate = self.nonjson_rate = 0.0

    def pending(self):
        with self._lock:
            return len(self._queue)

    def _make(self, status, delay=None):
        if isinstance(status, int):
            return Fault('error', status, 0.0)
        if status == 'delay':
            return Fault('delay', None, self.delay if delay is None else delay)
        return Fault(status, None, 0.0)

    def pick(self):
        """The fault for this request, or None."""
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            draw = self._rng.random
            if self.error_rate and draw() < self.error_rate:
                return self._make(500 if draw() < 0.5 else 503)
            for kind in ('drop', 'truncate', 'nonjson', 'delay'):
                rate = getattr(self, kind + '_rate')
                if rate and draw() < rate:
                    return self._make(kind)
        return None
