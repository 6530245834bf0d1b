"""keystoneauth1 sessions and python-ceilometerclient clients for tests."""
from ceilometerclient import client as ceilo_client
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session


def make_session(sim, username='admin', password='secret', project='admin',
                 plugin='password', auth_url=None, timeout=10):
    options = {'username': username, 'password': password}
    if plugin == 'v2password':
        options.update(auth_url=auth_url or sim.keystone_url + '/v2.0',
                       tenant_name=project)
    else:
        options.update(auth_url=auth_url or sim.keystone_url + '/v3',
                       project_name=project, user_domain_name='Default',
                       project_domain_name='Default')
    auth = loading.get_plugin_loader(plugin).load_from_options(**options)
    return ks_session.Session(auth=auth, timeout=timeout)


def make_client(sim, **kwargs):
    """A client resolving the endpoint from the catalog (type metering)."""
    return ceilo_client.get_client('2', session=make_session(sim, **kwargs),
                                   service_type='metering',
                                   interface='public')


def admin(sim, **kwargs):
    return make_client(sim, **kwargs)


def demo(sim, **kwargs):
    return make_client(sim, username='demo', password='demopass',
                       project='p-alpha-0001', **kwargs)


def get(cc, url):
    """Raw GET through the client's session; no exception on >= 400."""
    return cc.http_client.get(url, raise_exc=False)


def post(cc, url, body):
    return cc.http_client.post(url, json=body, raise_exc=False)


def error_of(call, *args, **kwargs):
    """The ceilometerclient exception raised by call(*args, **kwargs)."""
    try:
        call(*args, **kwargs)
    except Exception as exc:
        return exc
    raise AssertionError('no error raised')


def faultstring(exc):
    return exc.details['error_message']['faultstring']
