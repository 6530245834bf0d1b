"""Error responses, each in the shape its real producer emits.

- WSME controller errors: ``{"error_message": {"faultcode", "faultstring",
  "debuginfo"}}`` (faultcode Client for 4xx, Server for 5xx).
- pecan.abort / routing errors (404, 405, 410): the WebOb JSON error page
  wrapped by ceilometer's ParsableErrorMiddleware, i.e. ``{"error_message":
  {"code": "410 Gone", "message": ..., "title": "Gone"}}`` (inferred from the
  WebOb and pecan sources, see ceilometer-v2-api.md section 1.4).
- keystonemiddleware's 401, which has its own body and no envelope.
"""

GNOCCHI_DETAIL = ("This telemetry installation is configured to use "
                  "Gnocchi. Please use the Gnocchi API available on "
                  "the metric endpoint to retrieve data.")

_WEBOB = {
    400: ('Bad Request', 'The server could not comply with the request '
                         'since\r\nit is either malformed or otherwise '
                         'incorrect.\r\n'),
    404: ('Not Found', 'The resource could not be found.'),
    405: ('Method Not Allowed',
          'The method %(method)s is not allowed for this resource.'),
    410: ('Gone', 'This resource is no longer available.  No forwarding '
                  'address is given.'),
}

KEYSTONE_401 = {'error': {'code': 401, 'title': 'Unauthorized',
                          'message': 'The request you have made requires '
                                     'authentication.'}}


class ApiError(Exception):
    """An error the API answers with a WSME fault envelope."""

    def __init__(self, status, faultstring):
        super(ApiError, self).__init__(faultstring)
        self.status = status
        self.faultstring = faultstring

    def body(self):
        return fault_body(self.status, self.faultstring)


class ClientError(ApiError):
    def __init__(self, faultstring, status=400):
        super(ClientError, self).__init__(status, faultstring)


class ServerError(ApiError):
    def __init__(self, faultstring, status=500):
        super(ServerError, self).__init__(status, faultstring)


class PecanAbort(ApiError):
    """An error raised outside WSME: WebOb's JSON error page."""

    def __init__(self, status, detail='', method='GET'):
        super(PecanAbort, self).__init__(status, detail)
        self.method = method

    def body(self):
        title, explanation = _WEBOB[self.status]
        explanation = explanation % {'method': self.method}
        message = '%s<br /><br />\n%s\n\n' % (explanation, self.faultstring)
        return {'error_message': {'message': message,
                                  'code': '%d %s' % (self.status, title),
                                  'title': title}}


def fault_body(status, faultstring):
    return {'error_message': {
        'faultcode': 'Client' if status < 500 else 'Server',
        'faultstring': faultstring,
        'debuginfo': None}}


def invalid_input(field, value, msg):
    """wsme.exc.InvalidInput."""
    return ClientError("Invalid input for field/attribute %s. Value: '%s'. %s"
                       % (field, value, msg))


def unknown_argument(name, msg=''):
    """wsme.exc.UnknownArgument."""
    return ClientError('Unknown argument: "%s"%s'
                       % (name, msg and ': ' + msg or ''))


def not_authorized(project):
    return ClientError('Not Authorized to access project %s' % (project,),
                       status=401)


def not_implemented(message):
    return ServerError(message, status=501)
