"""Start and stop a real Ceilometer v2 API loaded with given samples.

    venv = installer.ensure(recipes.CEILOMETER_9_0_7)
    with UpstreamApi(venv, workdir, samples) as api:
        api.url                      # http://127.0.0.1:PORT
        api.add_samples(more)        # written by the storage driver too

Requests authenticate with a fixed token (``X-Auth-Token``): ADMIN_TOKEN
has the admin role and sees every project; a token from ``project_token``
acts as a plain member of one project, scoped by Ceilometer's own policy.
A keystoneauth1 session reaches it with ``auth_type = admin_token``
(``endpoint`` = api.url, ``token``) -- see ``credentials()``.
"""
import datetime
import json
import pathlib
import subprocess
import time
import urllib.request

SERVE = pathlib.Path(__file__).with_name('serve_v2.py')
ADMIN_TOKEN = 'upstream-admin-token'
START_TIMEOUT = 120.0


def project_token(project_id: str) -> str:
    """The token of a non-admin member of project_id (user u-<project>)."""
    return 'upstream-member-' + project_id


def record(sample: dict) -> dict:
    """A simulator sample dict as record_metering_data receives it (JSON).

    The shapes already match (the simulator's add_samples format is the
    collector's): only datetimes become naive ISO 8601 strings.
    """
    out = dict(sample)
    for key in ('timestamp', 'recorded_at'):
        if isinstance(out.get(key), datetime.datetime):
            value = out[key]
            if value.tzinfo is not None:
                value = value.astimezone(datetime.timezone.utc).replace(
                    tzinfo=None)
            out[key] = value.isoformat()
    return out


class UpstreamApi(object):

    def __init__(self, venv, workdir, samples=(), projects=()):
        self.venv = venv
        self.workdir = pathlib.Path(workdir)
        self._samples = list(samples)
        self._tokens = {ADMIN_TOKEN: {'project_id': 'admin',
                                      'user_id': 'admin',
                                      'roles': ['admin']}}
        for project in projects:
            self._tokens[project_token(project)] = {
                'project_id': project, 'user_id': 'u-' + project,
                'roles': ['member']}
        self._proc = None
        self.url = None

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        samples = self.workdir / 'samples.json'
        samples.write_text(json.dumps([record(s) for s in self._samples]))
        ready = self.workdir / 'port'
        spec = self.workdir / 'spec.json'
        spec.write_text(json.dumps({
            'db': str(self.workdir / 'ceilometer.sqlite'),
            'samples': str(samples), 'ready_file': str(ready),
            'tokens': self._tokens}))
        log = open(self.workdir / 'api.log', 'wb')
        self._proc = subprocess.Popen(
            [self.venv.python, '-W', 'ignore', str(SERVE), str(spec)],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('upstream Ceilometer API did not start: %s'
                                   % self.log_tail())
            time.sleep(0.05)
        self.url = 'http://127.0.0.1:%s' % ready.read_text().strip()
        return self

    def add_samples(self, samples) -> int:
        """Record more samples (e.g. late ones) into the running API."""
        body = json.dumps([record(s) for s in samples]).encode()
        req = urllib.request.Request(self.url + '/_load', data=body,
                                     method='POST')
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)['recorded']

    def credentials(self, token: str = ADMIN_TOKEN) -> dict:
        """[service_credentials] options for a keystoneauth1 session."""
        return {'auth_type': 'admin_token', 'endpoint': self.url,
                'token': token}

    def log_tail(self, lines: int = 15) -> str:
        path = self.workdir / 'api.log'
        text = path.read_text(errors='replace') if path.exists() else ''
        return ' | '.join(text.strip().splitlines()[-lines:])

    def stop(self):
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
