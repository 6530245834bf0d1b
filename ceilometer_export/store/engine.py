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


def safe(url):
    """The URL with its password masked, for logs and messages."""
    return url.render_as_string(hide_password=True)


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
                                 % (safe(url), exc)) from None
