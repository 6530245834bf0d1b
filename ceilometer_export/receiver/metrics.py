"""The receiver's Prometheus metrics, served at ``GET /metrics``.

One registry per application (per process under a pre-forking server:
each worker counts its own requests, as every Prometheus client does).
"""

import threading

import prometheus_client

OUTCOMES = ('stored', 'filtered', 'rejected', 'unauthorized', 'error')


class Metrics(object):

    def __init__(self):
        self.registry = prometheus_client.CollectorRegistry()
        prometheus_client.ProcessCollector(registry=self.registry)
        prometheus_client.PlatformCollector(registry=self.registry)
        self._received = prometheus_client.Counter(
            'ceilometer_export_received', 'Pushed samples by outcome '
            '(unauthorized, too large and unreadable requests count once '
            'each: their samples are not read).', ['outcome'],
            registry=self.registry)
        for outcome in OUTCOMES:
            self._received.labels(outcome)   # present from the start, at 0
        # The same counts, readable for systemd's STATUS= line.
        self._counts = dict.fromkeys(OUTCOMES, 0)
        self._lock = threading.Lock()

    def received(self, outcome, count=1):
        if count:
            self._received.labels(outcome).inc(count)
            with self._lock:
                self._counts[outcome] += count

    def counts(self) -> dict:
        """{outcome: samples so far} in this process."""
        with self._lock:
            return dict(self._counts)

    def render(self):
        """(body, content type) of the exposition."""
        return (prometheus_client.generate_latest(self.registry),
                prometheus_client.CONTENT_TYPE_LATEST)
