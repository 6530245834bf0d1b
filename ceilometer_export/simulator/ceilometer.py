"""The Ceilometer API service: the paste pipeline in front of the controllers.

Order per request, like ``request_id authtoken api-server`` behind a load
balancer: injected faults first, then the token check (every path, ``/``
included), then Gnocchi mode and routing, then the controller.
"""
import json
import logging
import time

from ceilometer_export.simulator import endpoints
from ceilometer_export.simulator import errors
from ceilometer_export.simulator import identity as identity_mod
from ceilometer_export.simulator import model
from ceilometer_export.simulator import wire

LOG = logging.getLogger(__name__)

_LB_503 = (b'<html><body><h1>503 Service Unavailable</h1>\n'
           b'No server is available to handle this request.\n'
           b'</body></html>\n')
_NONJSON = (b'<!DOCTYPE html>\n<html><head><title>Maintenance</title></head>'
            b'<body><p>The service is down for maintenance.</p></body>'
            b'</html>\n')

# (method, path pattern) -> handler; '*' is one path segment.
ROUTES = {
    ('GET', ()): endpoints.version,
    ('GET', ('v2', 'capabilities')): endpoints.capabilities,
    ('GET', ('v2', 'meters')): endpoints.meters,
    ('GET', ('v2', 'meters', '*')): endpoints.meter_samples,
    ('POST', ('v2', 'meters', '*')): endpoints.create_samples,
    ('GET', ('v2', 'meters', '*', 'statistics')): endpoints.meter_statistics,
    ('GET', ('v2', 'samples')): endpoints.samples,
    ('GET', ('v2', 'samples', '*')): endpoints.sample_by_id,
    ('POST', ('v2', 'query', 'samples')): endpoints.query_samples,
    ('GET', ('v2', 'resources')): endpoints.resources,
    ('GET', ('v2', 'resources', '*')): endpoints.resource_one,
}


def _match(pattern, parts):
    if len(pattern) != len(parts):
        return None
    values = []
    for want, got in zip(pattern, parts):
        if want == '*':
            values.append(got)
        elif want != got:
            return None
    return values


def route(method, parts):
    """(handler, path values); PecanAbort 404/405 when nothing matches."""
    allowed = False
    for (verb, pattern), handler in ROUTES.items():
        values = _match(pattern, parts)
        if values is None:
            continue
        if verb == method:
            return handler, values
        allowed = True
    if allowed:
        raise errors.PecanAbort(405, method=method)
    raise errors.PecanAbort(404)


class CeilometerApi(object):
    def __init__(self, store, identity, faults, options, keystone_url,
                 request_log):
        self.store = store
        self.identity = identity
        self.faults = faults
        self.options = options
        self.keystone_url = keystone_url
        self.request_log = request_log

    def __call__(self, req):
        try:
            body = req.json()
        except ValueError:
            body = None
        fault = self.faults.for_request(req.segments(), body)
        if fault is not None and fault.kind == 'delay':
            time.sleep(fault.delay)
        if fault is not None and fault.kind in ('error', 'drop'):
            response = self._fault_response(fault)
        else:
            response = self._serve(req)
            if fault is not None and fault.kind == 'truncate':
                response.body = response.body[:len(response.body) // 2]
            elif fault is not None and fault.kind == 'nonjson':
                response = wire.Response(200, _NONJSON, 'text/html')
        response.header('x-openstack-request-id', wire.request_id())
        self._log(req, response, fault)
        return response

    def _fault_response(self, fault):
        if fault.kind == 'drop':
            return wire.Response(None, action='drop')
        if fault.status == 503:
            return wire.Response(503, _LB_503, 'text/html')
        return wire.json_response(fault.status, errors.fault_body(
            fault.status, 'Injected fault (simulator)'))

    def _log(self, req, response, fault):
        try:
            body = req.json()
        except ValueError:
            body = req.body.decode('utf-8', 'replace')
        self.request_log.append({
            'method': req.method, 'path': req.path, 'query': req.params,
            'body': body, 'status': response.status,
            'fault': fault.kind if fault is not None else None})

    def _serve(self, req):
        token = self.identity.use(req.headers.get('X-Auth-Token'))
        if token is None and self.options.noauth:
            # No authtoken in the pipeline: no X-Roles, no X-Project-Id,
            # and Ceilometer's segregation then limits nothing.
            token = identity_mod.ANONYMOUS
        elif token is None or not token.project:
            return self._unauthorized()
        ctx = endpoints.Context(self.store, self.options, token,
                                req.application_url)
        try:
            status, data = self._dispatch(ctx, req)
        except errors.ApiError as exc:
            return wire.json_response(exc.status, exc.body())
        except Exception as exc:
            LOG.exception('simulator bug serving %s %s', req.method, req.path)
            return wire.json_response(500, errors.fault_body(500, str(exc)))
        if isinstance(data, model.RawJson):
            return wire.Response(status, bytes(data))
        return wire.Response(status, json.dumps(data).encode('utf-8'))

    def _unauthorized(self):
        return wire.json_response(401, errors.KEYSTONE_401, headers=[
            ('WWW-Authenticate', "Keystone uri='%s'" % self.keystone_url())])

    def _dispatch(self, ctx, req):
        parts = req.segments()
        self._check_gnocchi(req, parts)
        handler, values = route(req.method, parts)
        return handler(ctx, req, *values)

    def _check_gnocchi(self, req, parts):
        if not self.options.gnocchi or parts[:1] != ['v2'] or len(parts) < 2:
            return
        kind = parts[1]
        if kind == 'meters' and req.method == 'POST':
            direct = req.params.get('direct', [''])[-1]
            if direct.lower() in ('1', 't', 'true', 'on', 'y', 'yes'):
                raise errors.PecanAbort(
                    400, 'direct option cannot be true when Gnocchi is '
                         'enabled.')
            return
        if kind in ('meters', 'resources', 'samples') or (
                kind == 'query' and parts[2:3] == ['samples']):
            raise errors.PecanAbort(410, errors.GNOCCHI_DETAIL)
