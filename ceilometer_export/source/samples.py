"""API samples (OldSample or Sample JSON) as rows of the samples table.

Everything is checked here, once. A sample that cannot be stored as it is
becomes a *reject row* (see ``rejects``) instead of failing its page: the
rest of the page is stored and the checkpoint moves past it.
"""

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
    return _convert(raw, meter, lambda key: key)


def from_sample(raw, meter, check_text=True):
    """``check_text`` False: the caller knows that no string of ``raw``
    holds text that cannot be stored (see ``rejects.invalid_text``)."""
    return _convert(raw, meter, lambda key: _SAMPLE_KEYS.get(key, key),
                    check_text)


def _convert(raw, meter, api_key, check_text=True):
    try:
        return _row(raw, meter, api_key, check_text)
    except _Bad as bad:
        return rejects.reject_row(raw, bad.reason, str(bad),
                                  *_position(raw, api_key))


def _row(raw, meter, api_key, check_text):
    if not isinstance(raw, dict):
        raise _Bad(rejects.OTHER, 'the API returned a %s where a sample '
                   'object was expected' % type(raw).__name__)
    where = rejects.invalid_text(raw) if check_text else None
    if where is not None:
        raise _Bad(rejects.UNICODE, 'field %s: %s' % where)

    def field(name, check, **kw):
        key = api_key(name)
        if key not in raw:
            raise _Bad(_FIELD_REASONS.get(name, rejects.OTHER),
                       'field %r: missing' % key)
        try:
            return check(raw[key], **kw)
        except _TooLong as exc:
            raise _Bad(rejects.TOO_LONG, 'field %r: %s' % (key, exc)) \
                from None
        except (TypeError, ValueError) as exc:
            raise _Bad(_FIELD_REASONS.get(name, rejects.OTHER),
                       'field %r: %s' % (key, exc)) from None

    row = {
        'message_id': field('message_id', _text,
                            limit=schema.MESSAGE_ID_LENGTH),
        'counter_name': field('counter_name', _text),
        'resource_id': field('resource_id', _text),
        'counter_volume': field('counter_volume', _volume),
        'timestamp': field('timestamp', timeutil.parse_api),
        'recorded_at': field('recorded_at', _optional,
                             parse=timeutil.parse_api),
        'resource_metadata': field('resource_metadata', _metadata),
    }
    for name in _NAME_FIELDS:
        row[name] = field(name, _optional, parse=_text)
    if row['counter_name'] != meter:
        raise _Bad(rejects.OTHER, 'field %r: the API returned meter %r for '
                   'a request on %r' % (api_key('counter_name'),
                                        row['counter_name'], meter))
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


def _optional(value, parse):
    return None if value is None else parse(value)


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
