"""Mapping sections (``[mapping:NAME]``) and their filter queries.

A mapping selects samples with ``query`` and names the meters to export
with ``meters``.  The query is empty, python-ceilometerclient's CLI grammar
(``field<op>value;...``) or a JSON complex-query filter.  Everything is
validated when the configuration is read, so a bad mapping is a clear
configuration error (exit code 2) instead of a 400 from the API at run time.

The same mapping must select the same samples whether it is sent as a
simple query (``GET ...?q.field=...``) or as a complex filter
(``POST /v2/query/samples``): see ``FilterQuery.complex_filter``.
"""

import ast
import copy
import dataclasses
import difflib
import hashlib
import json
import math
import re
import warnings

OPTIONS = ('query', 'meters')
DISCOVER = '*'


class MappingError(ValueError):
    """A mapping section is invalid.

    The message names the section ('[mapping:NAME]'), the option and what is
    wrong; it is meant to be shown to the operator as is.
    """


# ---------------------------------------------------------------------------
# CLI grammar: a reimplementation of ceilometerclient.v2.options.cli_to_array
# ---------------------------------------------------------------------------

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
_METADATA_KEY_RE = re.compile(r'\S+')   # the server's '^metadata\.[\S]+$'

_CHECKPOINT_WHY = ("timestamps are driven by the exporter's checkpoint "
                   "(use [export] start_time or --since)")
_METER_WHY = "meters are selected by the 'meters' option"
# Fields the API knows but a mapping must not filter on, with the reason.
_REFUSED_FIELDS = {
    'timestamp': _CHECKPOINT_WHY,
    'search_offset': _CHECKPOINT_WHY,
    'recorded_at': _CHECKPOINT_WHY,
    'meter': _METER_WHY,
    'counter_name': _METER_WHY,
    'message_id': 'message_id is used by the exporter itself for paging',
}

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


def _fail(where, message):
    raise MappingError('%s: %s' % (where, message))


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


def _parse_cli(text, where):
    constraints = tuple(_parse_constraint(part, where)
                        for part in text.split(';'))
    _check_repeated(constraints, where)
    return constraints


# ---------------------------------------------------------------------------
# JSON complex-query filter (ceilometer-v2-api.md 5.2 and 5.3)
# ---------------------------------------------------------------------------

_JSON_SIMPLE_OPS = frozenset(('=', '!=', '<', '<=', '=<', '>', '>=', '=>', '=~'))
_JSON_LOGICAL_OPS = frozenset(('and', 'or'))
# Spellings the server treats alike, folded for the fingerprint only.
_JSON_OP_SYNONYMS = {'=<': '<=', '=>': '>='}
_JSON_OP_LIST = '= != < <= =< > >= => =~ in and or not'
# Sample model fields and aliases (5.3), canonical name for fingerprints.
_JSON_FIELDS = {
    'source': 'source', 'message_signature': 'message_signature',
    'counter_type': 'counter_type', 'type': 'counter_type',
    'counter_unit': 'counter_unit', 'unit': 'counter_unit',
    'counter_volume': 'counter_volume', 'volume': 'counter_volume',
    'user_id': 'user_id', 'user': 'user_id',
    'project_id': 'project_id', 'project': 'project_id',
    'resource_id': 'resource_id', 'resource': 'resource_id',
}
_JSON_REFUSED = dict(_REFUSED_FIELDS)
# The server accepts it, but compares the whole metadata blob: never useful.
_JSON_REFUSED['resource_metadata'] = 'compare metadata.<key> instead'


def _path(parent, child):
    return '%s.%s' % (parent, child) if parent else child


def _at(where, path, message):
    _fail(where, '%s: %s' % (path or 'top level', message))


