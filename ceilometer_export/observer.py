"""What the export reports while it runs, for metrics and the watchdog.

The worker and the source call an ``Observer``; they know nothing of
Prometheus or systemd. Every method of the base class does nothing, so an
implementation overrides only what it needs, and ``Observers`` fans the
events out to several.
"""

import threading
import time

# API failure kinds (the ``kind`` label of api_errors_total).
API_ERROR_KINDS = ('timeout', 'connection', 'http_4xx', 'http_5xx', 'auth',
                   'bad_body')


class Observer(object):
    """The events; each a no-op here."""

    def busy(self, activity: str, seconds: float) -> None:
        """The worker starts ``activity`` (request, backoff, write, idle,
        step) and promises to report again within ``seconds``."""

    def mapping_started(self, mapping: str) -> None:
        pass

    def mapping_finished(self, mapping: str, seconds: float,
                         ok: bool) -> None:
        pass

    def page_written(self, mapping: str, meter: str, new: int) -> None:
        """A page committed; ``new`` samples the pair exported first."""

    def pair_finished(self, mapping: str, meter: str,
                      complete: bool) -> None:
        """A pair's pass ended; ``complete``: it read to the end."""

    def rejected(self, mapping: str, meter: str, reason: str) -> None:
        pass

    def verifying(self, mapping: str) -> None:
        """A verify or repair run works on ``mapping`` now (the API
        errors that follow are its)."""

    def api_error(self, kind: str) -> None:
        """A failed API request (retried or not), one of API_ERROR_KINDS,
        during the current mapping."""

    def pass_finished(self, ok: int, failed: int, new: int,
                      seconds: float) -> None:
        pass

    def standby(self, holder) -> None:
        """Another worker holds the database's worker lock (``holder``
        names it) and this one waits; None: this one holds it."""


class Observers(object):
    """Several observers as one (same methods as Observer)."""

    def __init__(self, *observers):
        self._all = [o for o in observers if o is not None]

    def __getattr__(self, name):
        if name.startswith('_') or not hasattr(Observer, name):
            raise AttributeError(name)

        def fan_out(*args, **kwargs):
            for target in self._all:
                getattr(target, name)(*args, **kwargs)
        return fan_out


class Liveness(Observer):
    """Whether the export keeps its promises (``busy``): the watchdog is
    fed only while some thread does, so a stuck loop stops feeding it,
    while a request waiting within its timeout does not. Kept per thread:
    the next page is fetched in a prefetch thread while this one is
    written."""

    def __init__(self, startup: float = 60.0, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._promises = {None: ('starting', clock() + startup)}

    def busy(self, activity, seconds):
        now = self._clock()
        with self._lock:
            promises = {k: v for k, v in self._promises.items()
                        if k is not None and v[1] > now}
            promises[threading.get_ident()] = (activity, now + seconds)
            self._promises = promises

    def _current(self):
        now = self._clock()
        return [a for a, until in self._promises.values() if until > now]

    def alive(self) -> bool:
        return bool(self._current())

    def writing(self) -> bool:
        """A page is being written (a stop waits for its commit)."""
        return 'write' in self._current()

    @property
    def activity(self) -> str:
        return ', '.join(sorted(set(self._current()))) or 'nothing'


class Summary(Observer):
    """A one-line summary of the last pass (systemd STATUS=)."""

    def __init__(self):
        self.line = 'starting'
        self._passes = 0
        self._waiting_for = None

    def pass_finished(self, ok, failed, new, seconds):
        self._passes += 1
        if self._waiting_for is not None:
            return      # a pass of nothing: the standby line stays
        self.line = ('pass %d: %d mappings ok, %d failed, %d new samples '
                     'in %.1f s' % (self._passes, ok, failed, new, seconds))

    def standby(self, holder):
        self._waiting_for = holder
        if holder is not None:
            self.line = ('standby: another worker exports into the database '
                         '(%s)' % holder)
