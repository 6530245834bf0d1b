"""The main thread of the exporter: signals, systemd, a bounded stop.

The export runs in a worker thread. The main thread only waits, with
``select``, on a socket that the C-level signal handler writes the signal
number to (``signal.set_wakeup_fd``), so nothing is done inside a Python
signal handler -- no lock is taken there, nothing can deadlock -- and every
signal is handled in plain code:

* SIGTERM/SIGINT: STOPPING=1, ask the worker to stop, and wait for it at
  most ``stop_timeout`` seconds. A page being written is committed first;
  a request or a backoff in progress is abandoned at once: nothing of it
  was written, and the next run reads that page again.
* SIGHUP: RELOADING=1, ``reload()``, READY=1 (a failed reload is logged
  and the running configuration kept).
* SIGUSR1/SIGUSR2: logged, nothing else.

Between signals it feeds the systemd watchdog, but only while the worker
keeps the promises it made through ``observer.Liveness``.
"""

import select
import signal
import socket
import threading
import time

from oslo_log import log

from ceilometer_export import errors
from ceilometer_export import observer

LOG = log.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
HANDLED = STOP_SIGNALS + (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
_IDLE_WAKEUP = 1.0
# Written to the wakeup socket by ready(): no signal has number 0.
_READY_BYTE = b'\0'


def _ignore(signum, frame):
    """The Python-level handler: the wakeup socket carries the signal."""


class Supervisor(object):

    def __init__(self, notifier, stop_timeout=30, summary=None):
        """``summary``: what STATUS= shows, anything with a ``line``
        (default: the export's last pass)."""
        self._notifier = notifier
        self._liveness = observer.Liveness()
        self._summary = summary or observer.Summary()
        self.stop_timeout = stop_timeout
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._previous = {}
        self._previous_fd = None
        self._fed = None
        self._status = None
        self._is_ready = False

    # Set-up -----------------------------------------------------------
    def observers(self):
        """What the worker and the source report to."""
        return observer.Observers(self._liveness, self._summary)

    def install(self):
        """Handle the signals from now on (call first, in the main
        thread)."""
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(),
                                                 warn_on_full_buffer=False)
        for signum in HANDLED:
            self._previous[signum] = signal.signal(signum, _ignore)

    def uninstall(self):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd
                             if self._previous_fd is not None else -1)
        self._reader.close()
        self._writer.close()

    def ready(self):
        """From the export thread: start-up is over (the database is
        reachable, its schema current). The main thread sends READY=1."""
        self._is_ready = True
        try:
            self._writer.send(_READY_BYTE)
        except OSError:
            pass    # full: the main thread wakes within a second anyway

    # Running ----------------------------------------------------------
    def run(self, target, request_stop, reload=None):
        """Run ``target()`` in the export thread until it returns or a
        stop signal arrives; returns its result (EXIT_OK when it had to
        be abandoned), raises what it raised."""
        outcome = {}

        def work():
            try:
                outcome['result'] = target()
            except BaseException as exc:   # re-raised in the main thread
                outcome['error'] = exc
        thread = threading.Thread(target=work, name='export', daemon=True)
        thread.start()
        stopping = False
        while thread.is_alive() and not stopping:
            for signum in self._signals(self._wait_time()):
                stopping = self._on_signal(signum, reload) or stopping
            self._feed()
        if stopping:
            self._notifier.stopping()
            request_stop()
            self._drain(thread)
        if thread.is_alive():
            return 0
        if 'error' in outcome:
            raise outcome['error']
        return outcome.get('result')

    def _wait_time(self):
        if self._notifier.watchdog_seconds:
            # A quarter period: fed within half of it even when late.
            return min(self._notifier.watchdog_seconds / 4, _IDLE_WAKEUP)
        return _IDLE_WAKEUP

    def _signals(self, timeout):
        ready, _, _ = select.select([self._reader], [], [], timeout)
        if not ready:
            return b''
        try:
            return self._reader.recv(64)
        except BlockingIOError:
            return b''

    def _on_signal(self, signum, reload):
        """Handle one signal; True when it asks to stop."""
        if signum == _READY_BYTE[0]:
            self._notifier.ready(self._summary.line)
            return False
        name = signal.Signals(signum).name
        if signum in STOP_SIGNALS:
            LOG.info('%s received: stopping (at most %d s)', name,
                     self.stop_timeout)
            return True
        if signum == signal.SIGHUP:
            self._reload(reload)
        else:
            LOG.info('%s received: ignored (SIGHUP reloads, SIGTERM stops)',
                     name)
        return False

    def _reload(self, reload):
        if reload is None or not self._is_ready:
            LOG.info('SIGHUP received: ignored (%s)', 'no reload'
                     if reload is None else 'still starting')
            return
        LOG.info('SIGHUP received: reloading the configuration')
        self._notifier.reloading()
        failure = None
        try:
            reload()
        except errors.ConfigError as exc:
            failure = exc
        if failure is not None:
            # Logged outside the except: oslo.log would append the
            # exception being handled to the line.
            LOG.error('configuration reload failed, the running '
                      'configuration is kept: %s', failure)
        if self._is_ready:
            self._notifier.ready(self._summary.line)

    def _feed(self):
        """WATCHDOG=1 while the worker is alive; STATUS= when it changed."""
        if self._summary.line != self._status:
            self._status = self._summary.line
            self._notifier.status(self._status)
        period = self._notifier.watchdog_seconds
        if not period or not self._liveness.alive():
            return
        now = time.monotonic()
        if self._fed is None or now - self._fed >= period / 4:
            self._notifier.watchdog()
            self._fed = now

    def _drain(self, thread):
        """Wait for the export: while it writes a page, up to
        stop_timeout; a request or a wait in progress is abandoned."""
        deadline = time.monotonic() + self.stop_timeout
        while thread.is_alive() and time.monotonic() < deadline:
            # Give a stop-aware wait a moment to return cleanly.
            thread.join(0.2)
            if thread.is_alive() and not self._liveness.writing():
                LOG.info('abandoning the %s in progress: nothing of it '
                         'was written', self._liveness.activity)
                return
        if thread.is_alive():
            LOG.error('stop_timeout (%d s) reached while the worker was '
                      'busy (%s); exiting: an uncommitted page is rolled '
                      'back', self.stop_timeout, self._liveness.activity)
