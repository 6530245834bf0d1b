"""python-ceilometerclient on real keystoneauth1 sessions, for the real API."""
from ceilometerclient import client as ceilo_client
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session

from tools.upstream import api


def session_for(url, token=api.ADMIN_TOKEN):
    """A keystoneauth1 session with a fixed token and endpoint."""
    auth = loading.get_plugin_loader('admin_token').load_from_options(
        endpoint=url, token=token)
    return ks_session.Session(auth=auth, timeout=30)


def client_for(server, token=api.ADMIN_TOKEN):
    """python-ceilometerclient on a real keystoneauth1 session."""
    return ceilo_client.get_client('2', session=session_for(server.url, token),
                                   service_type='metering', interface='public')


def member(project_id):
    """The token of a non-admin member of project_id."""
    return api.project_token(project_id)
