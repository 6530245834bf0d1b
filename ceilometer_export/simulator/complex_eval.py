"""Evaluate a validated complex query against the store.

Leaves follow SQL three-valued logic: a NULL column, or a metadata key that
is missing or stored with another type, makes a comparison unknown (None),
so neither ``!=`` nor ``not`` on it matches, as with the SQL driver's outer
joins. The order is the order-by list with no implicit tie-breaker.
"""
import json
import operator
import re

from ceilometer_export.simulator import errors
from ceilometer_export.simulator import metamatch
from ceilometer_export.simulator import model

_OPS = {'=': operator.eq, '!=': operator.ne, '<': operator.lt,
        '>': operator.gt, '<=': operator.le, '=<': operator.le,
        '>=': operator.ge, '=>': operator.ge}
_STRING_COLUMNS = ('source', 'user_id', 'project_id', 'resource_id',
                   'message_id')
_META_PREFIX = 'resource_metadata.'


def column_getter(field):
    """How to read a model field from a record (order-by and filters)."""
    if field in _STRING_COLUMNS or field in ('timestamp', 'recorded_at'):
        return operator.attrgetter(field)
    if field == 'counter_volume':
        return operator.attrgetter('volume')
    if field in ('counter_name', 'counter_type', 'counter_unit'):
        return operator.attrgetter('meter.' + field[len('counter_'):])
    if field == 'resource_metadata':
        return lambda rec: json.dumps(rec.meta.raw, sort_keys=True,
                                      default=str)
    return lambda rec: None


def _coerce(field, value):
    """The SQL engine's implicit conversion of the literal."""
    if field == 'counter_volume':
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0.0
    if field in ('timestamp', 'recorded_at'):
        return value
    return value if isinstance(value, str) else str(value)


def _regex_test(pattern):
    try:
        compiled = re.compile(str(pattern))
    except re.error as exc:
        raise errors.ServerError('Got error %s from regexp' % exc)
    return lambda column, _: compiled.search(str(column)) is not None


def _comparator(op, value):
    if op == '=~':
        return _regex_test(value)
    if op == 'in':
        return lambda column, values: column in values
    return _OPS[op]


def _leaf(op, field, value):
    if field.startswith(_META_PREFIX):
        return _metadata_leaf(op, field[len(_META_PREFIX):], value)
    if field == 'recorded_at':
        # Not converted to a datetime by the API: the MySQL bind fails.
        raise errors.ServerError("'%s' object has no attribute "
                                 "'utctimetuple'" % type(value).__name__)
    getter = column_getter(field)
    compare = _comparator(op, value)
    if op == 'in':
        value = [_coerce(field, v) for v in value]
    elif op != '=~':
        value = _coerce(field, value)

    def test(rec):
        column = getter(rec)
        if column is None:
            return None
        return compare(column, value)
    return test


def no_source_column():
    # The SQL driver's FullSample maps the column as source_id, and the
    # complex query looks fields up by name: 'source' in a filter or an
    # order-by is a 500 on 9.0.7 (seen on the real API).
    return errors.ServerError(
        "type object 'FullSample' has no attribute 'source'")


def _names_source(expr):
    # Only the API path fails: compile_filter still evaluates 'source' (as
    # a simple query does), for callers that use it as the semantics.
    if expr is None:
        return False
    (op, operand), = expr.items()
    if op in ('and', 'or'):
        return any(_names_source(child) for child in operand)
    if op == 'not':
        return _names_source(operand)
    return 'source' in operand


def _metadata_leaf(op, key, value):
    if op == 'in':
        raise errors.not_implemented(
            'Metadata query with in operator is not implemented')
    compare = _comparator(op, value)

    def test(rec):
        stored = metamatch.lookup(rec.meta.typed, key, value)
        if stored is metamatch.NULL or stored is None:
            return None
        return compare(stored, value)
    return test


def _and(tests):
    def test(rec):
        result = True
        for child in tests:
            outcome = child(rec)
            if outcome is False:
                return False
            if outcome is None:
                result = None
        return result
    return test


def _or(tests):
    def test(rec):
        result = False
        for child in tests:
            outcome = child(rec)
            if outcome:
                return True
            if outcome is None:
                result = None
        return result
    return test


