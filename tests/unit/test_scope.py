"""A token's scope from keystoneauth's own AccessInfo (built from a
Keystone v3 token body), and how it reads."""

from keystoneauth1 import access
import pytest

from ceilometer_export.source import scope


def _access(roles, project=('p-1', 'alpha')):
    domain = {'id': 'default', 'name': 'Default'}
    token = {'methods': ['password'], 'expires_at': '2099-01-01T00:00:00Z',
             'user': {'id': 'u-1', 'name': 'demo', 'domain': domain},
             'roles': [{'id': 'r-%s' % r, 'name': r} for r in roles],
             'catalog': []}
    if project:
        token['project'] = {'id': project[0], 'name': project[1],
                            'domain': domain}
    return access.create(body={'token': token}, auth_token='not-logged')


@pytest.mark.parametrize('roles,admin_role,kind', [
    (['admin'], 'admin', scope.ALL),
    (['Admin', 'member'], 'admin', scope.ALL),      # oslo.policy: any case
    (['member', 'reader'], 'admin', scope.PROJECT),
    (['cloud_admin'], 'cloud_admin', scope.ALL),
    (['admin'], 'cloud_admin', scope.PROJECT),
    ([], 'admin', scope.PROJECT)])
def test_admin_is_the_configured_role(roles, admin_role, kind):
    found = scope.scope_of(_access(roles), admin_role)
    assert found.kind == kind
    if kind == scope.PROJECT:
        assert (found.project_id, found.project_name) == ('p-1', 'alpha')


def test_descriptions():
    assert scope.Scope(scope.ALL).describe() == 'all projects (admin)'
    assert scope.Scope(scope.PROJECT, 'p-1', 'alpha').describe() == \
        'project alpha (p-1) only, non-admin token'
    assert scope.Scope(scope.PROJECT, 'p-1', 'p-1').describe() == \
        'project p-1 (p-1) only, non-admin token'
    assert scope.Scope(scope.UNKNOWN, note='auth_type none').describe() == \
        'unknown (auth_type none)'
    assert scope.describe(scope.UNKNOWN) == 'unknown (not recorded)'


def test_fix_names_the_role_user_and_project():
    text = scope.fix('cloud_admin', 'demo', 'alpha')
    assert "grant the role 'cloud_admin'" in text
    assert 'openstack role add --user demo --project alpha cloud_admin' \
        in text
    assert '[ceilometer] admin_role' in text
