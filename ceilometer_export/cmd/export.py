"""ceilometer-export: the polling daemon, or one pass with --once."""

import logging
import os
import sys
import threading

from oslo_config import cfg
from oslo_log import log

from ceilometer_export import cmd
from ceilometer_export import coordination
from ceilometer_export import daemon
from ceilometer_export import errors
from ceilometer_export import metrics as metrics_mod
from ceilometer_export import notify
from ceilometer_export import observer
from ceilometer_export import reload as reload_mod
from ceilometer_export import service
from ceilometer_export import source as source_mod
from ceilometer_export.source import client as source_client
from ceilometer_export import store as store_mod
from ceilometer_export.store import worker_lock
from ceilometer_export import timeutil
from ceilometer_export.verify import runner as verify_runner
from ceilometer_export import timings
from ceilometer_export import worker as worker_mod

LOG = log.getLogger(__name__)
PROG = 'ceilometer-export'

CLI_OPTS = [
    cfg.BoolOpt('once', default=False,
                help='Run one pass over every mapping until caught up, then '
                     'exit (0: all mappings succeeded, 1: some failed).'),
    cfg.StrOpt('since', metavar='ISO8601',
               help='Also export from this time on (idempotent backfill), '
                    'then go on as usual. An offset is converted to UTC.'),
    cfg.StrOpt('until', metavar='ISO8601',
               help='With --since and --once: export only [since, until) '
                    'and leave the live checkpoints alone.'),
    cfg.MultiStrOpt('mapping', metavar='NAME',
                    help='Restrict the run to this [mapping:NAME] '
                         '(repeatable).'),
]


def _backfill(conf):
    def parse(name):
        try:
            value = getattr(conf, name)
            return value and timeutil.parse_user(value)
        except ValueError as exc:
            raise errors.ConfigError('--%s: %s' % (name, exc)) from None
    since, until = parse('since'), parse('until')
    if until and not (since and conf.once):
        raise errors.ConfigError('--until requires --since and --once')
    if until and until <= since:
        raise errors.ConfigError('--until must be later than --since')
    return worker_mod.Backfill(since=since or None, until=until or None)


class Daemon(object):
    """One run: built in the export thread (so that the main thread
    handles signals from the first instant), then run there."""

    def __init__(self, argv, supervisor):
        self.argv = argv
        self.supervisor = supervisor
        self.stop = threading.Event()
        self.conf = self.mappings = self.worker = None
        self.partition = coordination.Everything()
        self.metrics = None
        self.metrics_server = metrics_mod.NoServer()

    def request_stop(self):
        """From the main thread, at any moment of the run."""
        self.stop.set()
        if self.worker is not None:
            self.worker.request_stop()

    def run(self):
        self.build()
        self.supervisor.ready()
        # Options marked secret (passwords, the database URL) print as ****.
        self.conf.log_opt_values(LOG, logging.DEBUG)
        if self.conf.once:
            ok = self.worker.run_pass(self.mappings, self.backfill)
            return cmd.EXIT_OK if ok or self.stop.is_set() \
                else cmd.EXIT_FAILED
        LOG.info('exporting %d mappings every %d s', len(self.mappings),
                 self.conf.export.poll_interval)
        verify_runner.attach(self.worker, self.conf, self.worker.start_time)
        self.worker.run_forever(self.mappings, self.conf.export.poll_interval,
                                self.backfill)
        return cmd.EXIT_OK

    def build(self):
        """Configuration, database, source, coordination and worker."""
        conf = service.prepare_service(self.argv, CLI_OPTS,
                                       description=__doc__)
        settings = service.load_settings(conf)
        self.mappings = service.select_mappings(settings, conf.mapping)
        self.backfill = _backfill(conf)
        self.supervisor.stop_timeout = conf.export.stop_timeout
        events = self._metrics(conf)
        store = store_mod.Store.from_conf(conf, wait=self.stop.wait)
        _wait_for_database(store, conf, self.stop, events)
        source = source_mod.Source(conf, wait=self.stop.wait,
                                   observer=events)
        # [export] require_admin refuses a non-admin token before READY=1.
        source.check_scope()
        self.partition = _partition(conf, store, events)
        step = (source_client.request_timeout(conf) or 60.0) + 5.0
        self.worker = worker_mod.Worker(
            source, store, self.stop, conf.export.lookback,
            settings.start_time, self.partition, observer=events, step=step)
        self.conf = conf

    def _metrics(self, conf):
        """The observers; with [metrics] port (the daemon only), the
        Prometheus endpoint listens from now on."""
        events = self.supervisor.observers()
        if conf.once or conf.metrics.port is None:
            return events
        self.metrics = metrics_mod.Metrics()
        self.metrics.expect(self.mappings)
        self.metrics_server = self.metrics.serve(conf.metrics.host,
                                                 conf.metrics.port)
        return observer.Observers(events, self.metrics)

    def reload(self):
        """SIGHUP: check the new files whole, then apply what can be."""
        if self.conf.once:
            LOG.info('SIGHUP ignored: --once does not reload')
            return
        conf = service.parse(self.argv, CLI_OPTS, description=__doc__)
        settings = service.load_settings(conf)
        mappings = service.select_mappings(settings, conf.mapping)
        reload_mod.log_changes(self.conf, conf, self.mappings, mappings)
        reload_mod.apply_log_level(conf)
        self.worker.replan(worker_mod.Plan(
            mappings, conf.export.poll_interval, conf.export.lookback,
            settings.start_time))
        if self.metrics is not None:
            self.metrics.expect(mappings)
        self.conf, self.mappings = conf, mappings


