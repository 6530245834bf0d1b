"""Credentials without the admin role against the real Ceilometer 9.0.7 API.

Keystone is the simulator's, issuing the tokens the real API's identity
middleware knows (``api.project_token(P)``: a member of P; ADMIN_TOKEN:
admin), so the exporter reads the token's scope from real keystoneauth
access info while Ceilometer's own policy scopes what it answers.
"""
import json
import signal

import pytest

from ceilometer_export.simulator import Simulator
from tests.functional import daemon_harness
from tests.functional import harness
from tests.functional.upstream import cloud
from tools.upstream import api as api_mod

OWN, OTHER = cloud.PROJECTS[0], cloud.PROJECTS[1]
MEMBER_PASSWORD = 'member-pass'
NOT_ADMIN = "has no role 'admin'"
REFUSED = 'Not Authorized to access project %s' % OTHER
SAMPLES = cloud.samples()


@pytest.fixture(scope='module')
def real(start_upstream):
    return start_upstream(SAMPLES, projects=[OWN])


@pytest.fixture
def keystone():
    users = [{'name': 'member', 'password': MEMBER_PASSWORD,
              'project': OWN, 'roles': ['member'],
              'token': api_mod.project_token(OWN)},
             {'name': 'admin', 'password': harness.ADMIN_PASSWORD,
              'project': 'admin', 'roles': ['admin'],
              'token': api_mod.ADMIN_TOKEN}]
    with Simulator(samples=[], users=users) as sim:
        yield sim


def _credentials(keystone, user, password, project):
    return {'auth_type': 'password', 'auth_url': keystone.keystone_url + '/v3',
            'username': user, 'password': password, 'project_name': project,
            'user_domain_name': 'Default', 'project_domain_name': 'Default'}


def _configure(tmp_path, real, credentials, mappings):
    db_url = 'sqlite:///%s' % (tmp_path / 'export.sqlite')
    conf = harness.configure(
        tmp_path / 'export.conf', None, db_url, mappings,
        credentials=credentials, export={'poll_interval': '1'},
        ceilometer={'endpoint_override': real.url, 'page_size': '50'})
    return conf, db_url


def _cpu(where=lambda s: True):
    return {s['message_id'] for s in SAMPLES
            if s['counter_name'] == 'cpu_util' and where(s)}


def _status(conf):
    result = harness.run('ceilometer-export-status', '--config-file', conf,
                         '--format', 'json')
    assert result.returncode == 0, result.stderr
    return {(r['mapping'], r['meter']): r for r in json.loads(result.stdout)}


def test_member_token_warned_once_and_another_project_refused_once(
        tmp_path, real, keystone):
    conf, db_url = _configure(
        tmp_path, real, _credentials(keystone, 'member', MEMBER_PASSWORD, OWN),
        {'all': ('', 'cpu_util'),
         'other': ('project_id=%s' % OTHER, 'cpu_util, instance')})
    proc = daemon_harness.start_daemon(conf)
    log = daemon_harness.LogReader(proc)
    try:
        log.wait_for('mapping all: ', timeout=120, count=3)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        log.join()
    err = log.text()
    warnings = [ln for ln in err.splitlines() if NOT_ADMIN in ln
                and 'WARNING' in ln]
    assert len(warnings) == 1 and 'project %s (%s) only' % (OWN, OWN) \
        in warnings[0], err
    assert err.count(REFUSED) == 1, err
    [refusal] = [ln for ln in err.splitlines() if REFUSED in ln]
    assert "grant the role 'admin'" in refusal
    assert MEMBER_PASSWORD not in err
    assert api_mod.project_token(OWN) not in err
    # Ceilometer's own policy: the member sees its project only, silently.
    assert set(harness.exported(db_url)) == _cpu(
        lambda s: s['project_id'] == OWN)
    rows = _status(conf)
    assert rows[('all', 'cpu_util')]['scope'] == (
        'project %s (%s) only, non-admin token' % (OWN, OWN))
    assert REFUSED in rows[('other', '*')]['last_error']


def test_admin_token_sees_every_project(tmp_path, real, keystone):
    conf, db_url = _configure(
        tmp_path, real, _credentials(keystone, 'admin',
                                     harness.ADMIN_PASSWORD, 'admin'),
        {'all': ('', 'cpu_util')})
    result = harness.run('ceilometer-export', '--config-file', conf, '--once')
    assert result.returncode == 0, result.stderr[-2000:]
    assert NOT_ADMIN not in result.stderr
    assert set(harness.exported(db_url)) == _cpu()
    assert _status(conf)[('all', 'cpu_util')]['scope'] == \
        'all projects (admin)'


def test_fixed_token_scope_is_unknown_yet_the_401_is_explained(tmp_path,
                                                               real):
    # auth_type admin_token: no Keystone, no access info to read.
    conf, db_url = _configure(
        tmp_path, real, real.credentials(api_mod.project_token(OWN)),
        {'all': ('', 'cpu_util'), 'other': ('project_id=%s' % OTHER,
                                            'cpu_util')})
    result = harness.run('ceilometer-export', '--config-file', conf, '--once')
    assert result.returncode == 1, result.stderr[-2000:]
    assert NOT_ADMIN not in result.stderr
    assert result.stderr.count(REFUSED) == 1
    assert '[ceilometer] admin_role' in result.stderr
    assert set(harness.exported(db_url)) == _cpu(
        lambda s: s['project_id'] == OWN)
    rows = _status(conf)
    assert rows[('all', 'cpu_util')]['scope'] == \
        'unknown (auth_type admin_token)'
    assert REFUSED in rows[('other', '*')]['last_error']
