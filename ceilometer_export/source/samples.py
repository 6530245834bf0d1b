"""API samples (OldSample or Sample JSON) as rows of the samples table.

Everything is checked here, once. A sample that cannot be stored as it is
becomes a *reject row* (see ``rejects``) instead of failing its page: the
rest of the page is stored and the checkpoint moves past it.
"""

import functools
import math

from ceilometer_export import rejects
from ceilometer_export.store import schema
from ceilometer_export import timeutil

# OldSample keys (GET /v2/meters/{name}) -> Sample keys (query API).
_SAMPLE_KEYS = {'message_id': 'id', 'counter_name': 'meter',
                'counter_type': 'type', 'counter_unit': 'unit',
                'counter_volume': 'volume', 'resource_metadata': 'metadata'}
_NAME_FIELDS = ('counter_type', 'counter_unit', 'project_id', 'user_id',
                'source')
# The reason code of a bad field (design section 12); others are 'other'.
_FIELD_REASONS = {'message_id': rejects.MESSAGE_ID,
                  'timestamp': rejects.TIMESTAMP,
                  'recorded_at': rejects.TIMESTAMP,
                  'counter_volume': rejects.VOLUME}


class _Bad(Exception):
    def __init__(self, reason, text):
        super(_Bad, self).__init__(text)
        self.reason = reason


class _TooLong(ValueError):
    pass


def from_old_sample(raw, meter):
    return _convert(raw, meter, _OLD_FIELDS, lambda key: key)


def from_sample(raw, meter, check_text=True):
    """``check_text`` False: the caller knows that no string of ``raw``
    holds text that cannot be stored (see ``rejects.invalid_text``)."""
    return _convert(raw, meter, _FIELDS, lambda key: _SAMPLE_KEYS.get(key,
                                                                      key),
                    check_text)


def _convert(raw, meter, fields, api_key, check_text=True):
    try:
        return _row(raw, meter, fields, check_text)
    except _Bad as bad:
        return rejects.reject_row(raw, bad.reason, str(bad),
                                  *_position(raw, api_key))


def _row(raw, meter, fields, check_text):
    if not isinstance(raw, dict):
        raise _Bad(rejects.OTHER, 'the API returned a %s where a sample '
                   'object was expected' % type(raw).__name__)
    where = rejects.invalid_text(raw) if check_text else None
    if where is not None:
        raise _Bad(rejects.UNICODE, 'field %s: %s' % where)
    row = {}
    for name, key, check in fields:
        try:
            row[name] = check(raw[key])
        except KeyError:
            if key in raw:
                raise
            raise _Bad(_FIELD_REASONS.get(name, rejects.OTHER),
                       'field %r: missing' % key) from None
        except _TooLong as exc:
            raise _Bad(rejects.TOO_LONG, 'field %r: %s' % (key, exc)) \
                from None
        except (TypeError, ValueError) as exc:
            raise _Bad(_FIELD_REASONS.get(name, rejects.OTHER),
                       'field %r: %s' % (key, exc)) from None
    if row['counter_name'] != meter:
        raise _Bad(rejects.OTHER, 'field %r: the API returned meter %r for '
                   'a request on %r' % (fields[1][1], row['counter_name'],
                                        meter))
    return row


def _position(raw, api_key):
    """(message_id, timestamp) of a rejected sample where they are usable,
    else None: paging and the checkpoint then ignore the sample."""
    if not isinstance(raw, dict):
        return None, None
    ident = raw.get(api_key('message_id'))
    try:
        ident = _text(ident, limit=schema.MESSAGE_ID_LENGTH)
        if rejects.invalid_text(ident) is not None:
            ident = None
    except ValueError:
        ident = None
    try:
        stamp = timeutil.parse_api(raw.get('timestamp'))
    except ValueError:
        stamp = None
    return ident, stamp


def _text(value, limit=schema.NAME_LENGTH):
    if not isinstance(value, str) or not value:
        raise ValueError('expected a non-empty string, got %r' % (value,))
    if len(value) > limit:
        raise _TooLong('%d characters, longer than the column (%d)'
                       % (len(value), limit))
    return value


def _volume(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError('expected a number, got %r' % (value,))
    try:
        value = float(value)
    except OverflowError:
        raise ValueError('%r does not fit a double' % (value,)) from None
    if not math.isfinite(value):
        raise ValueError('%r cannot be stored on every backend' % (value,))
    return value


def _metadata(value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError('expected an object, got %s' % type(value).__name__)
    return value


def _optional_text(value):
    return None if value is None else _text(value)


def _optional_timestamp(value):
    return None if value is None else _timestamp(value)


# Polled samples share their timestamp (one per pollster per cycle):
# each distinct text is parsed once. Only strings are remembered (the
# others fail parse_api with its own message).
_parse_cached = functools.lru_cache(maxsize=4096)(timeutil.parse_api)


def _timestamp(value):
    if value.__class__ is str:
        return _parse_cached(value)
    return timeutil.parse_api(value)


# (row column, check) in the order they are checked; the first failing
# one names the reject's reason. Then the same with the API's keys.
_CHECKS = (
    ('message_id', functools.partial(_text,
                                     limit=schema.MESSAGE_ID_LENGTH)),
    ('counter_name', _text),
    ('resource_id', _text),
    ('counter_volume', _volume),
    ('timestamp', _timestamp),
    ('recorded_at', _optional_timestamp),
    ('resource_metadata', _metadata),
) + tuple((name, _optional_text) for name in _NAME_FIELDS)
_OLD_FIELDS = tuple((name, name, check) for name, check in _CHECKS)
_FIELDS = tuple((name, _SAMPLE_KEYS.get(name, name), check)
                for name, check in _CHECKS)
