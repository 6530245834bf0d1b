"""Ceilometer's HTTP publisher format -> rows of the samples table.

A pushed sample (``ceilometer.sample.Sample.as_dict()``) is first turned
into the Sample the v2 API would have returned for it -- metadata flattened
with the API's rules, the timestamp as naive UTC -- and then converted by
the pull path's own ``source.samples.from_sample``: one set of checks, so a
sample pulled and the same sample pushed give identical rows (or identical
rejects).
"""

import dataclasses
import datetime
import re

from ceilometer_export import errors
from ceilometer_export import rejects
from ceilometer_export.query import match
from ceilometer_export.source import samples
from ceilometer_export.store import schema
from ceilometer_export import timeutil

# Publisher keys -> the v2 API Sample keys (ceilometer-v2-api.md 3.3).
_API_KEYS = (('id', 'id'), ('name', 'meter'), ('type', 'type'),
             ('unit', 'unit'), ('volume', 'volume'), ('user_id', 'user_id'),
             ('project_id', 'project_id'), ('resource_id', 'resource_id'),
             ('source', 'source'))
# What oslo_utils.timeutils.parse_isotime accepts from the publisher: 'T'
# or ' ' between date and time, an optional fraction, 'Z' or an offset.
_TIMESTAMP = re.compile(
    r'(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,6})?'
    r'(Z|[+-]\d{2}:?\d{2})?')
# A NUL or a surrogate, raw (surrogateescape'd bytes) or \u-escaped.
_SUSPECT = re.compile(r'[\x00\ud800-\udfff]|\\u(0000|[dD][89a-fA-F])')


@dataclasses.dataclass
class Converted:
    """One pushed sample: a samples row or a reject row, and what its
    mapping queries are evaluated on (None for a reject)."""
    row: dict
    subject: object = None

    @property
    def rejected(self):
        return rejects.is_reject(self.row)


def flatten_metadata(metadata):
    """The API's form (ceilometer-v2-api.md 2.3): nested keys joined with
    '.', then every '.' but the first replaced by ':', values str() of the
    decoded value (Python repr for lists), sorted like the API's
    recursive_keypairs."""
    return {key.replace('.', ':').replace(':', '.', 1): str(value)
            for key, value in _keypairs(metadata)
            if not isinstance(value, (set, frozenset))}


def _keypairs(data):
    for name, value in sorted(data.items()):
        if isinstance(value, dict):
            for subname, subvalue in _keypairs(value):
                yield '%s.%s' % (name, subname), subvalue
        else:
            yield name, value


def parse_timestamp(value):
    """A publisher timestamp as naive UTC; ValueError when unusable."""
    found = isinstance(value, str) and _TIMESTAMP.fullmatch(value)
    if not found:
        raise ValueError('not an ISO 8601 date and time: %r' % (value,))
    date, time, fraction, zone = found.groups()
    text = '%sT%s%s%s' % (date, time, fraction or '',
                          '+00:00' if zone == 'Z' else zone or '')
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timeutil.UTC).replace(tzinfo=None)
    return parsed


def _api_sample(pushed, received_at):
    """The Sample JSON the v2 API would return for this pushed sample."""
    api = {api_key: pushed[key] for key, api_key in _API_KEYS
           if key in pushed}
    api['recorded_at'] = timeutil.format_api(received_at)
    if 'timestamp' in pushed:
        try:
            api['timestamp'] = timeutil.format_api(
                parse_timestamp(pushed['timestamp']))
        except ValueError:
            api['timestamp'] = pushed['timestamp']  # rejected, named below
    metadata = pushed.get('resource_metadata')
    if metadata is None:
        api['metadata'] = {}
    elif isinstance(metadata, dict):
        api['metadata'] = flatten_metadata(metadata)
    else:
        api['metadata'] = metadata   # not an object: rejected below
    return api


def may_hold_invalid_text(body_text):
    """False when no string decoded from this JSON text can hold a lone
    surrogate or a NUL (neither raw nor as a \\u escape): its samples
    then need no per-string check."""
    if body_text.isascii() and '\\u' not in body_text \
            and '\x00' not in body_text:
        return False        # no surrogate, no escape, no NUL: no regex scan
    return _SUSPECT.search(body_text) is not None


def convert(pushed, received_at, text_checked=False):
    """One element of a pushed list -> Converted. ``text_checked``: see
    ``may_hold_invalid_text``."""
    converted = _convert(pushed, received_at, text_checked)
    if converted.rejected:
        name = pushed.get('name') if isinstance(pushed, dict) else None
        converted.row['meter'] = name if isinstance(name, str) \
            and len(name) <= schema.NAME_LENGTH \
            and rejects.invalid_text(name) is None else None
    return converted


def _convert(pushed, received_at, text_checked):
    if not isinstance(pushed, dict):
        return Converted(rejects.reject_row(
            pushed, rejects.OTHER, 'expected a sample object, got %s'
            % type(pushed).__name__))
    where = None if text_checked else rejects.invalid_text(pushed)
    if where is not None:
        return Converted(rejects.reject_row(
            pushed, rejects.UNICODE, 'field %s: %s' % where,
            *_position(pushed)))
    api = _api_sample(pushed, received_at)
    meter = api.get('meter')
    try:
        row = samples.from_sample(api, meter, check_text=not text_checked)
    except errors.SampleError as exc:
        return Converted(rejects.reject_row(pushed, rejects.OTHER, str(exc)))
    if rejects.is_reject(row):
        # Keep what the publisher sent, not the API form built from it.
        row['raw'] = rejects.raw_text(pushed)
        return Converted(row)
    return Converted(row, _subject(row, pushed.get('resource_metadata')))


def _position(pushed):
    """(message_id, timestamp) of a rejected sample where usable."""
    ident = pushed.get('id')
    if not (isinstance(ident, str) and 0 < len(ident)
            <= schema.MESSAGE_ID_LENGTH
            and rejects.invalid_text(ident) is None):
        ident = None
    try:
        stamp = parse_timestamp(pushed.get('timestamp'))
    except ValueError:
        stamp = None
    return ident, stamp


def _subject(row, metadata):
    columns = dict(row, message_signature=None)
    return match.Subject(columns, metadata or {})