def _no_duplicates(pairs):
    """json object_pairs_hook: a repeated key would silently drop one."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError('duplicate key %s' % json.dumps(key))
        result[key] = value
    return result


def _reject_constant(name):
    raise ValueError('%s is not a valid JSON number' % name)


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError('number %s is out of range' % text)
    return value


_TOO_DEEP = 'the JSON filter is nested too deeply'


def _load_json(text, where):
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates,
                          parse_constant=_reject_constant,
                          parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        _fail(where, 'not valid JSON: %s (line %d column %d)'
                     % (exc.msg, exc.lineno, exc.colno))
    except ValueError as exc:
        _fail(where, 'not valid JSON: %s' % (exc,))
    except RecursionError:
        _fail(where, _TOO_DEEP)


def _single_key(node, path, where, what):
    if not isinstance(node, dict):
        _at(where, path, 'expected an object with one %s, got %s'
                         % (what, _json_type(node)))
    if len(node) != 1:
        found = ', '.join(json.dumps(k) for k in node) or 'none'
        _at(where, path, 'an object must have exactly one key (%s), found: %s'
                         % (what, found))
    return next(iter(node.items()))


def _json_type(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    return 'a list' if isinstance(value, list) else 'an object'


def _json_field(field, path, where):
    """Return the canonical name of a JSON filter field or raise why not."""
    if field in _JSON_FIELDS:
        return _JSON_FIELDS[field]
    if field.startswith('metadata.'):
        if not _METADATA_KEY_RE.fullmatch(field[len('metadata.'):]):
            _at(where, path, 'a metadata key must be non-empty and have no '
                             'whitespace')
        return field
    if field.startswith('resource_metadata.'):
        _at(where, path, "the complex query API only accepts 'metadata.%s'"
                         % field[len('resource_metadata.'):])
    if field in _JSON_REFUSED:
        _at(where, path, "field '%s' cannot be used in a mapping: %s"
                         % (field, _JSON_REFUSED[field]))
    _at(where, path, "unknown field '%s'" % field)


def _is_scalar(value):
    # bool is a subclass of int: a valid scalar in a comparison leaf.
    return isinstance(value, (str, int, float))


def _check_in_items(items, path, where):
    if not isinstance(items, list) or not items:
        _at(where, path, "'in' needs a non-empty list of strings or numbers")
    for index, item in enumerate(items):
        # The server's schema types in-list items as string|number only.
        if isinstance(item, bool) or not _is_scalar(item):
            _at(where, '%s[%d]' % (path, index),
                'expected a string or a number, got %s' % _json_type(item))


def _check_leaf(op, body, path, where):
    """Validate {op: {field: value}}; return its canonical form."""
    field, value = _single_key(body, path, where, 'field')
    field_path = _path(path, field)
    key = _json_field(field, field_path, where)
    if op == 'in':
        if key.startswith('metadata.'):
            _at(where, field_path, "'in' is not supported on metadata fields "
                                   "(the server answers 501); use 'or' of '='")
        _check_in_items(value, field_path, where)
    elif not _is_scalar(value):
        _at(where, field_path, 'expected a string, number or boolean, got %s'
                               % _json_type(value))
    return {_JSON_OP_SYNONYMS.get(op, op): {key: value}}


def _check_logical(op, body, path, where):
    if not isinstance(body, list) or len(body) < 2:
        _at(where, path, "'%s' needs a list of at least 2 expressions" % op)
    return {op: [_check_expr(item, '%s[%d]' % (path, index), where)
                 for index, item in enumerate(body)]}


def _check_expr(node, path, where):
    """Validate one filter expression; return its canonical form."""
    op, body = _single_key(node, path, where, 'operator')
    lowered = op.lower()   # operator names are case-insensitive
    child = _path(path, op)
    if lowered in _JSON_LOGICAL_OPS:
        return _check_logical(lowered, body, child, where)
    if lowered == 'not':
        return {'not': _check_expr(body, child, where)}
    if lowered in _JSON_SIMPLE_OPS or lowered == 'in':
        return _check_leaf(lowered, body, child, where)
    _at(where, path, "unknown operator '%s' (expected one of: %s)"
                     % (op, _JSON_OP_LIST))


def _parse_json(text, where):
    """Return (tree as written, canonical tree)."""
    tree = _load_json(text, where)
    try:
        return tree, _check_expr(tree, '', where)
    except RecursionError:
        _fail(where, _TOO_DEEP)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def _canonical_constraint(item):
    if not item.is_metadata:
        # The server ignores q.type here and compares strings.
        return [item.key, item.op, 'str', item.value]
    # The Python type of a metadata value selects the server's typed
    # metadata table, so it is part of the meaning; datetime stays a string
    # in a complex filter but is a different type in a simple query.
    kind = 'datetime' if item.type == 'datetime' else type(item.typed).__name__
    return [item.key, item.op, kind, item.typed]


class FilterQuery:
    """A validated mapping filter; build it with parse_filter()."""

    def __init__(self, text, is_json, where, constraints=(), tree=None,
                 canonical=None):
        self.text = text
        self.is_json = is_json
        self.where = where
        self.constraints = constraints   # CLI grammar only
        self._tree = tree                # JSON only, as written
        self._canonical = canonical      # JSON only, normalised

    @property
    def is_empty(self):
        return not self.text

    def simple_q(self):
        """The ``q`` list for a simple query, as cli_to_array builds it."""
        if self.is_json:
            _fail(self.where, 'a JSON filter needs query_mode complex')
        for item in self.constraints:
            if item.op != 'eq':
                _fail(self.where, "'%s' cannot be sent as a simple query: "
                                  "the simple API only accepts '=' on %s "
                                  "(use query_mode complex)"
                                  % (item.text, item.field))
        return [item.as_q() for item in self.constraints]

    def complex_filter(self):
        """The filter dict for POST /v2/query/samples, or None when empty."""
        if self.is_json:
            return copy.deepcopy(self._tree)
        leaves = [{_CLI_TO_JSON_OP[item.op]: {item.key: item.typed}}
                  for item in self.constraints]
        if not leaves:
            return None
        # The server's schema requires 'and' to have at least two items.
        return leaves[0] if len(leaves) == 1 else {'and': leaves}

    def _canonical_form(self):
        if self.is_json:
            return ['json', self._canonical]
        # Constraints are ANDed (a field cannot repeat with '='), so their
        # order does not matter.
        items = [_canonical_constraint(item) for item in self.constraints]
        return ['cli', sorted(items, key=json.dumps)]

    def fingerprint(self):
        """sha256 hex of a canonical form of the query."""
        text = json.dumps(self._canonical_form(), sort_keys=True,
                          separators=(',', ':'), ensure_ascii=False)
        return hashlib.sha256(text.encode('utf-8')).hexdigest()

    def __eq__(self, other):
        if not isinstance(other, FilterQuery):
            return NotImplemented
        return self.fingerprint() == other.fingerprint()

    def __hash__(self):
        return hash(self.fingerprint())

    def __repr__(self):
        return 'FilterQuery(%r)' % (self.text,)


def parse_filter(text, where='query'):
    """Parse and validate a mapping's ``query`` option."""
    text = (text or '').strip()
    if not text:
        return FilterQuery('', False, where)
    if text.startswith('{'):
        tree, canonical = _parse_json(text, where)
        return FilterQuery(text, True, where, tree=tree, canonical=canonical)
    if text.startswith('['):
        _fail(where, 'a JSON filter must be an object ({...}), not a list')
    return FilterQuery(text, False, where, constraints=_parse_cli(text, where))


