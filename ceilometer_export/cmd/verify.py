"""ceilometer-export-verify: per (mapping, meter, UTC hour), the samples
the API holds against the rows stored; --repair re-exports the hours that
differ and verifies them again."""

import json
import sys
import threading

from oslo_config import cfg
from oslo_log import log

from ceilometer_export import cmd
from ceilometer_export import errors
from ceilometer_export import query
from ceilometer_export import service
from ceilometer_export import source as source_mod
from ceilometer_export import store as store_mod
from ceilometer_export import timeutil
from ceilometer_export import verify
from ceilometer_export.verify import runner
from ceilometer_export import worker as worker_mod

LOG = log.getLogger(__name__)
PROG = 'ceilometer-export-verify'
COLUMNS = ('mapping', 'meter', 'hour', 'api_count', 'db_count')

CLI_OPTS = [
    cfg.MultiStrOpt('mapping', metavar='NAME',
                    help='Verify only this [mapping:NAME] (repeatable).'),
    cfg.StrOpt('since', metavar='ISO8601',
               help='Start of the range (default: [export] start_time, '
                    'else the oldest sample the API holds for the pair).'),
    cfg.StrOpt('until', metavar='ISO8601',
               help='End of the range, exclusive (default: up to and '
                    'including the checkpoint).'),
    cfg.BoolOpt('repair', default=False,
                help='Re-export the hours that differ (the live '
                     'checkpoints untouched), then verify them again.'),
    cfg.StrOpt('format', default='table', choices=('table', 'json'),
               help='table for people; json prints the list of hours '
                    'that differ ([] when everything matches).'),
]


def _range(conf):
    def parse(name):
        value = getattr(conf, name)
        try:
            return timeutil.parse_user(value) if value else None
        except ValueError as exc:
            raise errors.ConfigError('--%s: %s' % (name, exc)) from None
    since, until = parse('since'), parse('until')
    if since and until and until <= since:
        raise errors.ConfigError('--until must be later than --since')
    return since, until


def _build(argv, stop):
    conf = service.prepare_service(argv, CLI_OPTS, description=__doc__)
    settings = service.load_settings(conf)
    mappings = service.select_mappings(settings, conf.mapping)
    since, until = _range(conf)
    source = source_mod.Source(conf, wait=stop.wait)
    # Warned, or refused with [export] require_admin (before the store is
    # opened: nothing to close then).
    source.check_scope()
    store = store_mod.Store.from_conf(conf, wait=stop.wait)
    store.check_schema()
    verifier = verify.Verifier(source.counts(), store, settings.start_time)
    try:
        verifier.check(mappings)
    except query.MappingError as exc:
        raise errors.ConfigError(str(exc)) from None
    worker = None
    if conf.repair:
        worker = worker_mod.Worker(source, store, stop, conf.export.lookback,
                                   settings.start_time)
    return conf, mappings, (since, until), verifier, worker


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    stop = threading.Event()
    store = None
    try:
        conf, mappings, (since, until), verifier, worker = _build(argv, stop)
        store = verifier.store
        report = runner.run(verifier, mappings, since, until, worker)
    except errors.ConfigError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_USAGE)
    except errors.ExportError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_FAILED)
    finally:
        if store is not None:
            # Also when called in-process (tests): no pooled connections
            # are left behind.
            store.close()
    _print(conf.format, report)
    return cmd.EXIT_OK if report.ok else cmd.EXIT_FAILED


def _print(fmt, report):
    for message in report.skipped:
        LOG.info('%s', message)
    for mapping, message in report.failed:
        print('%s: mapping %s: %s' % (PROG, mapping, message),
              file=sys.stderr)
    if fmt == 'json':
        # stdout holds one JSON document; the rest is logged (stderr).
        for hour in report.first.explained:
            LOG.warning('accounted for (%s): %s', ', '.join(hour.explained),
                        json.dumps(hour.as_json()))
        for hour in report.repaired:
            LOG.info('repaired: %s', json.dumps(hour.as_json()))
        print(json.dumps([h.as_json() for h in report.differing], indent=2))
        return
    _table('accounted for (export_rejects or a message_id the API holds '
           'twice), not repaired', report.first.explained, why=True)
    if report.after is not None:
        _table('repaired', report.repaired)
        _table('still differing after repair', report.differing)
    else:
        _table('differing', report.differing)
    if not report.differing:
        print('%d samples compared: no hour differs'
              % sum(report.first.compared.values()))


def _table(title, hours, why=False):
    if not hours:
        return
    columns = COLUMNS + (('why',) if why else ())
    rows = [dict(h.as_json(), why=', '.join(h.explained)) for h in hours]
    print('%s:\n%s\n' % (title, cmd.table(columns, rows)))
