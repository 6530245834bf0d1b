"""API samples (OldSample or Sample JSON) as rows of the samples table.

Everything is checked here, once, so a malformed sample is reported with
its id and field instead of failing somewhere in SQL.
"""

import math

from ceilometer_export import errors
from ceilometer_export.store import schema
from ceilometer_export import timeutil

# OldSample keys (GET /v2/meters/{name}) -> Sample keys (query API).
_SAMPLE_KEYS = {'message_id': 'id', 'counter_name': 'meter',
                'counter_type': 'type', 'counter_unit': 'unit',
                'counter_volume': 'volume', 'resource_metadata': 'metadata'}
_NAME_FIELDS = ('counter_type', 'counter_unit', 'project_id', 'user_id',
                'source')


def from_old_sample(raw, meter):
    return _row(raw, meter, lambda key: key)


def from_sample(raw, meter):
    return _row(raw, meter, lambda key: _SAMPLE_KEYS.get(key, key))


def _row(raw, meter, api_key):
    if not isinstance(raw, dict):
        raise errors.SampleError('the API returned a %s where a sample '
                                 'object was expected' % type(raw).__name__)
    ident = raw.get(api_key('message_id'))

    def field(name, check, **kw):
        key = api_key(name)
        if key not in raw:
            raise _bad(ident, meter, key, 'missing')
        try:
            return check(raw[key], **kw)
        except (TypeError, ValueError) as exc:
            raise _bad(ident, meter, key, exc) from None

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
        raise _bad(ident, meter, api_key('counter_name'),
                   'the API returned meter %r for a request on %r'
                   % (row['counter_name'], meter))
    return row


def _bad(ident, meter, key, problem):
    return errors.SampleError('sample %r of meter %r: field %r: %s'
                              % (ident, meter, key, problem))


def _text(value, limit=schema.NAME_LENGTH):
    if not isinstance(value, str) or not value:
        raise ValueError('expected a non-empty string, got %r' % (value,))
    if len(value) > limit:
        raise ValueError('longer than %d characters' % limit)
    return value


def _optional(value, parse):
    return None if value is None else parse(value)


def _volume(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError('expected a number, got %r' % (value,))
    if not math.isfinite(value):
        raise ValueError('%r cannot be stored on every backend' % (value,))
    return float(value)


def _metadata(value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError('expected an object, got %s' % type(value).__name__)
    return value
