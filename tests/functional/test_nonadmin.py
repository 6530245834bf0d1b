"""Credentials without the admin role: the API shows one project, with no
error. The exporter says so once, status shows the scope, require_admin
refuses them, and a mapping naming another project reports the API's 401
once, with the fix. Real processes, the simulator's Keystone and API."""

import json
import signal

import pytest

from ceilometer_export.simulator import generate_samples
from ceilometer_export.simulator import Simulator
from tests.functional import daemon_harness
from tests.functional import harness

OWN = 'p-alpha-0001'
OTHER = 'p-beta-0002'
DEMO_PASSWORD = 'demopass'
NOT_ADMIN = "has no role 'admin'"
REFUSED = 'Not Authorized to access project %s' % OTHER


def _demo(sim):
    return {'auth_type': 'password', 'auth_url': sim.keystone_url + '/v3',
            'username': 'demo', 'password': DEMO_PASSWORD,
            'project_name': OWN, 'user_domain_name': 'Default',
            'project_domain_name': 'Default'}


def _config(tmp_path, sim, mappings, credentials=None, **sections):
    db_url = 'sqlite:///%s' % (tmp_path / 'export.sqlite')
    sections.setdefault('export', {}).setdefault('poll_interval', '1')
    conf = harness.configure(tmp_path / 'export.conf', sim, db_url, mappings,
                             credentials=credentials, **sections)
    return conf, db_url


def _status(conf):
    table = harness.run('ceilometer-export-status', '--config-file', conf)
    as_json = harness.run('ceilometer-export-status', '--config-file', conf,
                          '--format', 'json')
    assert table.returncode == 0 and as_json.returncode == 0, table.stderr
    rows = {(r['mapping'], r['meter']): r for r in json.loads(as_json.stdout)}
    return table.stdout, rows


def _daemon_passes(conf, passes, needle):
    """Run the daemon until ``needle`` was logged ``passes`` times, stop
    it with SIGTERM; its stderr."""
    proc = daemon_harness.start_daemon(conf)
    log = daemon_harness.LogReader(proc)
    try:
        log.wait_for(needle, timeout=60, count=passes)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log.join()
    return log.text()


def test_non_admin_token_is_warned_once_and_shown_by_status(tmp_path):
    # Tokens die after 4 requests: keystoneauth re-authenticates in every
    # pass, and the scope stays the same (one warning, not one per token).
    with Simulator(samples=generate_samples(seed=5, cycles=4),
                   token_max_uses=4) as sim:
        conf, db_url = _config(tmp_path, sim, {'all': ('', 'cpu_util')},
                               credentials=_demo(sim),
                               ceilometer={'page_size': '3'})
        err = _daemon_passes(conf, 3, 'mapping all: ')
        issued = sim.identity.issued
    assert issued >= 3
    warnings = [line for line in err.splitlines() if NOT_ADMIN in line]
    assert len(warnings) == 1, err
    assert 'WARNING' in warnings[0]
    assert 'project %s (%s) only' % (OWN, OWN) in warnings[0]
    assert '[ceilometer] admin_role' in warnings[0]
    assert DEMO_PASSWORD not in err
    # What a non-admin token sees: one project, silently.
    assert harness.exported(db_url) == harness.expected(
        sim, ['cpu_util'], where=lambda s: s['project_id'] == OWN)
    table, rows = _status(conf)
    scope = 'project %s (%s) only, non-admin token' % (OWN, OWN)
    assert rows[('all', 'cpu_util')]['scope'] == scope
    assert rows[('all', '*')]['scope_kind'] == 'project'
    assert scope in table and 'last_seen_at' in table


def test_admin_token_sees_every_project_without_warning(tmp_path):
    with Simulator(samples=generate_samples(seed=5, cycles=4)) as sim:
        conf, db_url = _config(tmp_path, sim, {'all': ('', 'cpu_util')})
        result = harness.run('ceilometer-export', '--config-file', conf,
                             '--once')
        assert result.returncode == 0, result.stderr
        assert NOT_ADMIN not in result.stderr
        assert harness.exported(db_url) == harness.expected(sim,
                                                            ['cpu_util'])
        table, rows = _status(conf)
    assert rows[('all', 'cpu_util')]['scope'] == 'all projects (admin)'
    assert 'all projects (admin)' in table


def test_admin_role_names_the_clouds_own_role(tmp_path):
    # A cloud whose policy calls its admin role 'member' (here, demo's).
    with Simulator(samples=generate_samples(seed=5, cycles=1)) as sim:
        conf, _ = _config(tmp_path, sim, {'all': ('', 'cpu_util')},
                          credentials=_demo(sim),
                          ceilometer={'admin_role': 'Member'},
                          export={'require_admin': 'true'})
        result = harness.run('ceilometer-export', '--config-file', conf,
                             '--once')
        assert result.returncode == 0, result.stderr
        assert NOT_ADMIN not in result.stderr
        _, rows = _status(conf)
    assert rows[('all', '*')]['scope_kind'] == 'all'


@pytest.mark.parametrize('command', [
    ('ceilometer-export', '--once'), ('ceilometer-export',),
    ('ceilometer-export-verify',)])
def test_require_admin_refuses_a_non_admin_token(tmp_path, command):
    with Simulator(samples=generate_samples(seed=5, cycles=1)) as sim:
        conf, db_url = _config(tmp_path, sim, {'all': ('', 'cpu_util')},
                               credentials=_demo(sim),
                               export={'require_admin': 'true'})
        result = harness.run(command[0], '--config-file', conf,
                             *command[1:], timeout=60)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith('%s: error: [export] require_admin = true: '
                           % command[0]), line
    assert NOT_ADMIN in line and 'project %s (%s) only' % (OWN, OWN) in line
    assert DEMO_PASSWORD not in line
    assert harness.exported(db_url) == {}


