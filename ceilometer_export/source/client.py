"""The Ceilometer v2 API through keystoneauth1 and python-ceilometerclient.

Every call is retried with capped exponential backoff and jitter when
retrying can help (5xx, 429, timeouts, dropped connections, unreadable
bodies) and raised as FatalSourceError at once when it cannot (410 Gone,
credentials rejected after keystoneauth's own re-authentication, a request
the API refuses). The client object is built lazily and rebuilt after a
failure, because its constructor already talks to the API.
"""

import json
import random
import re
import urllib.parse

from ceilometerclient import client as cc_client
from ceilometerclient import exc as cc_exc
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading as ks_loading
from oslo_log import log
import requests

from ceilometer_export import errors
from ceilometer_export import observer as observer_mod
from ceilometer_export import opts
from ceilometer_export import timings

LOG = log.getLogger(__name__)

_CAPABILITIES = 'GET /v2/capabilities'
_SURROGATE = re.compile('[\udc80-\udcff]')
_ORDER_BY = [{'timestamp': 'asc'}, {'message_id': 'asc'}]
_NOT_AUTHORIZED = 'Not Authorized to access project'
_RETRIABLE_STATUS = frozenset((429, 500, 502, 503, 504))
_FATAL_HINTS = {
    401: 'credentials rejected after re-authentication: check '
         '[service_credentials]',
    403: 'access refused: the user needs a role that may read every '
         'project (admin)',
    410: 'this cloud stores telemetry in Gnocchi, the Ceilometer v2 sample '
         'API is disabled (410 Gone)',
    501: 'not implemented by this Ceilometer storage driver (set [ceilometer] '
         'query_mode = simple if the complex query API is missing)',
}


def load_session(conf):
    """A keystoneauth1 session from [service_credentials]; no network I/O.

    Raises ConfigError when the auth options are incomplete.
    """
    group = opts.CREDENTIALS_GROUP
    try:
        auth = ks_loading.load_auth_from_conf_options(conf, group)
        if auth is None:
            raise errors.ConfigError(
                '[%s] auth_type: required (e.g. password, v2password, '
                'token, none)' % group)
        _check_required(conf, group)
        session = ks_loading.load_session_from_conf_options(conf, group,
                                                            auth=auth)
    except (ks_exc.MissingRequiredOptions,
            ks_exc.NoMatchingPlugin) as exc:
        raise errors.ConfigError('[%s] %s' % (group, exc)) from None
    session.session.hooks['response'].append(_escape_invalid_utf8)
    return session


def _escape_invalid_utf8(response, **kwargs):
    """Bytes that are not UTF-8 as JSON \\udcXX escapes (lone surrogates).

    requests would decode them as U+FFFD, silently replacing data; this
    way the sample that holds them is rejected with its raw text intact.
    """
    body = response.content
    try:
        body.decode('utf-8')
    except UnicodeDecodeError:
        text = body.decode('utf-8', 'surrogateescape')
        response._content = _SURROGATE.sub(
            lambda m: '\\u%04x' % ord(m.group()), text).encode('utf-8')
    return response


def _check_required(conf, group):
    """A missing secret or name is an error now, not a traceback from
    the plugin at the first request."""
    section = conf[group]
    loader = ks_loading.get_plugin_loader(section.auth_type)
    for opt in loader.get_options():
        if (opt.required or opt.prompt) and not section[opt.dest]:
            raise errors.ConfigError(
                '[%s] %s: required for auth_type = %s'
                % (group, opt.dest, section.auth_type))
    names = {o.dest for o in loader.get_options()}
    if {'username', 'user_id'} <= names \
            and not (section.username or section.user_id):
        raise errors.ConfigError('[%s] username: required for auth_type = %s'
                                 % (group, section.auth_type))


