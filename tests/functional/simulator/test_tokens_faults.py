"""Token checks on every path, expiry and re-auth, injected faults."""
import pytest
import requests
from ceilometerclient import exc
from keystoneauth1 import exceptions as ks_exc

from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients

KEYSTONE_401 = {'error': {'code': 401, 'title': 'Unauthorized',
                          'message': 'The request you have made requires '
                                     'authentication.'}}


@pytest.mark.parametrize('path', ['/', '/v2/capabilities', '/v2/samples',
                                  '/v2/nothing'])
@pytest.mark.parametrize('token', [None, 'bogus'])
def test_every_path_needs_a_token(sim, path, token):
    headers = {'X-Auth-Token': token} if token else {}
    resp = requests.get(sim.ceilometer_url + path, headers=headers,
                        timeout=5)
    assert resp.status_code == 401
    assert resp.json() == KEYSTONE_401
    assert resp.headers['WWW-Authenticate'] == \
        "Keystone uri='%s'" % sim.keystone_url
    assert resp.headers['x-openstack-request-id'].startswith('req-')


def test_version_document_needs_and_accepts_a_token(sim, cc):
    resp = clients.get(cc, sim.ceilometer_url + '/')
    assert resp.status_code == 200
    version = resp.json()['versions']['values'][0]
    assert version['id'] == 'v2' and version['links'][0]['href'] == \
        sim.ceilometer_url + '/v2'


def _statuses(sim):
    return [entry['status'] for entry in sim.request_log]


def test_expired_tokens_get_401_then_keystoneauth_reauthenticates():
    with Simulator(samples=[]) as sim:
        cc = clients.admin(sim)
        cc.new_samples.list()
        old = cc.http_client.session.get_token()
        sim.expire_tokens()
        sim.request_log.clear()
        assert cc.new_samples.list() == []
        assert _statuses(sim) == [401, 200]
        assert cc.http_client.session.get_token() != old


def test_token_max_uses():
    with Simulator(samples=[], token_max_uses=2) as sim:
        cc = clients.admin(sim)
        for _ in range(3):
            cc.new_samples.list()
        assert _statuses(sim) == [200, 200, 401, 200]


def test_token_ttl_is_advertised_and_enforced():
    with Simulator(samples=[], token_ttl=0.5) as sim:
        session = clients.make_session(sim)
        access = session.auth.get_access(session)
        lifetime = access.expires - access.issued
        assert lifetime.total_seconds() <= 1   # keystone drops the fraction
        import time
        time.sleep(0.6)
        resp = requests.get(sim.ceilometer_url + '/', timeout=5, headers={
            'X-Auth-Token': access.auth_token})
        assert resp.status_code == 401


@pytest.fixture
def fresh():
    with Simulator(samples=None) as sim:
        yield sim, clients.admin(sim, timeout=2)


def test_fail_next_statuses(fresh):
    sim, cc = fresh
    sim.faults.fail_next(1, 503)
    error = clients.error_of(cc.new_samples.list)
    assert isinstance(error, exc.HTTPServiceUnavailable)
    assert error.details is None      # HTML from the load balancer
    sim.faults.fail_next(1, status=500)
    error = clients.error_of(cc.new_samples.list)
    assert isinstance(error, exc.HTTPInternalServerError)
    assert error.details['error_message']['faultcode'] == 'Server'
    sim.faults.fail_next(1, 429)
    assert clients.error_of(cc.new_samples.list).code == 429
    assert len(cc.new_samples.list(limit=3)) == 3
    assert [e['fault'] for e in sim.request_log[-4:]] == [
        'error', 'error', 'error', None]


def test_drop(fresh):
    sim, cc = fresh
    sim.faults.fail_next(1, 'drop')
    error = clients.error_of(cc.new_samples.list)
    assert isinstance(error, ks_exc.ConnectFailure)
    assert len(cc.new_samples.list(limit=2)) == 2


def test_truncate_and_nonjson(fresh):
    sim, cc = fresh
    for kind in ('truncate', 'nonjson'):
        sim.faults.fail_next(1, kind)
        error = clients.error_of(cc.new_samples.list)
        assert isinstance(error, ValueError)
    sim.faults.fail_next(1, 'truncate')
    resp = clients.get(cc, '/v2/samples?limit=10')
    assert resp.status_code == 200
    full = clients.get(cc, '/v2/samples?limit=10')
    assert full.content.startswith(resp.content)
    assert len(resp.content) == len(full.content) // 2


def test_delay_past_the_client_timeout(fresh):
    sim, cc = fresh
    sim.faults.fail_next(1, 'delay', delay=3)
    error = clients.error_of(cc.new_samples.list)
    assert isinstance(error, ks_exc.ConnectTimeout)
    assert len(cc.new_samples.list(limit=2)) == 2


def test_random_faults_are_seeded():
    def run(seed):
        with Simulator(samples=[]) as sim:
            sim.faults.seed = seed
            sim.faults.error_rate = 0.5
            cc = clients.admin(sim)
            outcomes = []
            for _ in range(30):
                try:
                    cc.new_samples.list()
                    outcomes.append(200)
                except exc.HTTPException as error:
                    outcomes.append(error.code)
            return outcomes
    first = run(7)
    assert first == run(7)
    assert set(first) == {200, 500, 503}
    assert first != run(8)


def test_keystone_is_never_faulted():
    with Simulator(samples=[]) as sim:
        sim.faults.error_rate = 1.0
        session = clients.make_session(sim)
        assert session.get_token()
        error = clients.error_of(clients.admin(sim).new_samples.list)
        assert error.code in (500, 503)
