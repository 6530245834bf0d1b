"""ceilometer-export: the polling daemon, or one pass with --once."""

import logging
import os
import signal
import sys
import threading

from oslo_config import cfg
from oslo_log import log

from ceilometer_export import cmd
from ceilometer_export import coordination
from ceilometer_export import errors
from ceilometer_export import service
from ceilometer_export import source as source_mod
from ceilometer_export import store as store_mod
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


def _build(argv, stop):
    conf = service.prepare_service(argv, CLI_OPTS, description=__doc__)
    settings = service.load_settings(conf)
    mappings = service.select_mappings(settings, conf.mapping)
    backfill = _backfill(conf)
    store = store_mod.Store.from_conf(conf, wait=stop.wait)
    _wait_for_database(store, conf, stop)
    source = source_mod.Source(conf, wait=stop.wait)
    partition = coordination.for_url(conf.coordination.backend_url)
    worker = worker_mod.Worker(source, store, stop, conf.export.lookback,
                               settings.start_time, partition)
    return conf, mappings, backfill, worker


def _wait_for_database(store, conf, stop):
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
            if stop.wait(conf.database.retry_interval):
                raise errors.Interrupted('stopped while waiting for the '
                                         'database') from None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    stop = threading.Event()
    _handle_signals(stop)
    try:
        conf, mappings, backfill, worker = _build(argv, stop)
    except errors.ConfigError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_USAGE)
    except errors.Interrupted as exc:
        LOG.info('%s', exc)
        return cmd.EXIT_OK
    except (errors.StoreError, errors.CoordinationError) as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_FAILED)
    try:
        return _run(conf, mappings, backfill, worker, stop)
    finally:
        worker.partition.stop()
        _report_timings()


def _report_timings():
    report = timings.RECORDER.report()
    LOG.debug('time per stage: %s', report)
    path = os.environ.get(timings.ENVIRONMENT)
    if path:
        timings.RECORDER.write(path)


def _handle_signals(stop):
    def request_stop(signum, frame):
        # The current page is finished and committed before exiting.
        LOG.info('signal %d received: stopping after the current page',
                 signum)
        stop.set()
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


def _run(conf, mappings, backfill, worker, stop):
    # Options marked secret (passwords, the database URL) print as ****.
    conf.log_opt_values(LOG, logging.DEBUG)

    if conf.once:
        ok = worker.run_pass(mappings, backfill)
        return cmd.EXIT_OK if ok else cmd.EXIT_FAILED
    LOG.info('exporting %d mappings every %d s', len(mappings),
             conf.export.poll_interval)
    verify_runner.attach(worker, conf, worker.start_time)
    worker.run_forever(mappings, conf.export.poll_interval, backfill)
    return cmd.EXIT_OK
