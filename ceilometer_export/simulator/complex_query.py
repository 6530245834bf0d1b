"""POST /v2/query/samples: body validation and normalisation.

Mirrors ValidatedComplexQuery (ceilometer/api/controllers/v2/query.py, pike):
the jsonschema grammar, then timestamp conversion (offset dropped),
lower-cased operators, field aliases, non-admin project restriction, then
the order-by list, then the limit. Error texts are the ``str()`` of what the
real service raises on Python 3 (jsonschema messages reproduced by hand).
"""
import json
import re

from ceilometer_export.simulator import errors
from ceilometer_export.simulator import simple_query

COMPLEX_OPS = ('and', 'or')
FIELDS = ('source', 'counter_name', 'counter_type', 'counter_unit',
          'counter_volume', 'user_id', 'project_id', 'resource_id',
          'timestamp', 'resource_metadata', 'message_id',
          'message_signature', 'recorded_at')
ALIASES = {'user': 'user_id', 'project': 'project_id',
           'resource': 'resource_id', 'meter': 'counter_name',
           'type': 'counter_type', 'unit': 'counter_unit',
           'volume': 'counter_volume'}


def _alternatives(items, prefix=''):
    return prefix + '|'.join('^%s$' % item for item in items)


_FIELD_RE = re.compile(_alternatives(list(FIELDS) + list(ALIASES)))
_FILTER_FIELD_RE = re.compile(_FIELD_RE.pattern + r'|^metadata\.[\S]+$')
_SIMPLE_OP_RE = re.compile(_alternatives(
    ['=', '!=', '<', '>', '<=', '=<', '>=', '=>', '=~'], '(?i)'))
_ANDOR_RE = re.compile(_alternatives(COMPLEX_OPS, '(?i)'))
_NOT_RE = re.compile('(?i)^not$')
_IN_RE = re.compile('(?i)^in$')
DIRECTION_PATTERN = _alternatives(['asc', 'desc'], '(?i)')
_DIRECTION_RE = re.compile(DIRECTION_PATTERN)


class ComplexQuery(object):
    """The validated query: filter tree, order-by list and limit."""

    def __init__(self, filter_expr, orderby, limit):
        self.filter = filter_expr
        self.orderby = orderby
        self.limit = limit


# -- the grammar (jsonschema in the real service) ---------------------------

def _single(node):
    return isinstance(node, dict) and len(node) == 1


def _is_scalar(value):
    return isinstance(value, (str, int, float))


def _is_in_item(value):
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _field_ok(node, value_ok):
    if not _single(node):
        return False
    (field, value), = node.items()
    return bool(_FILTER_FIELD_RE.search(field)) and value_ok(value)


def _in_list_ok(value):
    return (isinstance(value, list) and len(value) >= 1
            and all(_is_in_item(v) for v in value))


def expression_ok(node):
    if not _single(node):
        return False
    (op, operand), = node.items()
    if _SIMPLE_OP_RE.search(op):
        return _field_ok(operand, _is_scalar)
    if _IN_RE.search(op):
        return _field_ok(operand, _in_list_ok)
    if _ANDOR_RE.search(op):
        return (isinstance(operand, list) and len(operand) >= 2
                and all(expression_ok(item) for item in operand))
    if _NOT_RE.search(op):
        return expression_ok(operand)
    return False


def _orderby_error(orderby):
    """First jsonschema error message for the order-by list, or None."""
    if not isinstance(orderby, list):
        return '%r is not of type %r' % (orderby, 'array')
    for item in orderby:
        if not isinstance(item, dict):
            return '%r is not of type %r' % (item, 'object')
        for field, direction in item.items():
            if not _FIELD_RE.search(field):
                continue
            if not isinstance(direction, str):
                return '%r is not of type %r' % (direction, 'string')
            if not _DIRECTION_RE.search(direction):
                return '%r does not match %r' % (direction, DIRECTION_PATTERN)
        extras = sorted(f for f in item if not _FIELD_RE.search(f))
        if extras:
            # jsonschema's additionalProperties text beside patternProperties
            # (checked against the real 9.0.7 API; the real API joins the
            # field alternatives in a per-process order, ours is fixed).
            return '%s %s not match any of the regexes: %r' % (
                ', '.join(repr(e) for e in extras),
                'does' if len(extras) == 1 else 'do', _FIELD_RE.pattern)
        if not item:
            return '%r does not have enough properties' % (item,)
        if len(item) > 1:
            return '%r has too many properties' % (item,)
    return None


