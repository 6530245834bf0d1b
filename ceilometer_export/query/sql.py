"""A mapping's query as an SQL condition on the ``samples`` table.

Selects the stored rows the API would select with the same filter
(ceilometer-v2-api.md 4.3, 5.2, 5.3; the simulator models the SQL driver),
identically on SQLite, PostgreSQL and MySQL/MariaDB:

- ``source``, ``user_id``, ``project_id``, ``resource_id``, ``counter_type``
  and ``counter_unit`` are columns compared as text, byte for byte; a value
  that is not a string is compared as its ``str()``, as the server binds it;
  ``counter_volume`` compares as a number (a non-numeric value as 0.0);
- ``metadata.KEY`` reads ``resource_metadata``, which holds what the API
  returned: flattened keys (``a.b.c`` is stored as ``a.b:c``) and ``str()``
  of every value. The API compares a value only with metadata of the same
  Python type (one table per type, outer-joined), so the query's type
  decides how the stored text is read: an integer only matches texts that
  are integers (``'12'``), a float only float texts (``'1.5'``, ``'1e+20'``),
  a boolean only ``'True'``/``'False'``, a string any text. ``'None'`` (a
  None value) compares as NULL, as it does in the API;
- SQL's three-valued logic is the API's: a NULL column or an absent key
  makes a comparison unknown, so neither ``!=`` nor ``not`` matches it.

What the stored text cannot tell: the original type is lost in the API's
flattening (a string ``'12'`` and the integer 12 both read ``'12'``), so a
query whose value's type differs from the type the cloud stores under that
key (``metadata.flavor.id=1`` against the string ``'1'``) selects rows here
that the API does not. List values (``'[1, 2]'``) and their items
(``metadata.k[0]``) cannot be compared item by item; integers beyond 18
digits and floats beyond 1e+299 never match; ``=~`` uses each database's
own regular expression flavour.
"""

import sqlalchemy as sa

from ceilometer_export.query.base import MappingError

_TEXT_COLUMNS = ('source', 'user_id', 'project_id', 'resource_id',
                 'counter_type', 'counter_unit')
_COMPARE = {
    '=': lambda a, b: a == b, '!=': lambda a, b: a != b,
    '<': lambda a, b: a < b, '<=': lambda a, b: a <= b,
    '>': lambda a, b: a > b, '>=': lambda a, b: a >= b,
}
# str() of an int, and of a finite float, within the ranges every backend
# casts without an error.
_INT_TEXT = '^-?(0|[1-9][0-9]{0,17})$'
_EXPONENT = 'e[+-]([0-9]{2}|[12][0-9]{2})'
_FLOAT_TEXT = '^-?[0-9]{1,17}([.][0-9]{1,17}(%s)?|%s)$' % (_EXPONENT,
                                                           _EXPONENT)


class UnsupportedFilter(MappingError):
    """The filter uses something the database cannot evaluate."""


def condition(tree, table, sql):
    """The SQL condition of a ``FilterQuery.filter_tree()`` over ``table``
    (the ``samples`` columns), for ``sql`` (``query.dialects.Sql``)."""
    if tree is None:
        return sa.true()
    return _Compiler(table, sql).node(tree)


class _Compiler(object):

    def __init__(self, table, sql):
        self.table = table
        self.sql = sql

    def node(self, tree):
        (op, body), = tree.items()
        if op == 'and':
            return sa.and_(*[self.node(child) for child in body])
        if op == 'or':
            return sa.or_(*[self.node(child) for child in body])
        if op == 'not':
            return sa.not_(self.node(body))
        (field, value), = body.items()
        if field.startswith('metadata.'):
            return self.metadata(op, field[len('metadata.'):], value)
        if field == 'counter_volume':
            return self.volume(op, value)
        if field in _TEXT_COLUMNS:
            return self.text(op, self.table.c[field], value)
        raise UnsupportedFilter("field '%s' is not stored in the database"
                                % field)

    def text(self, op, column, value):
        if op == 'in':
            return self.sql.in_(column, [_as_text(v) for v in value])
        return self.compare(op, column, _as_text(value))

    def compare(self, op, column, value):
        """``column op value`` on text, byte for byte."""
        if op == '=':
            return self.sql.equals(column, value)
        if op == '=~':
            return self.sql.exact(column).regexp_match(value)
        return _COMPARE[op](self.sql.exact(column), value)

    def volume(self, op, value):
        column = self.table.c.counter_volume
        if op == 'in':
            return column.in_([_as_number(v) for v in value])
        if op == '=~':
            raise UnsupportedFilter("'=~' on counter_volume depends on how "
                                    "the database prints numbers")
        return _COMPARE[op](column, _as_number(value))

    def metadata(self, op, key, value):
        if op == 'in':
            raise UnsupportedFilter("'in' on metadata fields")
        stored = self.sql.json_text(self.table.c.resource_metadata,
                                    flat_key(key))
        if op == '=~':
            return self.typed_text(stored, value).regexp_match(str(value))
        if isinstance(value, str):
            return self.compare(op, self.typed_text(stored, value), value)
        return _COMPARE[op](self.typed_value(stored, value), _number(value))

    def typed_text(self, stored, value):
        """The stored text where it reads as a value of ``value``'s type,
        else NULL."""
        if isinstance(value, str):
            return sa.case((self.sql.exact(stored) == 'None', sa.null()),
                           else_=stored)
        if isinstance(value, bool):
            ok = self.sql.exact(stored).in_(('True', 'False'))
        else:
            ok = self.sql.exact(stored).regexp_match(
                _INT_TEXT if isinstance(value, int) else _FLOAT_TEXT)
        return sa.case((ok, stored), else_=sa.null())

    def typed_value(self, stored, value):
        """The stored text as a number of ``value``'s type, else NULL."""
        if isinstance(value, bool):
            return sa.case((self.sql.exact(stored) == 'True', 1),
                           (self.sql.exact(stored) == 'False', 0),
                           else_=sa.null())
        kind = sa.BigInteger if isinstance(value, int) else sa.Double
        return sa.cast(self.typed_text(stored, value), kind)


def flat_key(key):
    """The key under which the API's flattened metadata holds the value
    that ``metadata.KEY`` compares: every dot but the first becomes ':'."""
    return key.replace('.', ':').replace(':', '.', 1)


def _as_text(value):
    return value if isinstance(value, str) else str(value)


def _as_number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _number(value):
    if isinstance(value, bool):
        return int(value)
    return value
