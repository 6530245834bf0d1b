"""ceilometer-export-dbsync: create or upgrade the schema (Alembic)."""

import sys

from oslo_config import cfg

from ceilometer_export import cmd
from ceilometer_export import service
from ceilometer_export import store as store_mod

PROG = 'ceilometer-export-dbsync'
CLI_OPTS = [
    cfg.BoolOpt('rebuild-dimensions', default=False,
                help='After the upgrade, recompute every exported '
                     'sample\'s dimension set under the current '
                     '[dimensions] options (after changing include, exclude '
                     'or max_value_length). Stop the exporter first. '
                     'Idempotent; can be interrupted and run again.'),
]


def _run(conf):
    store = store_mod.Store.from_conf(conf)
    before, after = store.upgrade()
    if before == after:
        print('%s: schema already at revision %s' % (store.safe_url, after))
    else:
        print('%s: schema upgraded from %s to %s'
              % (store.safe_url, before or '(empty)', after))
    if conf.rebuild_dimensions:
        counts = store.rebuild_dimensions()
        print('dimensions rebuilt: %(samples)d samples read, %(changed)d '
              'changed, %(dimension_rows_deleted)d unused dimension rows '
              'deleted' % counts)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv

    def body():
        _run(service.prepare_service(argv, CLI_OPTS, description=__doc__))
        return cmd.EXIT_OK
    return cmd.guarded(PROG, body)
