"""A mapping's query evaluated in Python, with the API's semantics.

The receiver has no API to ask which samples a mapping selects, so it
evaluates the mapping's filter tree (``FilterQuery.filter_tree``: the
complex filter both query modes agree on, canonical names) itself, the way Ceilometer's SQL driver
does:

* model fields are SQL columns: a NULL column makes a comparison unknown;
  the literal is converted to the column's type (text, or a double for the
  volume);
* ``metadata.KEY`` reads the sample's ORIGINAL typed metadata (not the
  flattened strings the API shows): the driver keeps one table per Python
  type (text/None, bigint, float, bool) under the key paths of
  ``ceilometer.utils.dict_to_keyval`` (``a.b`` for nesting, ``l[0]`` for
  lists) and compares a value only with the table of its own type, through
  an outer join, so a missing key or a stored value of another type reads
  as NULL;
* three-valued logic: ``not`` and ``!=`` on an unknown stay unknown, and a
  sample is selected only when the whole filter is true.
"""

import operator
import re

from ceilometer_export.query import complex

_OPS = {'=': operator.eq, '!=': operator.ne, '<': operator.lt,
        '>': operator.gt, '<=': operator.le, '=<': operator.le,
        '>=': operator.ge, '=>': operator.ge}
# Complex-query field names and aliases -> Subject.columns keys: the
# grammar's table, plus the fields the exporter adds itself.
_FIELDS = dict(complex.JSON_FIELDS, counter_name='counter_name',
               meter='counter_name', message_id='message_id')
_META_PREFIXES = ('metadata.', 'resource_metadata.')
_NULL = object()


class Subject(object):
    """What a filter is evaluated on: the sample's columns (None = NULL)
    and its original metadata, whose typed leaves (``typed_leaves``) are
    computed only if a filter reads them."""

    __slots__ = ('columns', '_raw', '_leaves')

    def __init__(self, columns, raw_metadata):
        self.columns = columns
        self._raw = raw_metadata
        self._leaves = None

    @property
    def metadata(self):
        if self._leaves is None:
            self._leaves = typed_leaves(self._raw)
        return self._leaves


def typed_leaves(value, base=None):
    """{key path: scalar} as ceilometer.utils.dict_to_keyval stores them
    in the SQL driver's typed metadata tables."""
    found = {}
    if isinstance(value, dict):
        items = ((base + '.' + k if base else k, v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = (('%s[%d]' % (base, i), v) for i, v in enumerate(value))
    else:
        return found
    for key, item in items:
        if isinstance(item, (dict, list, tuple)):
            found.update(typed_leaves(item, key))
        else:
            found[key] = item
    return found


def _category(value):
    """The typed table a value lives in (bool is not an int there)."""
    kind = type(value)
    if kind is bool:
        return 'bool'
    if kind is int:
        return 'int'
    if kind is float:
        return 'float'
    if kind is str or value is None:
        return 'text'
    return None


def _coerce(column, value):
    """The database's implicit conversion of the literal."""
    if column == 'counter_volume':
        try:
            return float(value)
        except (TypeError, ValueError):
            return 0.0
    return value if isinstance(value, str) else str(value)


def _compare(op, value):
    if op == '=~':
        try:
            pattern = re.compile(str(value))
        except re.error as exc:
            raise ValueError('invalid regular expression %r: %s'
                             % (value, exc)) from None
        return lambda stored, _: pattern.search(str(stored)) is not None
    if op == 'in':
        return lambda stored, values: stored in values
    return _OPS[op]


def _metadata_key(field):
    for prefix in _META_PREFIXES:
        if field.startswith(prefix):
            return field[len(prefix):]
    return None


def _leaf(op, field, value):
    key = _metadata_key(field)
    compare = _compare(op, value)
    if key is not None:
        wanted = _category(value)

        def test(subject):
            stored = subject.metadata.get(key, _NULL)
            if stored is _NULL or stored is None \
                    or _category(stored) != wanted:
                return None
            return compare(stored, value)
        return test
    column = _FIELDS.get(field)
    if op == 'in':
        value = [_coerce(column, v) for v in value]
    elif op != '=~':
        value = _coerce(column, value)

    def test(subject):
        stored = subject.columns.get(column)
        return None if stored is None else compare(stored, value)
    return test


def _and(tests):
    def test(subject):
        result = True
        for child in tests:
            outcome = child(subject)
            if outcome is False:
                return False
            if outcome is None:
                result = None
        return result
    return test


def _or(tests):
    def test(subject):
        result = False
        for child in tests:
            outcome = child(subject)
            if outcome:
                return True
            if outcome is None:
                result = None
        return result
    return test


def _not(child):
    def test(subject):
        outcome = child(subject)
        return None if outcome is None else not outcome
    return test


def _compile(expr):
    (op, operand), = expr.items()
    op = op.lower()
    if op == 'and':
        return _and([_compile(child) for child in operand])
    if op == 'or':
        return _or([_compile(child) for child in operand])
    if op == 'not':
        return _not(_compile(operand))
    (field, value), = operand.items()
    return _leaf(op, field, value)


def compile_filter(expr):
    """A complex filter (None: everything) -> function(Subject) -> bool."""
    if expr is None:
        return lambda subject: True
    test = _compile(expr)
    return lambda subject: test(subject) is True


def _mapping_test(mapping):
    try:
        return compile_filter(mapping.query.filter_tree())
    except ValueError as exc:
        raise ValueError('[mapping:%s] query: %s' % (mapping.name, exc)) \
            from None


class Selector:
    """Which configured mappings select a sample (meters and query)."""

    def __init__(self, mappings):
        self._rules = [(m.name, None if m.discover else frozenset(m.meters),
                        _mapping_test(m)) for m in mappings]

    def may_select(self, meter):
        """Whether some mapping takes this meter (None: unknown, yes)."""
        return meter is None or any(
            meters is None or meter in meters for _, meters, _ in self._rules)

    def selecting(self, meter, subject):
        """Names of the mappings that keep this sample."""
        return [name for name, meters, test in self._rules
                if (meters is None or meter in meters) and test(subject)]
