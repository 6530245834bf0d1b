"""Serve the real Ceilometer v2 API (9.0.x) on loopback, for tests.

Runs with the upstream virtualenv's Python, never the project's: it imports
only Ceilometer and its libraries. Usage::

    python serve_v2.py SPEC.json

SPEC: {"db": "/path/file.sqlite", "port": 0, "ready_file": "/path",
       "samples": "/path/samples.json", "tokens": {TOKEN: {"project_id",
       "user_id", "roles": [...]}}}

Samples are written through Ceilometer's own SQLAlchemy storage driver with
``record_metering_data``, as the collector writes them (nested metadata,
a message signature). The paste pipeline has no ``authtoken``: a small
middleware maps each X-Auth-Token to the X-Project-Id / X-User-Id / X-Roles
headers that keystonemiddleware would set, so Ceilometer's own policy
(``context_is_admin = role:admin``) decides admin vs project scoping.
When ready, the bound port is written to ``ready_file``. ``POST
/_load`` on the same port adds more samples (a JSON list) the same way.
"""
import datetime
import json
import os
import sys
import tempfile
from wsgiref import simple_server

from oslo_config import cfg
from oslo_db import options as db_options
from oslo_policy import opts as policy_opts

POLICY = {
    "context_is_admin": "role:admin",
    "segregation": "rule:context_is_admin",
    "telemetry:get_samples": "",
    "telemetry:get_sample": "",
    "telemetry:query_sample": "",
    "telemetry:create_samples": "",
    "telemetry:compute_statistics": "",
    "telemetry:get_meters": "",
    "telemetry:get_resource": "",
    "telemetry:get_resources": "",
}

PASTE = """
[pipeline:main]
pipeline = request_id api-server

[app:api-server]
paste.app_factory = ceilometer.api.app:app_factory

[filter:request_id]
paste.filter_factory = oslo_middleware:RequestId.factory
"""

_IDENTITY_HEADERS = ('HTTP_X_ROLES', 'HTTP_X_PROJECT_ID', 'HTTP_X_USER_ID',
                     'HTTP_X_TENANT_ID', 'HTTP_X_IDENTITY_STATUS')


def make_conf(workdir, db_path):
    """A ConfigOpts with just the options the API and the SQL driver read."""
    import ceilometer.api.app
    import ceilometer.api.controllers.v2.root
    import ceilometer.dispatcher
    import ceilometer.publisher.messaging
    import ceilometer.publisher.utils
    import ceilometer.sample
    import ceilometer.storage

    conf = cfg.ConfigOpts()
    conf.register_opts(ceilometer.api.app.OPTS)
    conf.register_opts(ceilometer.sample.OPTS)
    conf.register_opts(ceilometer.dispatcher.OPTS)
    conf.register_opts(list(ceilometer.api.app.API_OPTS) +
                       list(ceilometer.api.controllers.v2.root.API_OPTS),
                       group='api')
    conf.register_opts(ceilometer.storage.OPTS, group='database')
    conf.register_opts(ceilometer.publisher.utils.OPTS, group='publisher')
    conf.register_opts(ceilometer.publisher.messaging.NOTIFIER_OPTS,
                       group='publisher_notifier')
    policy_opts.set_defaults(conf)
    db_options.set_defaults(conf)
    policy_file = os.path.join(workdir, 'policy.json')
    paste_file = os.path.join(workdir, 'api_paste.ini')
    with open(policy_file, 'w') as f:
        json.dump(POLICY, f)
    with open(paste_file, 'w') as f:
        f.write(PASTE)
    import oslo_messaging
    oslo_messaging.set_transport_defaults('ceilometer')
    conf([], project='ceilometer', default_config_files=[])
    conf.set_override('api_paste_config', paste_file)
    conf.set_override('policy_file', policy_file, group='oslo_policy')
    conf.set_override('connection', 'sqlite:///' + db_path, group='database')
    conf.set_override('max_retries', 1, group='database')
    # A throwaway test database: no fsync per sample.
    conf.set_override('sqlite_synchronous', False, group='database')
    oslo_messaging.get_notification_transport(conf, url='fake://')
    conf.set_override('transport_url', 'fake://')
    conf.set_override('telemetry_driver', 'noop', group='publisher_notifier')
    for service in ('gnocchi', 'aodh', 'panko'):
        conf.set_override(service + '_is_enabled', False, group='api')
    return conf


