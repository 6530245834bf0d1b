"""ceilometer-export-receiver: push intake for Ceilometer's HTTP
publisher (design section 11)."""

import logging
import signal
import sys
import threading

from oslo_log import log

from ceilometer_export import cmd
from ceilometer_export import errors
from ceilometer_export.receiver import server as server_mod
from ceilometer_export.receiver import wsgi
from ceilometer_export import service

LOG = log.getLogger(__name__)
PROG = 'ceilometer-export-receiver'
_DEFAULT_STOP_TIMEOUT = 30.0


def _stop_timeout(conf):
    # [export] stop_timeout bounds every stop (design section 12).
    return float(getattr(conf.export, 'stop_timeout', _DEFAULT_STOP_TIMEOUT))


def _build(argv):
    conf = service.prepare_service(argv, description=__doc__)
    settings = service.load_settings(conf)
    receiver = wsgi.build(conf, settings)
    return conf, settings, receiver


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        conf, settings, receiver = _build(argv)
    except errors.ConfigError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_USAGE)
    except errors.StoreError as exc:
        return cmd.fail(PROG, exc, cmd.EXIT_FAILED)
    stop_timeout = _stop_timeout(conf)
    try:
        server = server_mod.make_server(
            receiver, server_mod.ServerSettings.from_conf(conf, stop_timeout))
    except (OSError, ValueError) as exc:
        receiver.store.close()
        return cmd.fail(PROG, 'cannot serve on %s:%s: %s' % (
            conf.receiver.host, conf.receiver.port, exc), cmd.EXIT_FAILED)
    return _serve(conf, settings, receiver, server, stop_timeout)


def _serve(conf, settings, receiver, server, stop_timeout):
    stop = threading.Event()

    def request_stop(signum, frame):
        LOG.info('signal %d received: finishing the requests in flight',
                 signum)
        stop.set()
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    conf.log_opt_values(LOG, logging.DEBUG)
    thread = threading.Thread(target=server.serve, name='receiver-http',
                              daemon=True)
    thread.start()
    LOG.info('receiving samples on %s:%d for %d mappings',
             conf.receiver.host, server_mod.bound_port(server),
             len(settings.mappings))
    while not stop.wait(1.0):
        if not thread.is_alive():
            LOG.error('the HTTP server stopped unexpectedly')
            break
    # New connections get no answer from here on; the load balancer's
    # healthcheck already says down.
    receiver.stopping = True
    server.stop()
    receiver.intake.stop(stop_timeout)
    receiver.store.close()
    LOG.info('stopped')
    return cmd.EXIT_OK if stop.is_set() else cmd.EXIT_FAILED