def _partition(conf, store, events):
    """The mappings' sharing: tooz, or the database's worker lock, which
    the daemon waits for and --once requires."""
    if conf.coordination.backend_url:
        return coordination.for_url(conf.coordination.backend_url,
                                    conf.coordination.group)
    lock = worker_lock.for_engine(store.engine, store.safe_url)
    if conf.once and not lock.take():
        raise errors.WorkerLockHeld(
            'another worker exports into database %s (%s): not running '
            '(several workers need [coordination] backend_url)'
            % (store.safe_url, lock.holder() or 'holder unknown'))
    partition = coordination.Exclusive(lock, observer=events)
    partition.take()
    return partition


def _wait_for_database(store, conf, stop, events):
    """The daemon waits for a database that is down at start (``[database]
    max_retries``, -1: until SIGTERM); --once gives up after the store's
    own retries (``db_max_retries``) and exits 1."""
    limit = 0 if conf.once else conf.database.max_retries
    attempt = 0
    while True:
        try:
            return store.check_schema()
        except errors.DatabaseUnavailable as exc:
            if 0 <= limit <= attempt:
                raise
            attempt += 1
            LOG.warning('%s; waiting for the database, attempt %d in %.0f s',
                        exc, attempt, conf.database.retry_interval)
            # Waiting for the database is progress for the watchdog.
            events.busy('idle', conf.database.retry_interval + 60)
            if stop.wait(conf.database.retry_interval):
                raise errors.Interrupted('stopped while waiting for the '
                                         'database') from None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # Before anything else: systemd's variables leave the environment, and
    # from now on the main thread only handles signals.
    supervisor = daemon.Supervisor(notify.Notifier())
    supervisor.install()
    run = Daemon(argv, supervisor)
    try:
        return cmd.guarded(PROG, lambda: supervisor.run(
            run.run, run.request_stop, run.reload))
    finally:
        run.partition.stop()
        run.metrics_server.stop()
        supervisor.uninstall()
        _report_timings()


def _report_timings():
    report = timings.RECORDER.report()
    LOG.debug('time per stage: %s', report)
    path = os.environ.get(timings.ENVIRONMENT)
    if path:
        timings.RECORDER.write(path)
