"""Non-admin scoping, Gnocchi mode, complex query switched off."""
import json

import pytest
from ceilometerclient import exc

from ceilometer_export.simulator import Simulator
from tests.functional.simulator import clients

FOREIGN = 'Not Authorized to access project p-beta-0002'


def test_non_admin_sees_only_its_project(demo_cc):
    assert {s.project_id for s in demo_cc.samples.list(
        meter_name='cpu_util', limit=1000)} == {'p-alpha-0001'}
    assert {s.project_id for s in demo_cc.new_samples.list(limit=1000)} \
        == {'p-alpha-0001'}
    assert {s.project_id for s in demo_cc.query_samples.query(limit=1000)} \
        == {'p-alpha-0001'}
    assert {m.project_id for m in demo_cc.meters.list()} == {'p-alpha-0001'}
    assert {r.project_id for r in demo_cc.resources.list()} == {
        'p-alpha-0001'}
    own = demo_cc.samples.list(meter_name='cpu_util', q=[
        {'field': 'project', 'value': 'p-alpha-0001'}], limit=1000)
    assert len(own) == 3 * 24


def test_foreign_project_is_401(demo_cc):
    for call in (
            lambda: demo_cc.samples.list(meter_name='cpu_util', q=[
                {'field': 'project_id', 'value': 'p-beta-0002'}]),
            lambda: demo_cc.new_samples.list(q=[
                {'field': 'project', 'value': 'p-beta-0002'}]),
            lambda: demo_cc.statistics.list('cpu_util', q=[
                {'field': 'project_id', 'value': 'p-beta-0002'}]),
            lambda: demo_cc.query_samples.query(filter=json.dumps(
                {'or': [{'=': {'meter': 'cpu_util'}},
                        {'=': {'project': 'p-beta-0002'}}]}))):
        error = clients.error_of(call)
        assert isinstance(error, exc.HTTPUnauthorized)
        assert error.details == {'error_message': {
            'faultcode': 'Client', 'faultstring': FOREIGN,
            'debuginfo': None}}


def test_admin_sees_every_project(cc):
    projects = {s.project_id for s in cc.samples.list(
        meter_name='cpu_util', limit=1000)}
    assert projects == {'p-alpha-0001', 'p-beta-0002', 'p-gamma-0003'}


def test_sample_by_id_is_not_scoped(cc, demo_cc):
    beta = cc.new_samples.list(q=[{'field': 'project', 'value':
                                   'p-beta-0002'}], limit=1)[0]
    assert demo_cc.new_samples.get(beta.id).project_id == 'p-beta-0002'


@pytest.mark.parametrize('call', [
    lambda cc: cc.samples.list(meter_name='cpu_util'),
    lambda cc: cc.new_samples.list(),
    lambda cc: cc.meters.list(),
    lambda cc: cc.resources.list(),
    lambda cc: cc.query_samples.query(),
    lambda cc: cc.statistics.list('cpu_util'),
])
def test_gnocchi_mode_is_410(call):
    with Simulator(samples=[], gnocchi=True) as sim:
        cc = clients.admin(sim)
        error = clients.error_of(call, cc)
        assert error.code == 410
        message = error.details['error_message']['message']
        assert 'configured to use Gnocchi' in message
        # GET / and capabilities still answer.
        assert clients.get(cc, '/v2/capabilities').status_code == 200
        sim.gnocchi = False
        call(cc)


def test_complex_query_switch():
    with Simulator(samples=[], complex_query=False) as sim:
        cc = clients.admin(sim)
        caps = cc.capabilities.get().api
        assert caps['samples:query:complex'] is False
        error = clients.error_of(cc.query_samples.query, limit=5)
        assert isinstance(error, exc.HTTPNotImplemented)
        assert clients.faultstring(error) == \
            'Complex query for samples is not implemented.'
        assert error.details['error_message']['faultcode'] == 'Server'
        sim.complex_query = True
        assert cc.capabilities.get().api['samples:query:complex'] is True
        assert cc.query_samples.query(limit=5) == []


def test_unknown_path_and_method(cc):
    resp = clients.get(cc, '/v2/nothing')
    assert resp.status_code == 404
    assert resp.json()['error_message']['code'] == '404 Not Found'
    resp = clients.get(cc, '/v2/query/samples')
    assert resp.status_code == 405
