"""A PostgreSQL server of our own in a temp dir, that a test may start
late, stop and start again (the shared servers are never stopped)."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import pytest


def _unprivileged_user():
    for name in ('postgres', 'nobody'):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip('running as root without a postgres or nobody user')


class PrivatePostgres(object):
    """A PostgreSQL server of our own in a temp dir, to start late (the
    shared servers are never stopped)."""

    def __init__(self):
        found = sorted(glob.glob('/usr/lib/postgresql/*/bin/pg_ctl'))
        if not found:
            pytest.skip('no pg_ctl under /usr/lib/postgresql/*/bin')
        self.bin = os.path.dirname(found[-1])
        self.dir = tempfile.mkdtemp(prefix='ce-pg-')
        self.user = None
        if os.geteuid() == 0:
            # initdb refuses to run as root.
            self.user = _unprivileged_user()
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            self.port = sock.getsockname()[1]
        self.url = ('postgresql+psycopg2://postgres@127.0.0.1:%d/postgres'
                    % self.port)
        self._run('initdb', '-D', self.dir + '/data', '-U', 'postgres',
                  '--auth=trust', '-E', 'UTF8', '--no-sync')

    def _run(self, name, *args):
        def as_user():
            if self.user is not None:
                os.setgid(self.user.pw_gid)
                os.setuid(self.user.pw_uid)
        subprocess.run([os.path.join(self.bin, name)] + list(args),
                       check=True, capture_output=True, preexec_fn=as_user,
                       timeout=60)

    def start(self):
        self._run('pg_ctl', '-D', self.dir + '/data', '-w', '-l',
                  self.dir + '/log', '-o', '-p %d -k %s -c listen_addresses='
                  '127.0.0.1 -c fsync=off' % (self.port, self.dir), 'start')

    def stop(self):
        self._run('pg_ctl', '-D', self.dir + '/data', '-m', 'immediate',
                  '-w', 'stop')

    def remove(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass    # not running
        shutil.rmtree(self.dir, ignore_errors=True)
