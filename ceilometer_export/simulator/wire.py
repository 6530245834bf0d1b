"""Transport-neutral request and response objects."""
import json
import urllib.parse
import uuid

JSON_TYPE = 'application/json; charset=UTF-8'


class Request(object):
    def __init__(self, method, target, headers, body=b'', host=None):
        self.method = method
        path, _, query = target.partition('?')
        self.path = path
        self.query_string = query
        self.params = urllib.parse.parse_qs(query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.host = host or headers.get('Host') or 'localhost'

    @property
    def application_url(self):
        return 'http://%s' % self.host

    def segments(self):
        return [urllib.parse.unquote(part)
                for part in self.path.split('/') if part]

    def json(self):
        """Parsed body, None if empty; ValueError if not JSON."""
        if not self.body:
            return None
        return json.loads(self.body.decode('utf-8'))


class Response(object):
    """``action`` tells the transport to 'drop' or 'truncate' the reply."""

    def __init__(self, status, body=b'', content_type=JSON_TYPE,
                 headers=None, action=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = list(headers or [])
        self.action = action

    def header(self, name, value):
        self.headers.append((name, value))
        return self


def json_response(status, data, headers=None):
    body = json.dumps(data).encode('utf-8')
    return Response(status, body, headers=headers)


def request_id():
    return 'req-%s' % uuid.uuid4()
