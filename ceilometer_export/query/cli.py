"""python-ceilometerclient's CLI query grammar (``field<op>value;...``).

A reimplementation of ``ceilometerclient.v2.options.cli_to_array``, and the
conversion of its constraints to a complex filter with the values typed as
the server types them in a simple query (ceilometer-v2-api.md 4.3), so that
a mapping selects the same samples in both query modes.
"""

import ast
import dataclasses
import math
import re
import warnings

from ceilometer_export.query.base import fail as _fail
from ceilometer_export.query.base import METADATA_KEY_RE as _METADATA_KEY_RE
from ceilometer_export.query.base import REFUSED_FIELDS as _REFUSED_FIELDS

# Two-character operators come first so that at one position '>=' wins over
# '>'; the search still finds the LEFTMOST position, as the client's split
# does ('a=>1' is eq with value '>1').
_CLI_OP_RE = re.compile(r'!=|>=|<=|>|<|=')
_CLI_OPS = {'!=': 'ne', '>=': 'ge', '<=': 'le', '>': 'gt', '<': 'lt', '=': 'eq'}
# The client only recognises these exact lowercase prefixes with a non-empty
# rest; anything else ('blob::1', 'string::') stays part of the value.
_CLI_TYPE_RE = re.compile(r'(string|integer|float|datetime|boolean)::(.+)')

# Fields the simple sample-listing API accepts (ceilometer-v2-api.md 4.2),
# mapped to one canonical name used in complex filters and duplicate checks.
_CLI_FIELDS = {
    'user_id': 'user_id', 'user': 'user_id',
    'project_id': 'project_id', 'project': 'project_id',
    'resource_id': 'resource_id', 'resource': 'resource_id',
    'source': 'source',
}
_METADATA_PREFIXES = ('metadata.', 'resource_metadata.')

_CLI_TO_JSON_OP = {'eq': '=', 'ne': '!=', 'gt': '>', 'ge': '>=',
                   'lt': '<', 'le': '<='}

# oslo_utils.strutils.bool_from_string(strict=True), which the server uses.
_TRUE = frozenset(('1', 't', 'true', 'on', 'y', 'yes'))
_FALSE = frozenset(('0', 'f', 'false', 'off', 'n', 'no'))


@dataclasses.dataclass(frozen=True)
class Constraint:
    """One ``field<op>value`` part of a CLI-grammar query."""

    text: str       # the part as written, for messages
    field: str      # as written (stripped): sent unchanged in a simple query
    op: str         # eq ne gt ge lt le
    value: str      # without its type prefix
    type: str       # '' or the prefix name
    key: str        # canonical field: user_id ... or metadata.<key>
    typed: object   # the value as the server types it (complex filter)

    def as_q(self):
        return {'field': self.field, 'op': self.op,
                'value': self.value, 'type': self.type}

    @property
    def is_metadata(self):
        return self.key.startswith('metadata.')


def _split_part(part, where):
    """Split 'field<op>value' exactly as cli_to_array does."""
    shown = part.strip()
    match = _CLI_OP_RE.search(part)
    if match is None:
        _fail(where, "invalid query '%s': missing operator" % shown)
    field = part[:match.start()].strip()
    value = part[match.end():].strip()
    # The client tests emptiness before stripping, so it would send a
    # blank field or value; both are meaningless, so refuse them here.
    if not field:
        _fail(where, "invalid query '%s': missing field" % shown)
    if not value:
        _fail(where, "invalid query '%s': missing value" % shown)
    typed = _CLI_TYPE_RE.fullmatch(value)
    if typed:
        return field, _CLI_OPS[match.group()], typed.group(2), typed.group(1)
    return field, _CLI_OPS[match.group()], value, ''


def _metadata_key(field):
    for prefix in _METADATA_PREFIXES:
        if field.startswith(prefix):
            return field[len(prefix):]
    return None