def _parse_time(value):
    if value is None:
        return None
    return datetime.datetime.strptime(
        value if '.' in value else value + '.0', '%Y-%m-%dT%H:%M:%S.%f')


def record(conf, conn, samples):
    """Write samples through the storage driver, as the collector does."""
    from ceilometer.publisher import utils as publisher_utils
    from ceilometer.storage.sqlalchemy import models

    secret = conf.publisher.telemetry_secret
    pinned = []
    for raw in samples:
        data = dict(raw)
        recorded_at = _parse_time(data.pop('recorded_at', None))
        data['timestamp'] = _parse_time(data['timestamp'])
        data['message_signature'] = publisher_utils.compute_signature(
            data, secret)
        conn.record_metering_data(data)
        if recorded_at is not None:
            pinned.append((data['message_id'], recorded_at))
    # The driver stamps recorded_at with its own clock; the collector's
    # write time is not what a test compares, the given one is.
    table = models.Sample.__table__
    engine = conn._engine_facade.get_engine()
    with engine.begin() as db:
        for message_id, recorded_at in pinned:
            db.execute(table.update()
                       .where(table.c.message_id == message_id)
                       .values(recorded_at=recorded_at))
    return len(samples)


class Identity(object):
    """keystonemiddleware's outcome, from a fixed token table."""

    def __init__(self, app, tokens, loader):
        self.app = app
        self.tokens = tokens
        self.loader = loader

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO') == '/_load':
            return self.loader(environ, start_response)
        for name in _IDENTITY_HEADERS:
            environ.pop(name, None)   # never trust the client's
        who = self.tokens.get(environ.get('HTTP_X_AUTH_TOKEN'))
        if who is None:
            start_response('401 Unauthorized',
                           [('Content-Type', 'application/json'),
                            ('WWW-Authenticate', 'Keystone uri="none"')])
            return [b'{"error": {"code": 401, "title": "Unauthorized", '
                    b'"message": "The request you have made requires '
                    b'authentication."}}']
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        environ['HTTP_X_PROJECT_ID'] = who['project_id']
        environ['HTTP_X_TENANT_ID'] = who['project_id']
        environ['HTTP_X_USER_ID'] = who['user_id']
        environ['HTTP_X_ROLES'] = ','.join(who['roles'])
        return self.app(environ, start_response)


def _loader(conf, conn):
    def load(environ, start_response):
        size = int(environ.get('CONTENT_LENGTH') or 0)
        count = record(conf, conn, json.loads(environ['wsgi.input'].read(size)))
        start_response('200 OK', [('Content-Type', 'application/json')])
        return [json.dumps({'recorded': count}).encode()]
    return load


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        pass


def main(argv):
    with open(argv[1]) as f:
        spec = json.load(f)
    workdir = tempfile.mkdtemp(prefix='ceilometer-api-')
    conf = make_conf(workdir, spec['db'])

    from ceilometer.api import app as api_app
    from ceilometer import storage
    from ceilometer.storage.sqlalchemy import models

    conn = storage.get_connection_from_config(conf)
    # What Connection.upgrade() does for a database never migrated (it
    # then stamps the sqlalchemy-migrate version, which the API never reads).
    models.Base.metadata.create_all(conn._engine_facade.get_engine())
    if spec.get('samples'):
        with open(spec['samples']) as f:
            record(conf, conn, json.load(f))
    app = Identity(api_app.load_app(conf), spec['tokens'], _loader(conf, conn))
    server = simple_server.make_server('127.0.0.1', spec.get('port', 0), app,
                                       handler_class=_QuietHandler)
    tmp = spec['ready_file'] + '.tmp'
    with open(tmp, 'w') as f:
        f.write(str(server.server_port))
    os.rename(tmp, spec['ready_file'])
    server.serve_forever()


if __name__ == '__main__':
    main(sys.argv)
