"""Stored sample records and the way the v2 API renders them.

A record keeps the raw (nested, typed) metadata because simple and complex
metadata queries compare against typed values, exactly like the SQL driver's
typed metadata tables; the API output is the flattened string form.
"""
import datetime
import json
from json import encoder as json_encoder

EPOCH = datetime.datetime(1970, 1, 1)
ONE_US = datetime.timedelta(microseconds=1)
TIE_BITS = 24
SAMPLE_TYPES = ('gauge', 'delta', 'cumulative')
MISSING = object()


def isoformat(value):
    """Naive ISO 8601 as WSME emits it (fraction only when non-zero)."""
    return None if value is None else value.isoformat()


def to_micros(value):
    return (value - EPOCH) // ONE_US


def sort_key(timestamp, tiebreak=0):
    """Integer key: timestamp in the high bits, a random tie-break below.

    Ties are ordered by the tie-break, which the store draws from a seeded
    generator, so equal timestamps come back in no meaningful order.
    """
    return (to_micros(timestamp) << TIE_BITS) | tiebreak


def lower_key(timestamp, strict):
    """First key after (strict) or at a timestamp."""
    return (to_micros(timestamp) + (1 if strict else 0)) << TIE_BITS


def upper_key(timestamp, inclusive):
    """First key not covered by an upper bound on a timestamp."""
    return (to_micros(timestamp) + (1 if inclusive else 0)) << TIE_BITS


def _keypairs(data):
    # ceilometer.utils.recursive_keypairs: sorted at every level.
    for name, value in sorted(data.items()):
        if isinstance(value, dict):
            for subname, subvalue in _keypairs(value):
                yield '%s.%s' % (name, subname), subvalue
        elif isinstance(value, tuple):
            # Stored as JSON by the real service: tuples come back as lists.
            yield name, list(value)
        else:
            yield name, value


def flatten_metadata(metadata):
    """The API form: one level, str values, 'a.b:c' keys, sets dropped."""
    if not metadata:
        return {}
    return dict((key.replace('.', ':').replace(':', '.', 1), str(value))
                for key, value in _keypairs(metadata)
                if type(value) is not set)


