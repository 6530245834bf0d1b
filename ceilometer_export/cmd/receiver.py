"""ceilometer-export-receiver: push intake for Ceilometer's HTTP
publisher (design section 11)."""

import sys

from ceilometer_export import cmd
from ceilometer_export import daemon
from ceilometer_export import notify
from ceilometer_export.receiver import process

PROG = 'ceilometer-export-receiver'


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    # Before anything else: systemd's variables leave the environment, and
    # from now on the main thread only handles signals.
    status = process.Status()
    supervisor = daemon.Supervisor(notify.Notifier(), summary=status)
    supervisor.install()
    run = process.Process(argv, supervisor, status, description=__doc__)
    try:
        return cmd.guarded(PROG, lambda: supervisor.run(
            run.run, run.request_stop, run.reload))
    finally:
        supervisor.uninstall()
