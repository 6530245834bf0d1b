"""The receiver as a service: start-up, systemd, reload and a bounded stop.

Runs in the supervisor's worker thread (``daemon.Supervisor``: the main
thread only handles signals and talks to systemd), like the exporter:

* start-up: the configuration is checked whole (exit 2), the port bound and
  served at once, but every POST is answered 503 and the healthcheck says
  down until the database answers with the latest schema; a database that
  is down is waited for (``[database] max_retries``, -1: until stopped), an
  old schema ends the process (exit 2: run ceilometer-export-dbsync);
  then READY=1;
* the watchdog is fed while the HTTP server runs and no transaction has
  run longer than ``STALLED_AFTER`` (its requests were all answered 503
  by then: a stuck commit must get the process restarted);
* SIGHUP: mappings and the log level applied to the next request;
* SIGTERM/SIGINT: stop accepting, let the requests in flight be committed
  and answered, end the committer, all within ``[export] stop_timeout``.
"""

import logging
import threading
import time

from oslo_log import log

from ceilometer_export import cmd
from ceilometer_export import errors
from ceilometer_export import observer
from ceilometer_export.receiver import server as server_mod
from ceilometer_export.receiver import wsgi
from ceilometer_export import reload as reload_mod
from ceilometer_export import service
from ceilometer_export import timeutil

LOG = log.getLogger(__name__)
# Twice the answer bound: every request of such a transaction has been
# answered 503 already, nothing it does still reaches a publisher.
STALLED_AFTER = 2 * 4.0
_TICK = 1.0
# Longer than a tick: the promise holds until the next one.
_PROMISE = 3 * _TICK


class Status(observer.Observer):
    """systemd's STATUS= line: what this process received so far."""

    def __init__(self):
        self.receiver = None
        self.note = 'starting'

    @property
    def line(self) -> str:
        receiver = self.receiver
        if receiver is None or not receiver.ready:
            return self.note
        counts = receiver.metrics.counts()
        text = ('stored %(stored)d, filtered %(filtered)d, rejected '
                '%(rejected)d, unauthorized %(unauthorized)d, errors '
                '%(error)d' % counts)
        stuck = receiver.intake.commit_seconds()
        if stuck > STALLED_AFTER:
            return '%s; a commit has been stuck for %d s' % (text, stuck)
        last = receiver.intake.last_commit
        return '%s; last commit %s' % (
            text, timeutil.format_utc(last) if last else 'none yet')


class Process(object):
    """``run()`` in the supervisor's thread, ``request_stop()`` and
    ``reload()`` from the main thread."""

    def __init__(self, argv, supervisor, status, description=None):
        self.argv = argv
        self.supervisor = supervisor
        self.status = status
        self.description = description
        self.events = supervisor.observers()
        self.stop = threading.Event()
        self.conf = self.settings = self.receiver = self.server = None
        self.stop_timeout = 30.0

    def request_stop(self):
        # The requests in flight are answered before the process exits.
        self.events.busy('write', self.stop_timeout)
        self.stop.set()

    def run(self) -> int:
        self._build()
        http = threading.Thread(target=self.server.serve,
                                name='receiver-http', daemon=True)
        http.start()
        try:
            self._wait_for_database()
            self.receiver.ready = True
            self.supervisor.ready()
            LOG.info('receiving samples on %s:%d for %d mappings',
                     self.conf.receiver.host,
                     server_mod.bound_port(self.server),
                     len(self.settings.mappings))
            self.conf.log_opt_values(LOG, logging.DEBUG)
            return self._serve(http)
        finally:
            self._shutdown()

    def _build(self):
        conf = service.prepare_service(self.argv,
                                       description=self.description)
        self.settings = service.load_settings(conf)
        self.stop_timeout = float(conf.export.stop_timeout)
        self.supervisor.stop_timeout = self.stop_timeout
        self.receiver = wsgi.build(conf, self.settings, check_schema=False)
        self.receiver.ready = False
        try:
            self.server = server_mod.make_server(
                self.receiver, server_mod.ServerSettings.from_conf(
                    conf, self.stop_timeout))
        except errors.ExportError:
            self.receiver.store.close()
            raise
        self.conf = conf
        self.status.receiver = self.receiver

    def _wait_for_database(self):
        limit = self.conf.database.max_retries
        interval = self.conf.database.retry_interval
        attempt = 0
        while True:
            try:
                return self.receiver.store.check_schema()
            except errors.DatabaseUnavailable as exc:
                if 0 <= limit <= attempt:
                    raise
                attempt += 1
                self.status.note = 'waiting for the database (503 until then)'
                LOG.warning('%s; answering 503 and waiting for the '
                            'database, attempt %d in %.0f s', exc, attempt,
                            interval)
                self.events.busy('idle', interval + 60)
                if self.stop.wait(interval):
                    raise errors.Interrupted('stopped while waiting for the '
                                             'database') from None

    def _serve(self, http):
        """Until a stop: feeds the watchdog while the intake progresses."""
        stuck = False
        while not self.stop.wait(_TICK):
            if not http.is_alive():
                LOG.error('the HTTP server stopped unexpectedly')
                return cmd.EXIT_FAILED
            seconds = self.receiver.intake.commit_seconds()
            if seconds <= STALLED_AFTER:
                stuck = False
                self.events.busy('serve', _PROMISE)
            elif not stuck:
                stuck = True
                LOG.error('a transaction has run for %.0f s: the watchdog '
                          'is no longer fed', seconds)
        return cmd.EXIT_OK

    def _shutdown(self):
        """Stop accepting, answer the requests in flight after their
        commit, end the committer; within stop_timeout in all."""
        deadline = time.monotonic() + self.stop_timeout
        self.receiver.stopping = True
        self.server.stop()
        self.receiver.intake.stop(max(0.0, deadline - time.monotonic()))
        self.receiver.store.close()
        LOG.info('stopped')

    def reload(self):
        """SIGHUP: the new files checked whole, then mappings and the log
        level applied; other changes are named as needing a restart."""
        conf = service.parse(self.argv, description=self.description)
        settings = service.load_settings(conf)
        selector = wsgi.make_selector(settings)
        added, removed, changed = reload_mod.mapping_changes(
            self.settings.mappings, settings.mappings)
        LOG.info('configuration reloaded; from the next request: %d '
                 'mappings (added: %s; removed: %s; changed: %s)',
                 len(settings.mappings), ', '.join(added) or '-',
                 ', '.join(removed) or '-', ', '.join(changed) or '-')
        for group, name in reload_mod.restart_needed(self.conf, conf):
            LOG.warning('[%s] %s changed: takes effect after a restart '
                        '(the running value is kept)', group, name)
        reload_mod.apply_log_level(conf)
        self.receiver.selector = selector
        self.conf, self.settings = conf, settings
