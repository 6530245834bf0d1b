"""Simple queries (``q.field``/``q.op``/``q.value``/``q.type``).

Validation order, error texts and quirks follow
ceilometer/api/controllers/v2/utils.py (pike): only the first timestamp
constraint's operator is checked, later ones win, offsets are dropped, the
project check for non-admin tokens runs before everything else.
"""
import ast
import datetime
import functools

from oslo_utils import strutils
from oslo_utils import timeutils

from ceilometer_export.simulator import errors
from ceilometer_export.simulator import metamatch
from ceilometer_export.simulator import model

SUPPORTED_TYPES = ['integer', 'float', 'string', 'boolean', 'datetime']
_CONVERTERS = {'integer': int,
               'float': float,
               'boolean': functools.partial(strutils.bool_from_string,
                                            strict=True),
               'string': str,
               'datetime': timeutils.parse_isotime}
_TRANSLATION = {'user_id': 'user', 'project_id': 'project',
                'resource_id': 'resource'}

SAMPLE_KEYS = frozenset(['user', 'project', 'resource', 'source', 'meter',
                         'message_id', 'timestamp', 'search_offset'])
METER_KEYS = frozenset(['user', 'project', 'resource', 'source', 'unique'])
RESOURCE_KEYS = frozenset(['user', 'project', 'resource', 'source',
                           'timestamp', 'search_offset'])


class Unset(object):
    def __repr__(self):
        return 'Unset'

    __str__ = __repr__


UNSET = Unset()


class Query(object):
    """base.Query: one constraint; repr as in the API's error texts."""

    def __init__(self, field, op=None, value=None, type=None):
        self.field = field
        self.raw_op = op
        self.value = value
        self.type = UNSET if type is None else type

    @property
    def op(self):
        return self.raw_op or 'eq'

    def __repr__(self):
        return '<Query %r %s %r %s>' % (self.field, self.op, self.value,
                                        self.type)

    def value_as_type(self, forced_type=None):
        kind = forced_type or (self.type if self.type is not UNSET else '')
        try:
            return _convert(self.value, kind)
        except ValueError:
            raise errors.ClientError(
                'Unable to convert the value %s to the expected data type %s.'
                % (self.value, kind))
        except TypeError:
            raise errors.ClientError(
                'The data type %s is not supported. The supported data type '
                'list is: %s' % (kind, SUPPORTED_TYPES))
        except Exception:
            raise errors.ClientError(
                'Unexpected exception converting %s to the expected data '
                'type %s.' % (self.value, kind))


def _convert(value, kind):
    if not kind:
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    if kind not in SUPPORTED_TYPES:
        raise TypeError()
    converted = _CONVERTERS[kind](value)
    if isinstance(converted, datetime.datetime):
        converted = timeutils.normalize_time(converted)
    return converted


def parse_queries(params):
    """Zip the q.* lists by index, as WSME does."""
    lists = [params.get('q.' + name, []) for name in
             ('field', 'op', 'value', 'type')]
    count = max(len(values) for values in lists)
    queries = []
    for i in range(count):
        field, op, value, kind = [v[i] if i < len(v) else None for v in lists]
        for name, got in (('field', field), ('value', value)):
            if got is None:
                raise errors.invalid_input(name, None,
                                           'Mandatory field missing.')
        queries.append(Query(field, op, value, kind))
    return queries


def parse_timestamp(value):
    """parse_isotime, then the offset is dropped (not converted)."""
    return timeutils.parse_isotime(value).replace(tzinfo=None)


def _is_metadata(field):
    return field.startswith('metadata.') or field.startswith(
        'resource_metadata.')


def _check_segregation(queries, auth_project):
    if not auth_project:
        return
    for q in queries:
        if q.field in ('project', 'project_id') and q.value != auth_project:
            raise errors.not_authorized(q.value)


def _check_stamp_field(queries, name, ops, allow_timestamps):
    for q in queries:
        if q.field == name:
            if not allow_timestamps:
                raise errors.unknown_argument(name, 'not valid for this resource')
            # ``ops`` may be a plain string: the real check is ``in``.
            if q.op not in ops:
                raise errors.invalid_input('op', q.op,
                                           'unimplemented operator for %s'
                                           % q.field)
            return True
    return False


