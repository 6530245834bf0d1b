"""The console scripts as users run them: exit codes, one-line errors,
status output, and no secret in any log line."""

import json

import pytest

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from tests.functional import harness
from tests.functional import conftest

PASSWORD = 'Kx-7q-password-never-logged'
DB_PASSWORD = 'Db-9z-password-never-logged'


@pytest.fixture
def sim():
    users = [{'name': 'admin', 'password': PASSWORD, 'project': 'admin',
              'roles': ['admin']}]
    with Simulator(samples=generate_samples(seed=5, cycles=3),
                   users=users) as running:
        yield running


def _conf(tmp_path, sim, db_url, mappings=None, **sections):
    return harness.write_config(tmp_path / 'c.conf', sim, db_url,
                                mappings or {'m': ('', 'cpu_util')},
                                password=PASSWORD, **sections)


def _append(path, text):
    with open(path, 'a') as f:
        f.write('\n' + harness.dedent(text))


def _usage_error(result, *needles):
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'Traceback' not in result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize('extra,needles', [
    ('[export]\npoll_intervall = 5\n', ('[export] poll_intervall',
                                        'unknown option')),
    ('[mapping:bad]\nquery = project_id\nmeters = cpu_util\n',
     ('[mapping:bad] query', 'missing')),
    ('[mapping:typo]\nquery =\nmeter = cpu_util\n',
     ('[mapping:typo]', 'meter')),
    ('[ceilometer]\npage_size = 0\n', ('page_size',)),
    ('[export]\nstart_time = yesterday\n', ('[export] start_time',)),
    ('[ceilometer]\nquery_mode = simple\n[mapping:j]\n'
     'query = {"=": {"project_id": "x"}}\nmeters = cpu_util\n',
     ('[mapping:j] query', 'complex')),
])
def test_bad_configuration_exits_2_naming_it(tmp_path, sim, make_db_url,
                                             extra, needles):
    conf = _conf(tmp_path, sim, make_db_url('sqlite'))
    _append(conf, extra)
    _usage_error(harness.run('ceilometer-export', '--config-file', conf,
                             '--once'), *needles)


def test_bad_database_url_never_echoes_password(tmp_path, sim):
    conf = _conf(tmp_path, sim, 'postgresql+psycopg2://u:%s@' % DB_PASSWORD
                 + 'host:notaport/db')
    result = harness.run('ceilometer-export', '--config-file', conf,
                         '--once')
    assert result.returncode == 2
    assert DB_PASSWORD not in result.stderr + result.stdout
    assert '[database] connection' in result.stderr


@pytest.mark.parametrize('args,needle', [
    (['--until', '2024-01-02'], '--until requires --since and --once'),
    (['--once', '--since', 'soon'], '--since'),
    (['--once', '--mapping', 'nope'], '--mapping nope'),
])
def test_bad_usage_exits_2(tmp_path, sim, make_db_url, args, needle):
    conf = _conf(tmp_path, sim, make_db_url('sqlite'))
    harness.run('ceilometer-export-dbsync', '--config-file', conf)
    _usage_error(harness.run('ceilometer-export', '--config-file', conf,
                             *args), needle)


def test_unmigrated_database_is_refused(tmp_path, sim, make_db_url):
    conf = _conf(tmp_path, sim, make_db_url('sqlite'))
    _usage_error(harness.run('ceilometer-export', '--config-file', conf,
                             '--once'), 'ceilometer-export-dbsync')


def test_dbsync_is_idempotent(tmp_path, sim, db_url):
    conf = _conf(tmp_path, sim, db_url)
    first = harness.run('ceilometer-export-dbsync', '--config-file', conf)
    second = harness.run('ceilometer-export-dbsync', '--config-file', conf)
    assert first.returncode == second.returncode == 0
    assert 'upgraded from (empty)' in first.stdout
    assert 'already at revision' in second.stdout


def test_status_reports_every_pair(tmp_path, sim, make_db_url):
    db_url = make_db_url('sqlite')
    conf = _conf(tmp_path, sim, db_url,
                 mappings={'m': ('', 'cpu_util, image.size'),
                           'later': ('', 'instance')})
    harness.run('ceilometer-export-dbsync', '--config-file', conf)
    assert harness.run('ceilometer-export', '--config-file', conf, '--once',
                       '--mapping', 'm').returncode == 0
    result = harness.run('ceilometer-export-status', '--config-file', conf,
                         '--format', 'json')
    assert result.returncode == 0, result.stderr
    rows = {(r['mapping'], r['meter']): r for r in json.loads(result.stdout)}
    want = harness.expected(sim, ['cpu_util'])
    assert rows[('m', 'cpu_util')]['samples_exported'] == len(want)
    assert rows[('m', 'cpu_util')]['checkpoint'] == max(
        s['timestamp'] for s in want.values()) + 'Z'
    assert rows[('m', 'cpu_util')]['last_error'] is None
    assert rows[('later', 'instance')]['last_error'] == 'never exported'
    table = harness.run('ceilometer-export-status', '--config-file', conf)
    assert table.stdout.splitlines()[0].split()[:4] == [
        'mapping', 'meter', 'state', 'checkpoint']


def test_secrets_never_logged_even_in_debug(tmp_path, sim):
    url = conftest._server_url('postgresql')
    try:
        conftest._admin_engine('postgresql').dispose()
    except Exception:
        pytest.skip('no PostgreSQL')
    # The local server trusts loopback: any password is accepted, so a
    # real password travels in the URL without being needed.
    db_url = url.set(password=DB_PASSWORD).render_as_string(
        hide_password=False)
    log_file = tmp_path / 'export.log'
    conf = _conf(tmp_path, sim, db_url,
                 DEFAULT={'debug': 'true', 'log_file': str(log_file),
                          'default_log_levels':
                          'keystoneauth=DEBUG,urllib3=DEBUG,'
                          'sqlalchemy.engine=INFO'})
    assert harness.run('ceilometer-export-dbsync', '--config-file',
                       conf).returncode == 0
    result = harness.run('ceilometer-export', '--config-file', conf,
                         '--once')
    assert result.returncode == 0, result.stderr
    logged = log_file.read_text() + result.stdout + result.stderr
    # The debug output is really there: requests with their headers.
    assert 'X-Auth-Token' in logged and '/v2/query/samples' in logged
    tokens = [t for t in sim.identity._tokens]
    assert tokens
    for secret in [PASSWORD, DB_PASSWORD] + tokens:
        assert secret not in logged


def test_rebuild_dimensions_after_changing_the_filter(tmp_path, sim,
                                                      make_db_url):
    db_url = make_db_url('sqlite')
    conf = _conf(tmp_path, sim, db_url)
    harness.run('ceilometer-export-dbsync', '--config-file', conf)
    assert harness.run('ceilometer-export', '--config-file', conf,
                       '--once').returncode == 0

    def keys():
        engine = harness.sa.create_engine(db_url)
        with engine.connect() as conn:
            found = set(conn.execute(harness.sa.text(
                'SELECT DISTINCT key FROM sample_dimensions')).scalars())
        engine.dispose()
        return found
    assert 'status' in keys()
    _append(conf, '[dimensions]\nexclude = status, image*\n')
    result = harness.run('ceilometer-export-dbsync', '--config-file', conf,
                         '--rebuild-dimensions')
    assert result.returncode == 0, result.stderr
    assert 'dimensions rebuilt' in result.stdout
    after = keys()
    assert 'status' not in after and 'flavor.name' in after
    assert not any(k.startswith('image') for k in after)
