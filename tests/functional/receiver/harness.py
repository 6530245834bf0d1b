"""The real receiver (console script) and a real Ceilometer publisher.

Ceilometer releases are installed from PyPI into cached virtualenvs by
``tools/upstream`` recipes; ``publish`` runs ``publish.py`` with such a
virtualenv's Python, so the bytes on the wire are the release's own.
"""

import contextlib
import datetime
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa

from ceilometer_export.store import schema
from tests.functional import harness

PUBLISH = str(pathlib.Path(__file__).with_name('publish.py'))
USER, PASSWORD = 'ceilometer', 'pub-s3cret'
UTC = datetime.timezone.utc


def publisher_python(recipe_name):
    """The Python of the recipe's virtualenv, built on first use; a skip
    (a failure when CEILOMETER_EXPORT_REQUIRE_DATABASES is set, as in CI)
    when it cannot be installed, e.g. without PyPI."""
    from tools.upstream import installer
    from tools.upstream import recipes
    try:
        return installer.ensure(recipes.RECIPES[recipe_name]).python
    except installer.PatchError:
        raise   # the recipe no longer fits the code: always a failure
    except installer.InstallError as exc:
        reason = 'cannot install %s: %s' % (recipe_name, exc)
        if os.environ.get('CEILOMETER_EXPORT_REQUIRE_DATABASES'):
            pytest.fail(reason)
        pytest.skip(reason)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_config(path, db_url, mappings=None, auth=True, **receiver):
    options = {'host': '127.0.0.1', 'port': str(free_port())}
    if auth:
        options.update(username=USER, password=PASSWORD)
    options.update(receiver)
    mappings = mappings or {'all': ('', '*')}
    lines = ['[database]', 'connection = %s' % db_url, '', '[receiver]']
    lines += ['%s = %s' % kv for kv in options.items()]
    for name, (query, meters) in mappings.items():
        lines += ['', '[mapping:%s]' % name, 'query = %s' % query,
                  'meters = %s' % meters]
    path.write_text('\n'.join(lines) + '\n')
    return str(path), int(options['port'])


class Receiver(object):
    """ceilometer-export-receiver started on a config, stopped by SIGTERM."""

    def __init__(self, conf, port, log_path):
        self.conf, self.port, self.log_path = conf, port, log_path
        self.base = 'http://127.0.0.1:%d' % port
        self.proc = None

    def url(self, path='/v1/samples', user=USER, password=PASSWORD):
        if user is None:
            return self.base + path
        return 'http://%s:%s@127.0.0.1:%d%s' % (user, password, self.port,
                                                path)

    def start(self, deadline=30, up=None):
        """Started and answering: ``up()`` true (default: the plain
        HTTP healthcheck answers 200)."""
        up = up or (lambda: self.get('/healthcheck')[0] == 200)
        self._log = open(self.log_path, 'ab')
        self.proc = harness.start('ceilometer-export-receiver',
                                  '--config-file', self.conf,
                                  stdout=self._log, stderr=self._log)
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            assert self.proc.poll() is None, self.log()
            if up():
                return self
            time.sleep(0.05)
        raise AssertionError('receiver not up in %d s: %s'
                             % (deadline, self.log()))

    def stop(self, timeout=30):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout)
        self._log.close()
        return self.proc.returncode

    def log(self):
        return pathlib.Path(self.log_path).read_text(errors='replace')

    def get(self, path):
        return request(self.base + path)

    def post(self, body, path='/', headers=None, auth=True):
        headers = dict(headers or {})
        if auth:
            headers['Authorization'] = basic(USER, PASSWORD)
        return request(self.base + path, body, headers)

    def metric(self, outcome):
        text = self.get('/metrics')[1].decode()
        line = 'ceilometer_export_received_total{outcome="%s"} ' % outcome
        found = [ln for ln in text.splitlines() if ln.startswith(line)]
        return float(found[0].split()[-1])


def basic(user, password):
    import base64
    token = base64.b64encode(('%s:%s' % (user, password)).encode())
    return 'Basic ' + token.decode()


def request(url, body=None, headers=None):
    """(status, body bytes) without raising on HTTP errors."""
    req = urllib.request.Request(url, data=body, headers=headers or {},
                                 method='POST' if body is not None else 'GET')
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except urllib.error.URLError:
        return None, b''    # not listening (yet, or any more)


@contextlib.contextmanager
def running(tmp_path, db_url, **kwargs):
    conf, port = write_config(tmp_path / 'receiver.conf', db_url, **kwargs)
    result = harness.run('ceilometer-export-dbsync', '--config-file', conf)
    assert result.returncode == 0, result.stderr
    receiver = Receiver(conf, port, str(tmp_path / 'receiver.log'))
    receiver.start()
    try:
        yield receiver
    finally:
        assert receiver.stop() == 0, receiver.log()


def publish(python, url, batches):
    """Publish batches of Sample kwargs; (published as_dicts, log)."""
    spec = json.dumps({'url': url, 'batches': batches})
    result = subprocess.run([python, PUBLISH], input=spec,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def rows(db_url, table):
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(getattr(schema, table))).mappings()]
    finally:
        engine.dispose()