def validate(queries, valid_keys, allow_timestamps=True, auth_project=None):
    _check_segregation(queries, auth_project)
    has_ts = _check_stamp_field(queries, 'timestamp',
                                ('lt', 'le', 'gt', 'ge'), allow_timestamps)
    has_offset = _check_stamp_field(queries, 'search_offset', 'eq',
                                    allow_timestamps)
    if has_offset and not has_ts:
        raise errors.invalid_input('field', 'search_offset',
                                   'search_offset cannot be used without '
                                   'timestamp')
    for q in queries:
        if q.field in ('timestamp', 'search_offset'):
            continue
        key = _TRANSLATION.get(q.field, q.field)
        if key not in valid_keys and not _is_metadata(q.field):
            raise errors.unknown_argument(
                key, 'unrecognized field in query: %s, valid keys: %s'
                % (queries, sorted(valid_keys)))
        if q.op != 'eq':
            raise errors.invalid_input('op', q.op,
                                       'unimplemented operator for %s'
                                       % q.field)
        if _is_metadata(key):
            q.value_as_type()


class SampleFilter(object):
    """storage.SampleFilter plus the matching the SQL driver does."""

    def __init__(self):
        self.user = self.project = self.resource = None
        self.source = self.meter = self.message_id = None
        self.start = self.start_op = self.end = self.end_op = None
        self.metaquery = {}
        self.extra = {}

    def key_bounds(self):
        lo = hi = None
        if self.start:
            lo = model.lower_key(self.start, strict=self.start_op == 'gt')
        if self.end:
            hi = model.upper_key(self.end, inclusive=self.end_op == 'le')
        return lo, hi

    def matcher(self):
        checks = []
        for attr, wanted in (('user_id', self.user),
                             ('project_id', self.project)):
            if wanted:
                # The SQL driver turns the string 'None' into IS NULL.
                checks.append((attr, None if wanted == 'None' else wanted))
        for attr, wanted in (('resource_id', self.resource),
                             ('source', self.source),
                             ('message_id', self.message_id)):
            if wanted:
                checks.append((attr, wanted))
        meta = [(key[len('metadata.'):], value)
                for key, value in self.metaquery.items()]
        meter = self.meter

        def match(rec):
            if meter and rec.meter.name != meter:
                return False
            for attr, wanted in checks:
                if getattr(rec, attr) != wanted:
                    return False
            typed = rec.meta.typed
            for key, value in meta:
                if not metamatch.equals(typed, key, value):
                    return False
            return True
        return match


def to_filter(queries, valid_keys, allow_timestamps=True, auth_project=None):
    """Validate, scope and convert a q list (query_to_kwargs)."""
    validate(queries, valid_keys, allow_timestamps, auth_project)
    queries = list(queries)
    if auth_project and not any(q.field == 'project_id' for q in queries):
        queries.append(Query('project_id', 'eq', auth_project))
    sfilter = SampleFilter()
    stamp = {}
    for q in queries:
        _apply(sfilter, stamp, q)
    if stamp:
        _apply_stamps(sfilter, stamp)
    for key, value in sfilter.metaquery.items():
        metamatch.check_queryable(key, value)
    return sfilter


_FILTER_ATTRS = {'user': 'user', 'project': 'project', 'resource': 'resource',
                 'source': 'source', 'meter': 'meter',
                 'message_id': 'message_id'}


def _apply(sfilter, stamp, q):
    if q.field == 'timestamp':
        if q.op in ('lt', 'le'):
            stamp['end'], stamp['end_op'] = q.value, q.op
        elif q.op in ('gt', 'ge'):
            stamp['start'], stamp['start_op'] = q.value, q.op
        return
    if q.op != 'eq':
        return
    if q.field == 'search_offset':
        stamp['search_offset'] = q.value
    elif q.field.startswith('metadata.'):
        sfilter.metaquery[q.field] = q.value_as_type()
    elif q.field.startswith('resource_metadata.'):
        sfilter.metaquery[q.field[9:]] = q.value_as_type()
    else:
        key = _TRANSLATION.get(q.field, q.field)
        if key in _FILTER_ATTRS:
            setattr(sfilter, _FILTER_ATTRS[key], q.value)
        else:
            sfilter.extra[key] = q.value


def _apply_stamps(sfilter, stamp):
    try:
        offset = int(stamp.get('search_offset', 0))
    except ValueError as exc:
        raise errors.ServerError(str(exc))
    delta = datetime.timedelta(minutes=offset)
    start = _stamp_value(stamp.get('start'))
    end = _stamp_value(stamp.get('end'))
    sfilter.start = start - delta if start else None
    sfilter.end = end + delta if end else None
    sfilter.start_op = stamp.get('start_op')
    sfilter.end_op = stamp.get('end_op')


def _stamp_value(value):
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise errors.invalid_input('timestamp', value,
                                   'invalid timestamp format')