class ApiClient(object):

    def __init__(self, conf, wait, session=None, observer=None):
        self._conf = conf
        self._wait = wait
        self._session = session or load_session(conf)
        self._client = None
        self.breaker = Breaker()
        # The pages' hot path: plain keystoneauth (no client-side JSON
        # decoding, which the client's adapter does once more).
        self._adapter = ks_adapter.Adapter(
            user_agent='ceilometer-export', **self._endpoint())
        self._observer = observer or observer_mod.Observer()
        # How long one request may take before it times out, plus a
        # margin: the watchdog counts a request within it as progress.
        self._allowance = (request_timeout(conf) or 60.0) + 5.0

    # Calls ----------------------------------------------------------------
    def capabilities(self):
        return self._call(_CAPABILITIES, lambda c: c.capabilities
                          .get().to_dict())

    def meter_names(self, limit, q=None):
        meters = self._call('GET /v2/meters?unique=True',
                            lambda c: c.meters.list(q=q, unique=True,
                                                    limit=limit))
        return [m.name for m in meters]

    def query_samples(self, filter_expr, limit):
        """(page, may hold invalid text): the page as decoded JSON, from
        the request ``query_samples.query`` sends, through keystoneauth,
        but decoded once and without wrapping each sample in an object;
        failures raise the client's exceptions, as there."""
        body = {'filter': json.dumps(filter_expr), 'limit': limit,
                'orderby': json.dumps(_ORDER_BY)}

        def post(client):
            with timings.measure('fetch'):
                resp = self._adapter.request(
                    '/v2/query/samples', 'POST', json=body, raise_exc=False,
                    headers={'Accept': 'application/json'})
                if resp.status_code >= 400:
                    raise cc_exc.from_response(resp, _body_or_none(resp))
                page = resp.json()
            if not isinstance(page, list):
                raise ValueError('expected a list of samples, got %s'
                                 % type(page).__name__)
            return page, _may_hold_invalid_text(resp.content)
        return self._call('POST /v2/query/samples', post)

    def list_samples(self, meter, q, limit):
        # The client puts the name in the path unquoted.
        name = urllib.parse.quote(meter, safe='')

        def get(client):
            with timings.measure('fetch'):
                return [_json(s) for s in client.samples.list(
                    meter_name=name, q=q, limit=limit)]
        return self._call('GET /v2/meters/%s' % name, get)

    def first_timestamp(self, meter, q):
        name = urllib.parse.quote(meter, safe='')
        stats = self._call('GET /v2/meters/%s/statistics' % name,
                           lambda c: c.statistics.list(name, q=q))
        return stats[0].duration_start if stats else None

    def statistics(self, meter, q, period):
        """Statistics dicts (``period_start``, ``count``, ...) per period."""
        name = urllib.parse.quote(meter, safe='')
        return self._call('GET /v2/meters/%s/statistics' % name, lambda c: [
            _json(s) for s in c.statistics.list(name, q=q, period=period)])

    # Machinery ------------------------------------------------------------
    def _build(self):
        return cc_client.get_client('2', **self._endpoint())

    def _endpoint(self):
        section = self._conf[opts.CREDENTIALS_GROUP]
        kwargs = {'session': self._session, 'service_type': 'metering',
                  'interface': section.interface}
        if section.region_name:
            kwargs['region_name'] = section.region_name
        if self._conf.ceilometer.endpoint_override:
            kwargs['endpoint_override'] = \
                self._conf.ceilometer.endpoint_override
        return kwargs

    def _call(self, what, request):
        self.breaker.check(what)
        retries = self._conf.ceilometer.max_retries
        for attempt in range(retries + 1):
            self._observer.busy('request', self._allowance)
            try:
                if self._client is None:
                    self._client = self._build()
                return request(self._client)
            except Exception as exc:
                failure = classify(what, exc)
                self._observer.api_error(error_kind(exc))
            self._client = None
            if isinstance(failure, errors.FatalSourceError):
                raise failure
            if attempt == retries:
                self._probe(what, failure)
                raise failure
            delay = self._backoff(attempt)
            LOG.warning('%s; retry %d of %d in %.1f s', failure,
                        attempt + 1, retries, delay)
            self._observer.busy('backoff', delay + self._allowance)
            if self._wait(delay):
                raise errors.Interrupted(str(failure))

    def _probe(self, what, failure):
        """Is the endpoint down, or was only this request broken?"""
        if what != _CAPABILITIES:
            try:
                if self._client is None:
                    self._client = self._build()
                self._client.capabilities.get()
                return
            except Exception:
                self._client = None
        self.breaker.open(failure)

    def _backoff(self, attempt):
        section = self._conf.ceilometer
        cap = min(section.max_retry_delay, section.retry_delay * 2 ** attempt)
        # Jitter keeps several workers from retrying in lock-step.
        return cap * random.uniform(0.5, 1.0)


