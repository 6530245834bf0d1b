"""The JSON complex-query filter grammar (ceilometer-v2-api.md 5.2, 5.3).

Validated when the configuration is read, with the path of what is wrong,
so that a bad filter never reaches the API as a 400.
"""

import json
import math

from ceilometer_export.query.base import fail as _fail
from ceilometer_export.query.base import METADATA_KEY_RE as _METADATA_KEY_RE
from ceilometer_export.query.base import REFUSED_FIELDS as _REFUSED_FIELDS

_JSON_SIMPLE_OPS = frozenset(('=', '!=', '<', '<=', '=<', '>', '>=', '=>', '=~'))
_JSON_LOGICAL_OPS = frozenset(('and', 'or'))
# Spellings the server treats alike, folded for the fingerprint only.
_JSON_OP_SYNONYMS = {'=<': '<=', '=>': '>='}
_JSON_OP_LIST = '= != < <= =< > >= => =~ in and or not'
# Sample model fields and aliases (5.3), canonical name for fingerprints.
JSON_FIELDS = {
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
    if field in JSON_FIELDS:
        return JSON_FIELDS[field]
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


def parse_json(text, where):
    """Return (tree as written, canonical tree)."""
    tree = _load_json(text, where)
    try:
        return tree, _check_expr(tree, '', where)
    except RecursionError:
        _fail(where, _TOO_DEEP)