def test_auth_type_none_checks_nothing_and_the_scope_is_unknown(tmp_path):
    with Simulator(samples=generate_samples(seed=5, cycles=1)) as sim:
        sim.noauth = True
        conf, db_url = _config(
            tmp_path, sim, {'all': ('', 'cpu_util')},
            credentials={'auth_type': 'none'},
            ceilometer={'endpoint_override': sim.ceilometer_url},
            export={'require_admin': 'true'})
        result = harness.run('ceilometer-export', '--config-file', conf,
                             '--once')
        assert result.returncode == 0, result.stderr
        assert NOT_ADMIN not in result.stderr
        assert harness.exported(db_url) == harness.expected(sim,
                                                            ['cpu_util'])
        table, rows = _status(conf)
    assert rows[('all', 'cpu_util')]['scope'] == 'unknown (auth_type none)'
    assert rows[('all', '*')]['scope_kind'] == 'unknown'
    assert 'unknown (auth_type none)' in table


def test_a_query_naming_another_project_reports_the_401_once(tmp_path):
    with Simulator(samples=generate_samples(seed=5, cycles=4)) as sim:
        conf, db_url = _config(tmp_path, sim, {
            'other': ('project_id=%s' % OTHER,
                      'cpu_util, memory.usage, disk.read.bytes'),
            'own': ('', 'cpu_util')}, credentials=_demo(sim))
        err = _daemon_passes(conf, 3, 'mapping own: ')
        asked = [r for r in sim.request_log if OTHER in json.dumps(r)]
        issued = sim.identity.issued
    # One request; keystoneauth re-authenticates once on its 401 and sends
    # it again. Nothing more in later passes, no other meter asked.
    assert len(asked) == 2 and {r['status'] for r in asked} == {401}
    assert issued == 2
    assert err.count(REFUSED) == 1, err
    [line] = [line for line in err.splitlines() if REFUSED in line]
    assert 'ERROR' in line and 'mapping other failed this pass' in line
    assert "grant the role 'admin'" in line
    assert '[ceilometer] admin_role' in line
    assert err.count('mapping other failed this pass, as logged before') >= 2
    assert DEMO_PASSWORD not in err
    # The other mapping went on.
    assert harness.exported(db_url) == harness.expected(
        sim, ['cpu_util'], where=lambda s: s['project_id'] == OWN)
    _, rows = _status(conf)
    mapping = rows[('other', '*')]
    assert mapping['state'] == 'failed'
    assert REFUSED in mapping['last_error']
    assert "grant the role 'admin'" in mapping['last_error']
    assert REFUSED in rows[('other', 'cpu_util')]['last_error']
    assert rows[('own', 'cpu_util')]['state'] == 'ok'


def test_a_role_granted_is_seen_at_the_next_token(tmp_path):
    # Tokens die after 4 requests, so the next pass authenticates anew:
    # the new token's roles are read again (no restart needed).
    with Simulator(samples=generate_samples(seed=5, cycles=4),
                   token_max_uses=4) as sim:
        conf, db_url = _config(tmp_path, sim, {'all': ('', 'cpu_util')},
                               credentials=_demo(sim),
                               ceilometer={'page_size': '3'})
        proc = daemon_harness.start_daemon(conf)
        log = daemon_harness.LogReader(proc)
        try:
            log.wait_for('mapping all: ', timeout=60)
            _, rows = _status(conf)
            assert rows[('all', '*')]['scope_kind'] == 'project'
            [demo] = [u for u in sim.identity.users if u.name == 'demo']
            demo.roles = ['member', 'admin']
            log.wait_for("now has the role 'admin'", timeout=60)
            passes = log.text().count('mapping all: ')
            log.wait_for('mapping all: ', timeout=60, count=passes + 1)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            log.join()
        _, rows = _status(conf)
    err = log.text()
    assert err.count(NOT_ADMIN) == 1, err
    assert '--since' in err
    assert rows[('all', 'cpu_util')]['scope'] == 'all projects (admin)'


def test_require_admin_stops_the_daemon_when_a_new_token_lost_it(tmp_path):
    users = [{'name': 'demo', 'password': DEMO_PASSWORD, 'project': OWN,
              'roles': ['member', 'admin']}]
    with Simulator(samples=generate_samples(seed=5, cycles=4), users=users,
                   token_max_uses=4) as sim:
        conf, db_url = _config(tmp_path, sim, {'all': ('', 'cpu_util')},
                               credentials=_demo(sim),
                               ceilometer={'page_size': '3'},
                               export={'require_admin': 'true'})
        proc = daemon_harness.start_daemon(conf)
        log = daemon_harness.LogReader(proc)
        try:
            log.wait_for('mapping all: ', timeout=60)
            sim.identity.users[0].roles = ['member']
            assert proc.wait(timeout=60) == 2
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            log.join()
    last = log.text().splitlines()[-1]
    assert last.startswith('ceilometer-export: error: [export] '
                           'require_admin = true: '), log.text()
    assert 'Traceback' not in log.text()
    # Nothing was exported with the non-admin token: the pass was refused
    # before its first request.
    _, rows = _status(conf)
    assert rows[('all', '*')]['state'] == 'ok'
