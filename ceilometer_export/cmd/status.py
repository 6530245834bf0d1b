"""ceilometer-export-status: where each (mapping, meter) stands."""

import json
import sys

from oslo_config import cfg

from ceilometer_export import cmd
from ceilometer_export import errors
from ceilometer_export import service
from ceilometer_export import store as store_mod
from ceilometer_export import timeutil

PROG = 'ceilometer-export-status'
CLI_OPTS = [
    cfg.StrOpt('format', default='table', choices=('table', 'json'),
               help='table for people, json for scripts.'),
]
COLUMNS = ('mapping', 'meter', 'checkpoint', 'lag_seconds',
           'samples_exported', 'last_success_at', 'last_error')


def rows(checkpoints, mappings, now):
    """One dict per pair: stored checkpoints, plus configured pairs that
    were never exported (so a silent mapping shows up)."""
    found = []
    seen = set()
    for cp in checkpoints:
        seen.add((cp.mapping, cp.meter))
        lag = cp.last_timestamp and (now - cp.last_timestamp).total_seconds()
        found.append({'mapping': cp.mapping, 'meter': cp.meter,
                      'checkpoint': timeutil.format_utc(cp.last_timestamp),
                      'lag_seconds': None if lag is None else round(lag),
                      'samples_exported': cp.samples_exported,
                      'last_success_at':
                          timeutil.format_utc(cp.last_success_at),
                      'last_error': cp.last_error})
    for mapping in mappings:
        for meter in mapping.meters:
            if (mapping.name, meter) not in seen:
                found.append(dict.fromkeys(COLUMNS) | {
                    'mapping': mapping.name, 'meter': meter,
                    'samples_exported': 0,
                    'last_error': 'never exported'})
    return found


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        conf = service.prepare_service(argv, CLI_OPTS, description=__doc__)
        settings = service.load_settings(conf)
        store = store_mod.Store.from_conf(conf)
        store.check_schema()
        found = rows(store.checkpoints(), settings.mappings,
                     timeutil.utcnow())
    except errors.ConfigError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_USAGE)
    except errors.StoreError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_FAILED)
    if conf.format == 'json':
        print(json.dumps(found, indent=2))
    else:
        print(cmd.table(COLUMNS, found, max_width=60))
    return cmd.EXIT_OK