class Breaker(object):
    """One retry ladder per pass while the API is down.

    After a request exhausted its retries, the API is probed once (GET
    /v2/capabilities, one attempt): if that fails too, the endpoint is
    taken as down and every further request of the pass fails at once,
    without being sent. If it answers, only that request was broken (one
    meter failing) and the others go on normally.
    """

    def __init__(self):
        self.start_pass()

    def start_pass(self):
        self.cause = None

    def check(self, what):
        if self.cause is not None:
            raise errors.SourceError('%s: not sent, the API is down this '
                                     'pass (%s)' % (what, self.cause))

    def open(self, failure):
        LOG.error('the API is down (%s): the other requests of this pass '
                  'fail without being sent', failure)
        self.cause = failure


def _may_hold_invalid_text(body):
    """Whether a JSON body can decode to text that cannot be stored (NUL,
    lone surrogates): only its escapes can produce them (JSON forbids raw
    control characters, and invalid UTF-8 became \\udcXX escapes)."""
    # One scan when the body holds no escape at all (the common case).
    return b'\\u' in body and (
        b'\\u0000' in body or b'\\ud' in body or b'\\uD' in body)


def _body_or_none(resp):
    try:
        return resp.json()
    except ValueError:
        return None


def request_timeout(conf):
    """[service_credentials] timeout (seconds), or None."""
    return conf[opts.CREDENTIALS_GROUP].timeout


def error_kind(exc) -> str:
    """The api_errors_total ``kind`` of a failed request."""
    status = getattr(exc, 'code', None) or getattr(exc, 'http_status', None)
    if isinstance(exc, (ks_exc.ConnectTimeout, requests.Timeout)) \
            or isinstance(exc, ks_exc.RequestTimeout):
        return 'timeout'
    if isinstance(exc, (ks_exc.Unauthorized, ks_exc.AuthorizationFailure)) \
            or status in (401, 403):
        return 'auth'
    if isinstance(status, int):
        return 'http_5xx' if status >= 500 else 'http_4xx'
    if isinstance(exc, (ks_exc.ConnectionError, requests.RequestException,
                        ks_exc.DiscoveryFailure)):
        return 'connection'
    return 'bad_body'


def _json(resource):
    # The parsed JSON the client wraps. to_dict() deep-copies it, which
    # costs more than all the rest of a page's parsing; the body is ours.
    return resource._info


def classify(what, exc):
    """The SourceError (fatal or retriable) for an exception of a call."""
    if isinstance(exc, cc_exc.HTTPException):
        return _http_failure(what, exc.code, _faultstring(exc.details))
    if isinstance(exc, ks_exc.HttpError):
        return _http_failure(what, exc.http_status, exc.message)
    if isinstance(exc, (ks_exc.EndpointNotFound, ks_exc.NoMatchingPlugin)):
        return errors.FatalSourceError(
            '%s: no "metering" endpoint in the catalog (%s); set '
            '[ceilometer] endpoint_override' % (what, exc))
    if isinstance(exc, (ks_exc.ConnectionError, ks_exc.DiscoveryFailure,
                        requests.RequestException)):
        return errors.SourceError('%s: %s: %s'
                                  % (what, type(exc).__name__, exc))
    if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):
        # Non-JSON or truncated bodies surface as these from the client.
        return errors.SourceError('%s: unreadable API response (%s: %s)'
                                  % (what, type(exc).__name__, exc))
    raise exc


def _http_failure(what, status, detail):
    text = '%s: HTTP %s%s' % (what, status, ': %s' % detail if detail else '')
    if status in _RETRIABLE_STATUS or status is None:
        return errors.SourceError(text)
    if status == 404:
        # Unknown meters are 200 []; a 404 on a list means an empty or
        # broken body from something between us and the API.
        return errors.SourceError(text + ' (empty or unexpected response)')
    if status == 401 and (detail or '').startswith(_NOT_AUTHORIZED):
        # Policy, not an expired token (keystoneauth re-authenticated
        # once already): retrying or re-authenticating cannot help.
        return errors.MappingRefused(text)
    hint = _FATAL_HINTS.get(status, 'the API refused the request')
    return errors.FatalSourceError('%s (%s)' % (text, hint))


def _faultstring(details):
    if isinstance(details, dict):
        inner = details.get('error_message') or details.get('error')
        if isinstance(inner, dict):
            return inner.get('faultstring') or inner.get('message')
        if inner:
            return str(inner)
    return None
