"""Building the receiver application, for the console script and for any
WSGI server (uWSGI, gunicorn, mod_wsgi).

* ``create_app(config_file)`` returns the WSGI callable (a factory:
  ``gunicorn 'ceilometer_export.receiver.wsgi:create_app("/etc/...conf")'``);
* ``application`` is the same, built on its first request from the file
  named by ``$CEILOMETER_EXPORT_CONFIG`` (default
  ``/etc/ceilometer-export/ceilometer-export.conf``), for servers that
  import a module attribute (uWSGI ``module=``, mod_wsgi scripts).

The committer thread starts with the first request that has something to
store, so it also exists in the workers of a pre-forking server.
"""

import os
import threading

from ceilometer_export import dimensions
from ceilometer_export import errors
from ceilometer_export.query import match
from ceilometer_export.receiver import app as app_mod
from ceilometer_export.receiver import auth
from ceilometer_export.receiver import intake as intake_mod
from ceilometer_export.receiver import metrics as metrics_mod
from ceilometer_export import service
from ceilometer_export import store as store_mod
from ceilometer_export.store import retry
from ceilometer_export.store import runs

CONFIG_ENV = 'CEILOMETER_EXPORT_CONFIG'
DEFAULT_CONFIG = '/etc/ceilometer-export/ceilometer-export.conf'
# One export_runs row per receiver process and this many seconds.
RUN_PERIOD = 60
# The publisher waits 5 s and never retries an error: a deadlock or a
# lost connection is retried quickly, then answered 503.
ANSWER_RETRY = retry.Policy(retries=2, delay=0.05, max_delay=0.2)


def build(conf, settings, check_schema=True):
    """The Receiver for a parsed configuration; ConfigError, StoreError.
    ``check_schema=False``: the caller checks it (and waits for the
    database) before setting the receiver ready."""
    section = conf.receiver
    try:
        credentials = auth.from_options(section.username, section.password)
    except ValueError as exc:
        raise errors.ConfigError(str(exc)) from None
    selector = make_selector(settings)
    store = store_mod.Store(conf.database.connection,
                            dimensions.DimensionFilter.from_conf(conf),
                            ANSWER_RETRY)
    if check_schema:
        store.check_schema()
    intake = intake_mod.Intake(store, runs.Tally(runs.RECEIVE, RUN_PERIOD))
    return app_mod.Receiver(store, selector, intake, metrics_mod.Metrics(),
                            credentials, section.max_body_bytes)


def make_selector(settings) -> match.Selector:
    """What the mappings keep; ConfigError for a query it cannot
    evaluate."""
    try:
        return match.Selector(settings.mappings)
    except ValueError as exc:
        raise errors.ConfigError(str(exc)) from None


def create_app(config_file=None):
    """The WSGI application configured by ``config_file``."""
    path = config_file or os.environ.get(CONFIG_ENV, DEFAULT_CONFIG)
    conf = service.prepare_service(['--config-file', path])
    return build(conf, service.load_settings(conf))


class _Lazy(object):
    """A WSGI callable that builds the application on first use."""

    def __init__(self):
        self._app = None
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if self._app is None:
            with self._lock:
                if self._app is None:
                    self._app = create_app()
        return self._app(environ, start_response)


application = _Lazy()
