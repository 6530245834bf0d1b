"""Keystone v3 and v2.0 password authentication, enough for keystoneauth1.

Routes: ``GET /`` (300 versions document), ``GET /v3``, ``GET /v2.0``,
``POST /v3/auth/tokens`` (password or token method, project scope),
``GET /v3/auth/tokens`` (validation), ``POST /v2.0/tokens``.
"""
import hashlib

from ceilometer_export.simulator.identity import domain_id
from ceilometer_export.simulator import wire

_UPDATED_V3 = '2019-01-22T00:00:00Z'
_UPDATED_V2 = '2014-04-17T00:00:00Z'
_REGION = 'RegionOne'
_V3_MEDIA = [{'base': 'application/json',
              'type': 'application/vnd.openstack.identity-v3+json'}]
_V2_MEDIA = [{'base': 'application/json',
              'type': 'application/vnd.openstack.identity-v2.0+json'}]

_ERRORS = {
    400: ('Bad Request', 'Expecting to find auth in request body.'),
    401: ('Unauthorized', 'The request you have made requires '
                          'authentication.'),
    404: ('Not Found', 'The resource could not be found.'),
    405: ('Method Not Allowed', 'The method is not allowed for the '
                                'requested URL.'),
}


def _iso(value):
    return value.strftime('%Y-%m-%dT%H:%M:%S.000000Z')


def _id(*parts):
    return hashlib.md5('/'.join(parts).encode()).hexdigest()


def error(status, message=None):
    title, default = _ERRORS[status]
    return wire.json_response(status, {'error': {
        'code': status, 'title': title, 'message': message or default}})


