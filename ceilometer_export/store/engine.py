"""Engines from the configured URL, and URLs safe to print."""

import sqlalchemy as sa
from sqlalchemy.engine import url as sa_url

from ceilometer_export import errors
from ceilometer_export.store import dialects


def parse_url(text):
    try:
        url = sa_url.make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        # The text may hold a password: never echo it.
        raise errors.ConfigError(
            '[database] connection: not a valid SQLAlchemy URL '
            '(expected e.g. postgresql+psycopg2://user:pass@host/db)'
        ) from None
    dialect = dialects.DIALECTS.get(url.get_backend_name())
    if dialect is None:
        return url
    # The product ships psycopg2 and PyMySQL; a URL without a driver means
    # them (SQLAlchemy alone would pick MySQLdb for mysql://).
    if '+' not in url.drivername:
        url = url.set(drivername=dialect.driver)
    missing = {k: v for k, v in dialect.url_query.items()
               if k not in url.query}
    return url.update_query_dict(missing) if missing else url


def safe(url) -> str:
    """The URL (text or URL object) with everything between '://' and the
    host masked, for logs and messages.

    Done on the text, up to the LAST '@' before the query string: a
    password holding an unencoded '@' (or ':' or '/') is mis-parsed by
    URL parsers, which would then show its tail as part of the host.
    """
    text = url if isinstance(url, str) else url.render_as_string(
        hide_password=False)
    scheme, sep, rest = text.partition('://')
    if not sep:
        return '***'
    authority = rest.split('?', 1)[0]
    if '@' not in authority:
        return text
    return '%s://***@%s' % (scheme, rest[authority.rindex('@') + 1:])


def scrub(message: str, text: str) -> str:
    """A driver's error message without any part of the URL's user info.

    A password with an unencoded '@' is mis-split: the driver then names
    its tail as part of the host ('ret9@127.0.0.1')."""
    rest = text.partition('://')[2]
    authority = rest.split('?', 1)[0]
    if '@' not in authority:
        return message
    userinfo = authority[:authority.rindex('@')]
    tails = {userinfo} | {userinfo[i + 1:] for i, c in enumerate(userinfo)
                          if c in ':@'}
    for tail in sorted(tails, key=len, reverse=True):
        if tail:
            message = message.replace(tail + '@', '***@')
    return message


def make_engine(text):
    url = parse_url(text)
    backend = url.get_backend_name()
    if backend not in dialects.DIALECTS:
        raise errors.ConfigError(
            '[database] connection: unsupported backend %r (use sqlite, '
            'postgresql or mysql)' % backend)
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (ImportError, sa.exc.ArgumentError) as exc:
        raise errors.ConfigError('[database] connection %s: %s'
                                 % (safe(text), exc)) from None