def _cli_key(field, part, where):
    """Return the canonical name of a CLI field or raise why it is refused."""
    if field in _CLI_FIELDS:
        return _CLI_FIELDS[field]
    meta = _metadata_key(field)
    if meta is not None:
        # The complex API only accepts '^metadata\.\S+$'; refusing the rest
        # here keeps the mapping valid in both query modes.
        if not _METADATA_KEY_RE.fullmatch(meta):
            _fail(where, "invalid query '%s': '%s' needs a metadata key "
                         "without whitespace after the dot" % (part, field))
        return 'metadata.' + meta
    if field in _REFUSED_FIELDS:
        _fail(where, "invalid query '%s': field '%s' cannot be used in a "
                     "mapping: %s" % (part, field, _REFUSED_FIELDS[field]))
    _fail(where, "invalid query '%s': unknown field '%s' (allowed: user_id, "
                 "project_id, resource_id, source, metadata.<key>; aliases "
                 "user, project, resource, resource_metadata.<key>)"
                 % (part, field))


def _to_bool(value):
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(value)


_CONVERTERS = {'integer': int, 'float': float, 'boolean': _to_bool,
               'string': str, 'datetime': str}


def _literal(value):
    """The server's untyped metadata conversion: ast.literal_eval or raw."""
    try:
        # Odd text such as '"\\d"' makes the compiler warn; the value is
        # still evaluated the same way, so keep start-up output clean.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            result = ast.literal_eval(value)
    except Exception:   # SyntaxError, ValueError, RecursionError, ...
        return value
    if isinstance(result, (bool, int, float, str)):
        return result
    return value


def _typed_value(value, type_, part, where):
    """Type a metadata value as the server does for a simple query (4.3)."""
    if not type_:
        result = _literal(value)
    else:
        try:
            result = _CONVERTERS[type_](value)
        except ValueError:
            _fail(where, "invalid query '%s': cannot convert '%s' to %s"
                         % (part, value, type_))
    # NaN/Infinity are not JSON and compare with nothing meaningfully.
    if isinstance(result, float) and not math.isfinite(result):
        _fail(where, "invalid query '%s': '%s' is not a finite number"
                     % (part, value))
    return result


def _parse_constraint(part, where):
    field, op, value, type_ = _split_part(part, where)
    shown = part.strip()
    key = _cli_key(field, shown, where)
    if key.startswith('metadata.'):
        typed = _typed_value(value, type_, shown, where)
    else:
        typed = value   # the server ignores q.type on non-metadata fields
    return Constraint(shown, field, op, value, type_, key, typed)


def _check_repeated(constraints, where):
    """Refuse a field given twice with '='.

    The simple API keeps only the last of them while a complex filter ANDs
    both, so the mapping would select different samples in the two modes.
    """
    seen = {}
    for item in constraints:
        if item.op != 'eq':
            continue
        if item.key in seen:
            _fail(where, "invalid query '%s': field '%s' is already set by "
                         "'%s' (the simple API would keep only the last)"
                         % (item.text, item.field, seen[item.key].text))
        seen[item.key] = item


def parse_cli(text, where):
    """The constraints of a CLI-grammar query (non-empty text)."""
    constraints = tuple(_parse_constraint(part, where)
                        for part in text.split(';'))
    _check_repeated(constraints, where)
    return constraints


def canonical_constraint(item):
    """What a constraint means, as compared by query fingerprints."""
    if not item.is_metadata:
        # The server ignores q.type here and compares strings.
        return [item.key, item.op, 'str', item.value]
    # The Python type of a metadata value selects the server's typed
    # metadata table, so it is part of the meaning; datetime stays a string
    # in a complex filter but is a different type in a simple query.
    kind = 'datetime' if item.type == 'datetime' else type(item.typed).__name__
    return [item.key, item.op, kind, item.typed]


def to_complex_filter(constraints):
    """The complex filter the constraints mean, or None when there are none."""
    leaves = [{_CLI_TO_JSON_OP[item.op]: {item.key: item.typed}}
              for item in constraints]
    if not leaves:
        return None
    # The server's schema requires 'and' to have at least two items.
    return leaves[0] if len(leaves) == 1 else {'and': leaves}
