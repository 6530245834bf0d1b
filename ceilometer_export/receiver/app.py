"""The receiver's WSGI application (design section 11).

``POST`` to any path: a JSON list of samples (the publisher's
``batch=True``) or one sample object (``batch=False``); answered 200 only
after the transaction holding them committed. ``GET /healthcheck`` and
``GET /metrics`` answer without authentication.
"""

import json

from oslo_log import log

from ceilometer_export import errors
from ceilometer_export import rejects
from ceilometer_export.receiver import auth as auth_mod
from ceilometer_export.receiver import convert
from ceilometer_export.receiver import intake as intake_mod
from ceilometer_export import timeutil

LOG = log.getLogger(__name__)
_JSON = [('Content-Type', 'application/json')]
_TEXT = [('Content-Type', 'text/plain; charset=utf-8')]
# MySQL TEXT holds 64 KiB: a whole unreadable body is kept up to this.
_MAX_RAW_BODY = 60000


class Reply(Exception):
    """An answer decided before the samples are stored."""

    def __init__(self, status, message, outcome=None, headers=()):
        super(Reply, self).__init__(message)
        self.status = status
        self.outcome = outcome
        self.headers = list(headers)


class Receiver(object):
    """``Receiver(store, selector, intake, metrics, credentials,
    max_body_bytes)`` is the WSGI callable."""

    def __init__(self, store, selector, intake, metrics, credentials,
                 max_body_bytes):
        self.store = store
        self.selector = selector
        self.intake = intake
        self.metrics = metrics
        self.credentials = credentials
        self.max_body_bytes = max_body_bytes
        self.stopping = False
        # False while the console script waits for the database at start:
        # every POST is answered 503, the healthcheck says down.
        self.ready = True
        self._down = False

    def __call__(self, environ, start_response):
        method = environ.get('REQUEST_METHOD', 'GET')
        path = environ.get('PATH_INFO') or '/'
        if method in ('GET', 'HEAD') and path == '/healthcheck':
            return self._healthcheck(start_response)
        if method in ('GET', 'HEAD') and path == '/metrics':
            body, content_type = self.metrics.render()
            start_response('200 OK', [('Content-Type', content_type)])
            return [body]
        if method != 'POST':
            return _answer(start_response, '405 Method Not Allowed',
                           {'error': 'POST samples here'},
                           [('Allow', 'POST')])
        try:
            counts = self._receive(environ)
        except Reply as reply:
            if reply.outcome:
                self.metrics.received(reply.outcome)
            return _answer(start_response, reply.status,
                           {'error': str(reply)}, reply.headers)
        LOG.debug('request from %s: %s', environ.get('REMOTE_ADDR', '?'),
                  counts)
        return _answer(start_response, '200 OK', counts)

    def _healthcheck(self, start_response):
        up = self.ready and not self.stopping and self.store.reachable()
        status = '200 OK' if up else '503 Service Unavailable'
        start_response(status, _TEXT)
        return [b'up\n' if up else b'down\n']

    def _receive(self, environ):
        if not self.ready:
            raise Reply('503 Service Unavailable', 'not stored: waiting for '
                        'the database', 'error')
        if not auth_mod.allowed(self.credentials, environ):
            LOG.warning('request from %s refused: wrong or missing '
                        'credentials', environ.get('REMOTE_ADDR', '?'))
            raise Reply('401 Unauthorized', 'authentication required',
                        'unauthorized', [auth_mod.CHALLENGE])
        received_at = timeutil.utcnow()
        body = self._read(environ)
        try:
            pushed, text = _samples_of(body)
        except ValueError as exc:
            self._store_bad_body(body, str(exc), received_at)
            LOG.warning('request from %s refused: %s',
                        environ.get('REMOTE_ADDR', '?'), exc)
            raise Reply('400 Bad Request', str(exc), 'rejected') from None
        return self._store(pushed, received_at,
                           not convert.may_hold_invalid_text(text))

    def _read(self, environ):
        try:
            length = int(environ.get('CONTENT_LENGTH') or 0)
        except ValueError:
            raise Reply('400 Bad Request', 'bad Content-Length') from None
        if length > self.max_body_bytes:
            raise Reply('413 Payload Too Large',
                        'body of %d bytes, more than max_body_bytes (%d)'
                        % (length, self.max_body_bytes), 'rejected')
        stream = environ['wsgi.input']
        if length:
            return stream.read(length)
        if environ.get('HTTP_TRANSFER_ENCODING', '').lower() == 'chunked':
            body = stream.read(self.max_body_bytes + 1)
            if len(body) > self.max_body_bytes:
                raise Reply('413 Payload Too Large', 'body larger than '
                            'max_body_bytes (%d)' % self.max_body_bytes,
                            'rejected')
            return body
        return b''

    def _store(self, pushed, received_at, text_checked):
        rows, rejected, filtered = [], [], 0
        for item in pushed:
            converted = convert.convert(item, received_at, text_checked)
            if converted.rejected:
                if self.selector.may_select(_meter_of(item)):
                    rejected.append(converted.row)
                else:
                    filtered += 1
            elif self.selector.selecting(converted.row['counter_name'],
                                         converted.subject):
                rows.append(converted.row)
            else:
                filtered += 1
        self._submit(rows, rejected)
        self.metrics.received('stored', len(rows))
        self.metrics.received('rejected', len(rejected))
        self.metrics.received('filtered', filtered)
        for row in rejected:
            LOG.warning('pushed sample %s stored in export_rejects: %s',
                        row['message_id'], rejects.reason_of(row))
        return {'stored': len(rows), 'rejected': len(rejected),
                'filtered': filtered}

    def _submit(self, rows, rejected):
        if not rows and not rejected:
            return
        try:
            self.intake.submit(rows, rejected)
        except (errors.StoreError, intake_mod.AnswerTimeout,
                errors.Interrupted) as exc:
            self.metrics.received('error', len(rows) + len(rejected))
            if not self._down:
                LOG.error('pushed samples not stored (answered 503): %s',
                          exc)
            self._down = isinstance(exc, errors.DatabaseUnavailable)
            raise Reply('503 Service Unavailable',
                        'not stored: the database is unavailable') from None
        if self._down:
            LOG.info('the database stores pushed samples again')
            self._down = False

    def _store_bad_body(self, body, problem, received_at):
        text = body.decode('utf-8', 'surrogateescape')
        if len(text) > _MAX_RAW_BODY:
            text = text[:_MAX_RAW_BODY]
            problem += ' (raw truncated to %d characters)' % _MAX_RAW_BODY
        row = rejects.reject_row(text, rejects.OTHER, 'request body: '
                                 + problem)
        try:
            self.intake.submit([], [row])
        except (errors.StoreError, intake_mod.AnswerTimeout,
                errors.Interrupted) as exc:
            LOG.error('an unreadable request body could not be kept in '
                      'export_rejects: %s', exc)


def _samples_of(body):
    """(pushed samples, body text); ValueError when it holds none."""
    if not body.strip():
        raise ValueError('empty body (expected a JSON list of samples)')
    try:
        # surrogateescape: invalid UTF-8 stays visible (and is rejected
        # per sample as invalid Unicode) instead of failing the batch.
        text = body.decode('utf-8', 'surrogateescape')
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError('body is not JSON: %s' % exc) from None
    if isinstance(value, dict):
        return [value], text
    if not isinstance(value, list):
        raise ValueError('body is JSON %s, not a list of samples'
                         % type(value).__name__)
    return value, text


def _meter_of(item):
    name = item.get('name') if isinstance(item, dict) else None
    return name if isinstance(name, str) else None


def _answer(start_response, status, document, headers=()):
    body = json.dumps(document).encode()
    start_response(status, _JSON + list(headers)
                   + [('Content-Length', str(len(body)))])
    return [body]