class Keystone(object):
    """The identity service; ``urls()`` gives (ceilometer, keystone)."""

    def __init__(self, identity, urls):
        self.identity = identity
        self.urls = urls

    def __call__(self, request):
        response = self._route(request)
        response.header('x-openstack-request-id', wire.request_id())
        response.header('Vary', 'X-Auth-Token')
        return response

    def _route(self, req):
        parts = req.segments()
        routes = {
            ('GET', ()): self._versions,
            ('GET', ('v3',)): lambda r: wire.json_response(
                200, {'version': self._v3_version()}),
            ('GET', ('v2.0',)): lambda r: wire.json_response(
                200, {'version': self._v2_version()}),
            ('POST', ('v3', 'auth', 'tokens')): self._v3_issue,
            ('GET', ('v3', 'auth', 'tokens')): self._v3_validate,
            ('POST', ('v2.0', 'tokens')): self._v2_issue,
        }
        handler = routes.get((req.method, tuple(parts)))
        if handler is not None:
            return handler(req)
        if any(key[1] == tuple(parts) for key in routes):
            return error(405)
        return error(404)

    # -- discovery -----------------------------------------------------------

    def _v3_version(self):
        base = self.urls()[1]
        return {'id': 'v3.14', 'status': 'stable', 'updated': _UPDATED_V3,
                'links': [{'rel': 'self', 'href': base + '/v3/'}],
                'media-types': _V3_MEDIA}

    def _v2_version(self):
        base = self.urls()[1]
        return {'id': 'v2.0', 'status': 'deprecated',
                'updated': _UPDATED_V2,
                'links': [{'rel': 'self', 'href': base + '/v2.0/'},
                          {'rel': 'describedby', 'type': 'text/html',
                           'href': 'https://docs.openstack.org/'}],
                'media-types': _V2_MEDIA}

    def _versions(self, req):
        return wire.json_response(300, {'versions': {'values': [
            self._v3_version(), self._v2_version()]}})

    # -- v3 -------------------------------------------------------------------

    def _v3_issue(self, req):
        try:
            auth = req.json()['auth']
            identity = auth['identity']
        except (ValueError, KeyError, TypeError):
            return error(400)
        candidates = self._v3_candidates(identity)
        if not candidates:
            return error(401)
        token = self._scope(candidates, auth.get('scope'))
        if token is None:
            return error(401)
        body = {'token': self._v3_token_body(token, identity)}
        return wire.json_response(201, body).header('X-Subject-Token',
                                                    token.id)

    def _v3_candidates(self, identity):
        methods = identity.get('methods') or []
        if 'password' in methods:
            user = identity.get('password', {}).get('user', {})
            return self.identity.authenticate(
                user.get('password'), name=user.get('name'),
                user_id=user.get('id'), domain=user.get('domain'))
        if 'token' in methods:
            token = self.identity.lookup(identity.get('token', {}).get('id'))
            if token is not None:
                return [u for u in self.identity.users
                        if u.id == token.user.id]
        return []

    def _scope(self, candidates, scope):
        if not scope:
            user = candidates[0]
            return self.identity.issue(user, user.project)
        project = scope.get('project') or {}
        for user in candidates:
            if project.get('id', project.get('name')) == user.project and (
                    'id' in project or user.in_domain(project.get('domain'))):
                return self.identity.issue(user, user.project)
        return None

    def _v3_token_body(self, token, identity=None):
        user = token.user
        domain = {'id': domain_id(user.domain), 'name': user.domain}
        body = {
            'methods': (identity or {}).get('methods') or ['password'],
            'user': {'domain': domain, 'id': user.id, 'name': user.name,
                     'password_expires_at': None},
            'audit_ids': [token.id[:22]],
            'expires_at': _iso(token.expires_at),
            'issued_at': _iso(token.issued_at),
        }
        if token.project:
            body.update({
                'project': {'domain': domain, 'id': token.project,
                            'name': token.project},
                'is_domain': False,
                'roles': [{'id': r, 'name': r} for r in token.roles],
                'catalog': self._v3_catalog(),
            })
        return body

    def _v3_catalog(self):
        ceilometer, keystone = self.urls()
        return [_v3_service('metering', 'ceilometer', ceilometer),
                _v3_service('identity', 'keystone', keystone)]

    def _v3_validate(self, req):
        if self.identity.lookup(req.headers.get('X-Auth-Token')) is None:
            return error(401)
        token = self.identity.lookup(req.headers.get('X-Subject-Token'))
        if token is None:
            return error(404, 'Could not find token.')
        return wire.json_response(200, {'token': self._v3_token_body(token)})

    # -- v2.0 -----------------------------------------------------------------

    def _v2_issue(self, req):
        try:
            auth = req.json()['auth']
        except (ValueError, KeyError, TypeError):
            return error(400)
        creds = auth.get('passwordCredentials')
        if creds:
            candidates = self.identity.authenticate(
                creds.get('password'), name=creds.get('username'),
                user_id=creds.get('userId'))
        else:
            old = self.identity.lookup((auth.get('token') or {}).get('id'))
            candidates = [u for u in self.identity.users
                          if old is not None and u.id == old.user.id]
        wanted = auth.get('tenantId') or auth.get('tenantName')
        for user in candidates:
            if wanted in (None, user.project):
                token = self.identity.issue(user, user.project)
                return wire.json_response(200, {'access': self._v2_access(
                    token)})
        return error(401)

    def _v2_access(self, token):
        user = token.user
        ceilometer, keystone = self.urls()
        return {
            'token': {'issued_at': _iso(token.issued_at),
                      'expires': _iso(token.expires_at).replace('.000000', ''),
                      'id': token.id, 'audit_ids': [token.id[:22]],
                      'tenant': {'description': None, 'enabled': True,
                                 'id': token.project,
                                 'name': token.project}},
            'serviceCatalog': [
                _v2_service('metering', 'ceilometer', ceilometer),
                _v2_service('identity', 'keystone', keystone + '/v2.0')],
            'user': {'username': user.name, 'roles_links': [],
                     'id': user.id, 'name': user.name,
                     'roles': [{'name': r} for r in token.roles]},
            'metadata': {'is_admin': 0, 'roles': list(token.roles)},
        }


def _v3_service(kind, name, url):
    return {'type': kind, 'name': name, 'id': _id('service', kind),
            'endpoints': [{'id': _id(kind, iface), 'interface': iface,
                           'region': _REGION, 'region_id': _REGION,
                           'url': url}
                          for iface in ('public', 'internal', 'admin')]}


def _v2_service(kind, name, url):
    return {'type': kind, 'name': name, 'endpoints_links': [],
            'endpoints': [{'id': _id(kind, 'v2'), 'region': _REGION,
                           'publicURL': url, 'internalURL': url,
                           'adminURL': url}]}
