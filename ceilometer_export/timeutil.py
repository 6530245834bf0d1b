"""Timestamps as the Ceilometer v2 API emits and accepts them.

The API emits naive UTC ``datetime.isoformat()`` strings and drops (does not
convert) any offset it is sent, so everything here is naive UTC and every
user-supplied offset is converted before it can reach the API.
"""

import datetime
import re

_API_FORMAT = re.compile(
    r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?$')
UTC = datetime.timezone.utc


def parse_api(value):
    """Parse a timestamp as the API emits it; ValueError otherwise."""
    if not isinstance(value, str) or not _API_FORMAT.match(value):
        raise ValueError('not an API timestamp: %r' % (value,))
    return datetime.datetime.fromisoformat(value)


def format_api(value):
    """The exact form the API emits, which it also parses back exactly."""
    return value.isoformat()


def format_utc(value):
    """ISO 8601 with 'Z', for people and scripts (None stays None)."""
    return None if value is None else value.isoformat() + 'Z'


def parse_user(value):
    """Parse ISO 8601 from a user (config, CLI); an offset becomes UTC."""
    try:
        parsed = datetime.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError('%r is not an ISO 8601 date/time '
                         '(e.g. 2024-01-31T00:00:00Z)' % value) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def utcnow():
    return datetime.datetime.now(UTC).replace(tzinfo=None)
