"""Metadata comparisons with the SQL driver's typed-table semantics.

The SQL driver stores each metadata leaf in one table per Python type
(text/None, bigint, float, bool) and compares a query value only against the
table of the value's own type, through an outer join: a key that is missing,
or stored with another type, reads as SQL NULL.
"""
from ceilometer_export.simulator import errors
from ceilometer_export.simulator import model

NULL = model.MISSING


def category(value):
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


def check_queryable(key, value):
    """Raise the driver's 501 for values no typed table can hold."""
    if category(value) is None:
        raise errors.not_implemented(
            'Query on %s is of %s type and is not supported' % (key, type(value)))


def lookup(typed, key, value):
    """The joined column's value, or NULL when the row would be absent."""
    stored = typed.get(key, NULL)
    if stored is NULL or category(stored) != category(value):
        return NULL
    return stored


def equals(typed, key, value):
    """Simple-query metadata equality (``value IS NULL`` for None)."""
    stored = lookup(typed, key, value)
    if value is None:
        return stored is NULL or stored is None
    return stored is not NULL and stored == value
