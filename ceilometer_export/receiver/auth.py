"""HTTP Basic authentication of the publisher.

Ceilometer's publisher sends the ``user:pass@`` of its URL literally
(it does not percent-decode them), so both are limited to characters that
stand in a URL's userinfo unencoded.
"""

import base64
import binascii
import dataclasses
import hmac
import re

CHALLENGE = ('WWW-Authenticate', 'Basic realm="ceilometer-export"')
# RFC 3986 unreserved and sub-delims: what userinfo holds unencoded.
_URL_SAFE = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=-]+")


@dataclasses.dataclass(frozen=True)
class Credentials:
    username: bytes
    password: bytes


def from_options(username, password):
    """Credentials, None when auth is off; ValueError naming the option."""
    if not username and not password:
        return None
    for name, value in (('username', username), ('password', password)):
        if not value:
            raise ValueError('[receiver] %s: must be set with the other '
                             '(the publisher sends both or neither)' % name)
        if not _URL_SAFE.fullmatch(value):
            raise ValueError("[receiver] %s: only letters, digits and "
                             "._~!$&'()*+,;=- are allowed (the publisher "
                             "sends the URL's user:pass literally)" % name)
    return Credentials(username.encode(), password.encode())


def allowed(credentials, environ):
    """True when auth is off or the request carries these credentials;
    the comparison takes the same time whatever the mismatch."""
    if credentials is None:
        return True
    header = environ.get('HTTP_AUTHORIZATION', '')
    scheme, _, encoded = header.partition(' ')
    if scheme.lower() != 'basic':
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    user, sep, password = decoded.partition(b':')
    same_user = hmac.compare_digest(user, credentials.username)
    same_password = hmac.compare_digest(password, credentials.password)
    return bool(sep) and same_user and same_password