@dataclasses.dataclass(frozen=True)
class Mapping:
    name: str               # NAME from [mapping:NAME]: the checkpoint identity
    query: FilterQuery
    meters: tuple           # meter names in given order, de-duplicated
    discover: bool          # True when meters = *


# Characters a meter name cannot hold: the client puts the name into the URL
# path without encoding, and '*' alone means discovery.
_BAD_METER_CHARS = set('/?#%*')


def _check_name(name):
    if not name or any(c.isspace() for c in name):
        raise MappingError('[mapping:%s] invalid section name: a mapping name '
                           'must be non-empty and have no whitespace' % name)


def _check_options(section, options):
    for option in options:
        if option in OPTIONS:
            continue
        hint = difflib.get_close_matches(option, OPTIONS, n=1)
        extra = "; did you mean '%s'?" % hint[0] if hint else ''
        raise MappingError('%s %s: unknown option (known: %s%s)'
                           % (section, option, ', '.join(sorted(OPTIONS)),
                              extra))


def _option_text(section, options, option):
    value = options.get(option)
    if value is None:
        return ''
    if not isinstance(value, str):
        raise MappingError('%s %s: expected a string, got %r'
                           % (section, option, value))
    return value.strip()


def _check_meter(where, meter):
    if not meter:
        raise MappingError('%s: empty meter name in the list' % where)
    if any(c.isspace() for c in meter):
        raise MappingError("%s: invalid meter name '%s': whitespace inside "
                           "(meter names are comma-separated)" % (where, meter))
    bad = sorted(set(meter) & _BAD_METER_CHARS)
    if bad:
        raise MappingError("%s: invalid meter name '%s': it contains '%s'"
                           % (where, meter, ''.join(bad)))


def _parse_meters(section, text):
    where = '%s meters' % section
    if not text:
        raise MappingError("%s: missing: list meter names (comma-separated) "
                           "or '*' to discover them" % where)
    if text == DISCOVER:
        return (), True
    items = [item.strip() for item in text.split(',')]
    if DISCOVER in items:
        raise MappingError("%s: '*' (discover all meters) cannot be mixed "
                           "with meter names" % where)
    for meter in items:
        _check_meter(where, meter)
    return tuple(dict.fromkeys(items)), False


def parse_mapping(name, options):
    """Build a Mapping from the raw options of section [mapping:NAME]."""
    _check_name(name)
    section = '[mapping:%s]' % name
    _check_options(section, options)
    meters, discover = _parse_meters(
        section, _option_text(section, options, 'meters'))
    query = parse_filter(_option_text(section, options, 'query'),
                         where='%s query' % section)
    return Mapping(name=name, query=query, meters=meters, discover=discover)
