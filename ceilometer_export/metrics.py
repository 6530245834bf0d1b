"""The daemon's Prometheus metrics (design section 12), fed as an observer.

The worker and the source report events (``observer.Observer``); this
module turns them into series of its own registry, served on ``[metrics]
host``/``port`` by prometheus-client's HTTP server in a thread of its own.
The daemon only: ``--once`` and the other scripts never open a port.

Pairs get every series as soon as they are known (configured meters at
start-up and on reload, discovered ones at their first page), at zero,
so that an alert on ``increase()`` or ``absent()`` works from the start.
Freshness is computed at scrape time from the monotonic clock.
"""

import math
import threading
import time

from oslo_log import log
import prometheus_client
from prometheus_client import core

from ceilometer_export import errors
from ceilometer_export import observer
from ceilometer_export import rejects

LOG = log.getLogger(__name__)
# Pass durations range from a second (caught up) to hours (a backlog).
_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200,
            float('inf'))


class Metrics(observer.Observer):

    def __init__(self, clock=time.monotonic, wall=time.time):
        self._clock = clock
        self._wall = wall
        self._lock = threading.Lock()
        self._current = None        # the mapping being exported/verified
        self._read_at = {}          # (mapping, meter): monotonic or None
        self._mappings = set()
        self.registry = prometheus_client.CollectorRegistry()
        prometheus_client.ProcessCollector(registry=self.registry)
        prometheus_client.PlatformCollector(registry=self.registry)
        new = dict(registry=self.registry)
        self._samples = prometheus_client.Counter(
            'ceilometer_export_samples', 'Samples the pair exported for the '
            'first time in this process (as samples_exported counts them).',
            ['mapping', 'meter'], **new)
        self._rejects = prometheus_client.Counter(
            'ceilometer_export_rejects', 'Samples stored in export_rejects.',
            ['mapping', 'meter', 'reason'], **new)
        self._api_errors = prometheus_client.Counter(
            'ceilometer_export_api_errors', 'Failed API requests, retried '
            'or not.', ['mapping', 'kind'], **new)
        self._last_success = prometheus_client.Gauge(
            'ceilometer_export_last_success_timestamp_seconds', 'When a '
            'pass last read the pair to the end (Unix time).',
            ['mapping', 'meter'], **new)
        self._duration = prometheus_client.Histogram(
            'ceilometer_export_pass_duration_seconds', 'Duration of one '
            'mapping\'s pass.', ['mapping'], buckets=_BUCKETS, **new)
        self.registry.register(_Freshness(self))

    # What is known --------------------------------------------------------
    def expect(self, mappings) -> None:
        """The configured mappings (start-up, reload): their pairs get
        every series now; pairs of mappings no longer configured lose
        their freshness (their counters stay, as counters do)."""
        names = {m.name for m in mappings}
        with self._lock:
            self._read_at = {k: v for k, v in self._read_at.items()
                             if k[0] in names}
        for mapping in mappings:
            self._mapping(mapping.name)
            for meter in mapping.meters:
                self._pair(mapping.name, meter)
        with self._lock:
            self._mappings = names

    def _mapping(self, mapping):
        for kind in observer.API_ERROR_KINDS:
            self._api_errors.labels(mapping, kind)
        self._duration.labels(mapping)

    def _pair(self, mapping, meter):
        with self._lock:
            if (mapping, meter) in self._read_at:
                return
            self._read_at[(mapping, meter)] = None
        self._samples.labels(mapping, meter)
        for reason in rejects.REASONS:
            self._rejects.labels(mapping, meter, reason)

    # Events ---------------------------------------------------------------
    def mapping_started(self, mapping):
        self._current = mapping
        self._mapping(mapping)

    def verifying(self, mapping):
        self._current = mapping

    def mapping_finished(self, mapping, seconds, ok):
        self._duration.labels(mapping).observe(seconds)

    def page_written(self, mapping, meter, new):
        self._pair(mapping, meter)
        if new:
            self._samples.labels(mapping, meter).inc(new)

    def pair_finished(self, mapping, meter, complete):
        self._pair(mapping, meter)
        if complete:
            with self._lock:
                self._read_at[(mapping, meter)] = self._clock()
            self._last_success.labels(mapping, meter).set(self._wall())

    def pass_finished(self, ok, failed, new, seconds):
        self._current = None

    def rejected(self, mapping, meter, reason):
        self._pair(mapping, meter)
        self._rejects.labels(mapping, meter, rejects.code(reason)).inc()

    def api_error(self, kind):
        if self._current is None:
            return      # before any mapping: no label to put it under
        if kind not in observer.API_ERROR_KINDS:
            kind = 'bad_body'
        self._api_errors.labels(self._current, kind).inc()

    def freshness(self) -> dict:
        """{(mapping, meter): seconds since its last complete read}."""
        now = self._clock()
        with self._lock:
            known = dict(self._read_at)
        return {key: math.inf if at is None else now - at
                for key, at in known.items()}

    # Serving --------------------------------------------------------------
    def serve(self, host: str, port: int) -> 'Server':
        """Listen on host:port; ConfigError when it cannot."""
        try:
            server, thread = prometheus_client.start_http_server(
                port, addr=host, registry=self.registry)
        except OSError as exc:
            raise errors.ConfigError(
                '[metrics] port %d: cannot listen on %s:%d: %s'
                % (port, host, port, exc.strerror or exc)) from None
        LOG.info('Prometheus metrics on http://%s:%d/metrics',
                 _bracketed(host), server.server_port)
        return Server(server, thread)


class Server(object):

    def __init__(self, server, thread):
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class NoServer(object):
    """[metrics] port empty, or --once."""

    def stop(self):
        pass


class _Freshness(object):
    """ceilometer_export_freshness_seconds, computed at each scrape."""

    def __init__(self, metrics):
        self._metrics = metrics

    def describe(self):
        return [self._family()]

    def collect(self):
        family = self._family()
        for (mapping, meter), seconds in sorted(
                self._metrics.freshness().items()):
            family.add_metric([mapping, meter], seconds)
        yield family

    @staticmethod
    def _family():
        return core.GaugeMetricFamily(
            'ceilometer_export_freshness_seconds', 'Seconds since the last '
            'pass that read the pair to the end (+Inf before the first).',
            labels=['mapping', 'meter'])


def _bracketed(host):
    return '[%s]' % host if ':' in host else host
