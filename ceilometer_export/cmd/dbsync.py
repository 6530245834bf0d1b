"""ceilometer-export-dbsync: create or upgrade the schema (Alembic)."""

import sys

from ceilometer_export import cmd
from ceilometer_export import errors
from ceilometer_export import service
from ceilometer_export import store as store_mod

PROG = 'ceilometer-export-dbsync'


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        conf = service.prepare_service(argv, description=__doc__)
        store = store_mod.Store(conf.database.connection)
        before, after = store.upgrade()
    except errors.ConfigError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_USAGE)
    except errors.StoreError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_FAILED)
    if before == after:
        print('%s: schema already at revision %s' % (store.safe_url, after))
    else:
        print('%s: schema upgraded from %s to %s'
              % (store.safe_url, before or '(empty)', after))
    return cmd.EXIT_OK
