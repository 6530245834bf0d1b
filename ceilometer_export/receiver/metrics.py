"""The receiver's Prometheus metrics, served at ``GET /metrics``.

One registry per application (per process under a pre-forking server:
each worker counts its own requests, as every Prometheus client does).
"""

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

    def received(self, outcome, count=1):
        if count:
            self._received.labels(outcome).inc(count)

    def render(self):
        """(body, content type) of the exposition."""
        return (prometheus_client.generate_latest(self.registry),
                prometheus_client.CONTENT_TYPE_LATEST)