def typed_keyvals(value, base=None):
    """ceilometer.utils.dict_to_keyval: what the SQL metadata tables hold."""
    if isinstance(value, dict):
        items = ((base + '.' + k if base else k, v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((base + '[%d]' % i, v) for i, v in enumerate(value))
    else:
        return
    for key, item in items:
        if isinstance(item, (dict, list, tuple)):
            yield from typed_keyvals(item, key)
        else:
            yield key, item


def restore_nesting(flat, separator='.'):
    """Inverse of flattening for samples POSTed through the API."""
    nested = {}
    for key, value in flat.items():
        parts = key.replace(':', separator).split(separator)
        node = nested
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    return nested


class MetaSet(object):
    """One distinct metadata dict, shared by every record carrying it."""

    __slots__ = ('raw', 'flat', 'typed', 'json')

    def __init__(self, raw):
        self.raw = raw
        self.flat = flatten_metadata(raw)
        self.typed = dict(typed_keyvals(raw))
        self.json = json.dumps(self.flat).encode()


class Meter(object):
    """A (name, type, unit) triple, like a row of the SQL meter table."""

    __slots__ = ('name', 'type', 'unit', 'seq')

    def __init__(self, name, type, unit, seq):
        self.name = name
        self.type = type
        self.unit = unit
        self.seq = seq


class Record(object):
    __slots__ = ('key', 'seq', 'message_id', 'meter', 'volume', 'user_id',
                 'project_id', 'resource_id', 'source', 'timestamp',
                 'recorded_at', 'meta', 'override')

    def raw(self):
        """The add_samples() dict this record was built from."""
        return {'message_id': self.message_id,
                'counter_name': self.meter.name,
                'counter_type': self.meter.type,
                'counter_unit': self.meter.unit,
                'counter_volume': self.volume,
                'user_id': self.user_id,
                'project_id': self.project_id,
                'resource_id': self.resource_id,
                'source': self.source,
                'timestamp': self.timestamp,
                'recorded_at': self.recorded_at,
                'resource_metadata': self.meta.raw}


def old_sample(rec):
    """OldSample, keys in the order the real API emits them."""
    meter = rec.meter
    return {'source': rec.source,
            'counter_name': meter.name,
            'counter_type': meter.type,
            'counter_unit': meter.unit,
            'counter_volume': rec.volume,
            'user_id': rec.user_id,
            'project_id': rec.project_id,
            'resource_id': rec.resource_id,
            'timestamp': rec.timestamp.isoformat(),
            'recorded_at': isoformat(rec.recorded_at),
            'resource_metadata': rec.meta.flat,
            'message_id': rec.message_id}


def new_sample(rec):
    """Sample (GET /v2/samples, POST /v2/query/samples) key order."""
    meter = rec.meter
    return {'id': rec.message_id,
            'meter': meter.name,
            'type': meter.type,
            'unit': meter.unit,
            'volume': rec.volume,
            'user_id': rec.user_id,
            'project_id': rec.project_id,
            'resource_id': rec.resource_id,
            'source': rec.source,
            'timestamp': rec.timestamp.isoformat(),
            'recorded_at': isoformat(rec.recorded_at),
            'metadata': rec.meta.flat}


# -- fast JSON rendering ------------------------------------------------------
# A page of 1,000 samples is mostly metadata, and metadata sets are shared:
# each set is encoded once (MetaSet.json) and spliced into every sample.
# The output is byte-identical to json.dumps() of old_sample()/new_sample().

_str = json_encoder.encode_basestring_ascii


def _jstr(value):
    return 'null' if value is None else _str(value)


def _jfloat(value):
    if value != value:
        return 'NaN'
    if value in (float('inf'), float('-inf')):
        return 'Infinity' if value > 0 else '-Infinity'
    return float.__repr__(value)


def _jtime(value):
    return 'null' if value is None else '"%s"' % value.isoformat()


_OLD_HEAD = ('{"source": %s, "counter_name": %s, "counter_type": %s, '
             '"counter_unit": %s, "counter_volume": %s, "user_id": %s, '
             '"project_id": %s, "resource_id": %s, "timestamp": %s, '
             '"recorded_at": %s, "resource_metadata": ')
_NEW_HEAD = ('{"id": %s, "meter": %s, "type": %s, "unit": %s, "volume": %s, '
             '"user_id": %s, "project_id": %s, "resource_id": %s, '
             '"source": %s, "timestamp": %s, "recorded_at": %s, '
             '"metadata": ')


# -- malformed samples (Simulator.corrupt) -------------------------------------
# A record may carry ``override``: OldSample keys -> what the API emits for
# them instead (MISSING: the key is absent; bytes: spliced into the body
# as they are, e.g. invalid UTF-8). Filtering and ordering still use the
# record's real fields, as a real API would with a broken stored row.

MISSING = object()
_NEW_KEYS = {'message_id': 'id', 'counter_name': 'meter',
             'counter_type': 'type', 'counter_unit': 'unit',
             'counter_volume': 'volume', 'resource_metadata': 'metadata'}


def _overridden(sample, override, rename):
    out = []
    values = dict(sample)
    values.update((rename.get(k, k), v) for k, v in override.items())
    for key, value in values.items():
        if value is MISSING:
            continue
        text = value if isinstance(value, bytes) else \
            json.dumps(value).encode()
        out.append(json.dumps(key).encode() + b': ' + text)
    return b'{' + b', '.join(out) + b'}, '


def _old_parts(rec, parts):
    if rec.override is not None:
        parts.append(_overridden(old_sample(rec), rec.override, {}))
        return
    meter = rec.meter
    parts.append((_OLD_HEAD % (
        _jstr(rec.source), _jstr(meter.name), _jstr(meter.type),
        _jstr(meter.unit), _jfloat(rec.volume), _jstr(rec.user_id),
        _jstr(rec.project_id), _jstr(rec.resource_id), _jtime(rec.timestamp),
        _jtime(rec.recorded_at))).encode())
    parts.append(rec.meta.json)
    parts.append((', "message_id": %s}, ' % _jstr(rec.message_id)).encode())


def _new_parts(rec, parts):
    if rec.override is not None:
        parts.append(_overridden(new_sample(rec), rec.override, _NEW_KEYS))
        return
    meter = rec.meter
    parts.append((_NEW_HEAD % (
        _jstr(rec.message_id), _jstr(meter.name), _jstr(meter.type),
        _jstr(meter.unit), _jfloat(rec.volume), _jstr(rec.user_id),
        _jstr(rec.project_id), _jstr(rec.resource_id), _jstr(rec.source),
        _jtime(rec.timestamp), _jtime(rec.recorded_at))).encode())
    parts.append(rec.meta.json)
    parts.append(b'}, ')


def _render(recs, add_parts):
    parts = [b'[']
    for rec in recs:
        add_parts(rec, parts)
    if len(parts) > 1:
        parts[-1] = parts[-1][:-2]
    parts.append(b']')
    return RawJson(b''.join(parts))


def render_old_samples(recs):
    """JSON (bytes) of a list of OldSample."""
    return _render(recs, _old_parts)


def render_samples(recs):
    """JSON (bytes) of a list of Sample."""
    return _render(recs, _new_parts)


class RawJson(bytes):
    """Already-encoded JSON a handler can return instead of data."""
