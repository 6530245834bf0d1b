"""Strict, clear configuration and usage, for every console script."""

import os
import re
import subprocess

import pytest

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from tests.functional import harness

SCRIPTS = ('ceilometer-export', 'ceilometer-export-dbsync',
           'ceilometer-export-status', 'ceilometer-export-stats',
           'ceilometer-export-receiver', 'ceilometer-export-verify',
           'ceilometer-export-simulator')


@pytest.fixture(scope='module')
def sim():
    with Simulator(samples=generate_samples(seed=5, cycles=2)) as running:
        yield running


def _one_line_exit_2(result, *needles):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _without(path, option):
    text = path.read_text()
    path.write_text(re.sub(r'(?m)^%s = .*\n' % re.escape(option), '', text))


@pytest.mark.parametrize('script', SCRIPTS)
def test_version_on_every_script(script):
    result = harness.run(script, '--version')
    assert result.returncode == 0
    assert re.match(r'\d+\.\d+', result.stdout.strip()), result.stdout


@pytest.mark.parametrize('script', ['ceilometer-export',
                                    'ceilometer-export-dbsync',
                                    'ceilometer-export-status'])
def test_missing_connection_is_exit_2_and_creates_nothing(tmp_path, sim,
                                                          script):
    path = tmp_path / 'c.conf'
    harness.write_config(path, sim, 'sqlite:///unused', {'a': ('', 'cpu')})
    _without(path, 'connection')
    result = harness.run(script, '--config-file', str(path), cwd=tmp_path)
    _one_line_exit_2(result, 'connection', 'database')
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.sqlite')]


def test_database_typo_is_an_unknown_option(tmp_path, sim, make_db_url):
    path = tmp_path / 'c.conf'
    harness.write_config(path, sim, make_db_url('sqlite'), {'a': ('', 'x')})
    path.write_text(path.read_text().replace('connection =',
                                             'conection ='))
    result = harness.run('ceilometer-export-dbsync', '--config-file',
                         str(path), cwd=tmp_path)
    _one_line_exit_2(result, '[database] conection', 'unknown option')


@pytest.mark.parametrize('auth,option', [('password', 'password'),
                                         ('v2password', 'password'),
                                         ('password', 'username')])
def test_missing_credential_is_exit_2_naming_it(tmp_path, sim, make_db_url,
                                                auth, option):
    path = tmp_path / 'c.conf'
    harness.configure(path, sim, make_db_url('sqlite'), {'a': ('', 'cpu')},
                      auth=auth)
    _without(path, option)
    result = harness.run('ceilometer-export', '--config-file', str(path),
                         '--once')
    _one_line_exit_2(result, '[service_credentials] %s' % option)


@pytest.mark.parametrize('args,needle', [
    (['ceilometer-export-stats', '--meter', 'cpu', '--period', '0'],
     '--period'),
    (['ceilometer-export-stats', '--meter', 'cpu', '--format', 'xml'],
     '--format'),
    (['ceilometer-export-status', '--format', 'xml'], '--format'),
    (['ceilometer-export', '--no-such-flag'], '--no-such-flag'),
])
def test_invalid_values_and_usage_are_exit_2(tmp_path, sim, make_db_url,
                                             args, needle):
    conf = harness.configure(tmp_path / 'c.conf', sim, make_db_url('sqlite'),
                             {'a': ('', 'cpu')})
    result = harness.run(args[0], '--config-file', conf, *args[1:])
    _one_line_exit_2(result, needle)


def test_password_with_at_sign_never_shown(tmp_path, sim):
    url = 'mysql+pymysql://root:sec@ret9@127.0.0.1:1/db'
    conf = harness.write_config(tmp_path / 'c.conf', sim, url,
                                {'a': ('', 'cpu')})
    result = harness.run('ceilometer-export-dbsync', '--config-file', conf)
    assert result.returncode == 1
    assert 'ret9' not in result.stderr and 'sec@' not in result.stderr
    assert 'mysql+pymysql://***@127.0.0.1:1/db' in result.stderr


def test_broken_pipe_on_stdout_ends_quietly(tmp_path, sim, make_db_url):
    conf = harness.configure(tmp_path / 'c.conf', sim, make_db_url('sqlite'),
                             {'m%d' % i: ('', 'cpu') for i in range(200)})
    proc = subprocess.run(
        '"%s" --config-file "%s" --format json | head -1'
        % (harness.script('ceilometer-export-status'), conf),
        shell=True, capture_output=True, text=True, timeout=60)
    assert proc.stdout == '[\n'
    assert proc.stderr == '', proc.stderr


def test_log_file_means_no_stderr_unless_asked(tmp_path, sim, make_db_url):
    log_file = tmp_path / 'export.log'
    conf = harness.configure(tmp_path / 'c.conf', sim, make_db_url('sqlite'),
                             {'a': ('', 'cpu_util')},
                             DEFAULT={'log_file': str(log_file)})
    result = harness.run('ceilometer-export', '--config-file', conf,
                         '--once')
    assert result.returncode == 0
    assert result.stderr == ''
    assert 'samples exported' in log_file.read_text()
    with open(conf, 'a') as f:
        f.write('\n[DEFAULT]\nuse_stderr = true\n')
    result = harness.run('ceilometer-export', '--config-file', conf,
                         '--once')
    assert 'samples exported' in result.stderr


def test_world_readable_file_with_secrets_warns(tmp_path, sim, make_db_url):
    conf = harness.configure(tmp_path / 'c.conf', sim, make_db_url('sqlite'),
                             {'a': ('', 'cpu_util')})
    os.chmod(conf, 0o600)
    quiet = harness.run('ceilometer-export', '--config-file', conf, '--once')
    os.chmod(conf, 0o644)
    loud = harness.run('ceilometer-export', '--config-file', conf, '--once')
    assert 'readable by every user' not in quiet.stderr
    assert 'readable by every user' in loud.stderr
    assert '[service_credentials] password' in loud.stderr
    assert 'password = ' not in loud.stderr
