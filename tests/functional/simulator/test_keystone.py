"""keystoneauth1's password and v2password plugins work unchanged."""
import pytest
from keystoneauth1 import exceptions as ks_exc

from tests.functional.simulator import clients


@pytest.mark.parametrize('plugin, suffix', [
    ('password', '/v3'),
    ('password', ''),          # unversioned: discovery through GET /
    ('v2password', '/v2.0'),
])
def test_plugins_resolve_metering_from_catalog(sim, plugin, suffix):
    cc = clients.make_client(sim, plugin=plugin,
                             auth_url=sim.keystone_url + suffix)
    assert len(cc.samples.list(meter_name='cpu_util', limit=3)) == 3
    session = cc.http_client.session
    endpoint = session.get_endpoint(service_type='metering',
                                    interface='public')
    assert endpoint == sim.ceilometer_url


def test_unversioned_discovery_lists_v3_and_v2(sim):
    import requests
    resp = requests.get(sim.keystone_url + '/', timeout=5)
    assert resp.status_code == 300
    ids = [v['id'] for v in resp.json()['versions']['values']]
    assert ids == ['v3.14', 'v2.0']


def test_v3_token_catalog_and_header(sim):
    session = clients.make_session(sim)
    access = session.auth.get_access(session)
    assert access.project_id == 'admin' and access.role_names == ['admin']
    catalog = {s['type']: s for s in access.service_catalog.catalog}
    metering = catalog['metering']['endpoints']
    assert {e['interface'] for e in metering} == {'public', 'internal',
                                                  'admin'}
    assert {e['url'] for e in metering} == {sim.ceilometer_url}
    assert {e['region'] for e in metering} == {'RegionOne'}
    assert catalog['identity']['endpoints'][0]['url'] == sim.keystone_url
    assert len(access.auth_token) == 32


def test_wrong_password_is_rejected(sim):
    session = clients.make_session(sim, password='wrong')
    with pytest.raises(ks_exc.Unauthorized):
        session.get_token()


def test_v2_wrong_tenant_is_rejected(sim):
    session = clients.make_session(sim, plugin='v2password',
                                   project='p-beta-0002')
    with pytest.raises(ks_exc.Unauthorized):
        session.get_token()


def test_configured_users(sim):
    from ceilometer_export.simulator import Simulator
    users = [{'name': 'ops', 'password': 'pw', 'project': 'p-beta-0002',
              'roles': ['admin']}]
    with Simulator(users=users, samples=[]) as other:
        cc = clients.make_client(other, username='ops', password='pw',
                                 project='p-beta-0002')
        assert cc.samples.list(meter_name='cpu_util') == []
        with pytest.raises(ks_exc.Unauthorized):
            clients.admin(other).samples.list(meter_name='cpu_util')