# -- normalisation ------------------------------------------------------------

def _postorder(node, visit):
    (op, operand), = node.items()
    if op.lower() in COMPLEX_OPS:
        for child in operand:
            _postorder(child, visit)
    if op.lower() == 'not':
        _postorder(operand, visit)
    visit(node)


def _leaf(node):
    (op, operand), = node.items()
    return None if op.lower() in COMPLEX_OPS else (op, operand)


def _convert_timestamps(node):
    leaf = _leaf(node)
    if leaf is None:
        return
    op, operand = leaf
    field = list(operand)[0]
    if field in ('timestamp', 'state_timestamp'):
        value = operand[field]
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            operand[field] = simple_query.parse_timestamp(value)
        except ValueError:
            raise errors.ClientError(
                'Failed to parse the timestamp value %s' % (value,))


def _lower_op(node):
    (op, operand), = list(node.items())
    del node[op]
    node[op.lower()] = operand


def _rename_field(mapping):
    (field, value), = list(mapping.items())
    if field in ALIASES:
        del mapping[field]
        mapping[ALIASES[field]] = value
    if field.startswith('metadata.'):
        del mapping[field]
        mapping['resource_' + field] = value


def _normalise_names(node):
    leaf = _leaf(node)
    if leaf is not None:
        _rename_field(leaf[1])


def _check_projects(node, own_project):
    leaf = _leaf(node)
    if leaf is None:
        return
    operand = leaf[1]
    field = list(operand)[0]
    if field == 'project_id' and operand[field] != own_project:
        raise errors.not_authorized(operand[field])


# -- entry point --------------------------------------------------------------

def parse_filter(text, auth_project):
    expr = None
    if text is not None:
        try:
            expr = json.loads(text)
        except ValueError as exc:
            raise errors.ClientError('Filter expression not valid: %s' % exc)
        if not expression_ok(expr):
            raise errors.ClientError(
                'Filter expression not valid: %r is not valid under any of '
                'the given schemas' % (expr,))
        _postorder(expr, _convert_timestamps)
        _postorder(expr, _lower_op)
        _postorder(expr, _normalise_names)
    if auth_project:
        restriction = {'=': {'project_id': auth_project}}
        expr = restriction if expr is None else {'and': [restriction, expr]}
        _postorder(expr, lambda node: _check_projects(node, auth_project))
    return expr


def parse_orderby(text):
    if text is None:
        return None
    try:
        orderby = json.loads(text)
    except ValueError as exc:
        raise errors.ClientError('Order-by expression not valid: %s' % exc)
    problem = _orderby_error(orderby)
    if problem:
        raise errors.ClientError('Order-by expression not valid: %s' % problem)
    result = []
    for item in orderby:
        (field, direction), = item.items()
        result.append((ALIASES.get(field, field), direction.lower()))
    return result


def check_body(body):
    """WSME's conversion of the body into a ComplexQuery object."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise errors.invalid_input('body', body, 'Value should be an object')
    unknown = sorted(set(body) - set(('filter', 'orderby', 'limit')))
    if unknown:
        raise errors.ClientError('Unknown attribute for argument body: %s'
                                 % ', '.join(unknown))
    checked = {}
    for name in ('filter', 'orderby'):
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise errors.invalid_input(
                name, value, "Wrong type. Expected '%s', got '%s'"
                % (str, type(value)))
        checked[name] = value
    checked['limit'] = _body_limit(body.get('limit'))
    return checked


def _body_limit(value):
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError('invalid literal for int(): %r' % (value,))
        return int(value)
    except (TypeError, ValueError) as exc:
        raise errors.invalid_input('limit', value, str(exc))


def parse(body, auth_project, default_limit):
    """body: the checked request body (see check_body)."""
    expr = parse_filter(body.get('filter'), auth_project)
    orderby = parse_orderby(body.get('orderby'))
    limit = body.get('limit')
    if limit is None:
        limit = default_limit
    if not limit or limit <= 0:
        raise errors.ClientError('Limit must be positive')
    return ComplexQuery(expr, orderby, limit)