def _not(child):
    def test(rec):
        outcome = child(rec)
        return None if outcome is None else not outcome
    return test


def compile_filter(expr):
    """Filter tree -> function(record) -> True/False/None."""
    if expr is None:
        return lambda rec: True
    (op, operand), = expr.items()
    if op == 'and':
        return _and([compile_filter(child) for child in operand])
    if op == 'or':
        return _or([compile_filter(child) for child in operand])
    if op == 'not':
        return _not(compile_filter(operand))
    (field, value), = operand.items()
    return _leaf(op, field, value)


# -- planning: which meter lists and which timestamp window to read -------

def meter_names(expr):
    """Meter names the filter can match, or None for any."""
    if expr is None:
        return None
    (op, operand), = expr.items()
    if op in ('and', 'or'):
        sets = [meter_names(child) for child in operand]
        if op == 'and':
            known = [s for s in sets if s is not None]
            return set.intersection(*known) if known else None
        return None if any(s is None for s in sets) else set.union(*sets)
    if op == 'not':
        return None
    (field, value), = operand.items()
    if field != 'counter_name':
        return None
    if op == '=' and isinstance(value, str):
        return {value}
    if op == 'in':
        return {v for v in value if isinstance(v, str)}
    return None


def key_bounds(expr):
    """Conservative [lo, hi) sort-key window for the timestamp leaves."""
    if expr is None:
        return None, None
    (op, operand), = expr.items()
    if op in ('and', 'or'):
        bounds = [key_bounds(child) for child in operand]
        los = [b[0] for b in bounds]
        his = [b[1] for b in bounds]
        if op == 'and':
            return (max((x for x in los if x is not None), default=None),
                    min((x for x in his if x is not None), default=None))
        return (None if None in los else min(los),
                None if None in his else max(his))
    if op == 'not':
        return None, None
    (field, value), = operand.items()
    if field != 'timestamp':
        return None, None
    return _leaf_bounds(op, value)


def _leaf_bounds(op, value):
    if op in ('>', '>=', '=>'):
        return model.lower_key(value, strict=op == '>'), None
    if op in ('<', '<=', '=<'):
        return None, model.upper_key(value, inclusive=op != '<')
    if op == '=':
        return (model.lower_key(value, strict=False),
                model.upper_key(value, inclusive=True))
    return None, None


# -- execution ----------------------------------------------------------------

def sort_records(recs, orderby):
    """Stable multi-key sort; NULLs first ascending (MySQL)."""
    for field, direction in reversed(orderby):
        getter = column_getter(field)
        recs.sort(key=lambda rec: _null_first(getter(rec)),
                  reverse=direction == 'desc')
    return recs


def _null_first(value):
    return (value is not None, value if value is not None else 0)


def run(store, query):
    """Records answering the query, in the order the API returns them."""
    if (_names_source(query.filter) or
            any(field == 'source' for field, _ in query.orderby or ())):
        raise no_source_column()
    test = compile_filter(query.filter)
    names = meter_names(query.filter)
    names = None if names is None else sorted(names)
    lo, hi = key_bounds(query.filter)
    orderby = query.orderby
    with store.lock:
        if orderby is None:
            return _take(store.records(names, lo, hi, True), test, query.limit)
        if orderby and orderby[0][0] == 'timestamp':
            descending = orderby[0][1] == 'desc'
            recs = _take_with_ties(store.records(names, lo, hi, descending),
                                   test, query.limit)
        else:
            recs = [r for r in store.records(names, lo, hi, False) if test(r)]
    if not orderby:
        # An empty order-by list means no ORDER BY: table (insertion) order.
        recs.sort(key=lambda rec: rec.seq)
    return sort_records(recs, orderby)[:query.limit]


def _take(records, test, limit):
    found = []
    for rec in records:
        if test(rec):
            found.append(rec)
            if len(found) >= limit:
                break
    return found


def _take_with_ties(records, test, limit):
    """Enough records in timestamp order to sort the page's last instant."""
    found = []
    edge = None
    for rec in records:
        if edge is not None and rec.timestamp != edge:
            break
        if test(rec):
            found.append(rec)
            if len(found) == limit:
                edge = rec.timestamp
    return found
