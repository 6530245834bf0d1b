"""The only dialect differences of stats queries, in one table.

- epoch seconds of a naive-UTC timestamp column, for epoch-aligned buckets
  (MySQL's UNIX_TIMESTAMP would apply the session time zone);
- text compared and grouped byte for byte (code point order), as SQLite
  does: PostgreSQL's default collation may be locale-aware, and MySQL's
  default collations ignore case (and trailing blanks), so 'Active' would
  equal 'active' there and nowhere else.
"""

import dataclasses
import typing

import sqlalchemy as sa
from sqlalchemy.dialects import mysql


def _epoch_sqlite(col):
    return sa.cast(sa.func.strftime('%s', col), sa.BigInteger)


def _epoch_pg(col):
    return sa.cast(sa.func.floor(sa.extract('epoch', col)), sa.BigInteger)


def _epoch_mysql(col):
    return sa.func.timestampdiff(
        sa.literal_column('SECOND'),
        sa.literal_column("TIMESTAMP '1970-01-01 00:00:00'"), col)


def _exact_plain(col, dialect):
    return col


def _exact_pg(col, dialect):
    return sa.collate(col, 'C')


def _exact_mysql(col, dialect):
    # NO PAD binary collations: trailing blanks count, as elsewhere.
    name = ('utf8mb4_nopad_bin' if getattr(dialect, 'is_mariadb', False)
            else 'utf8mb4_0900_bin')
    return sa.collate(sa.cast(col, mysql.CHAR(charset='utf8mb4')), name)


@dataclasses.dataclass(frozen=True)
class Flavor:
    epoch: typing.Callable
    exact: typing.Callable
    # Plain '=' may match more than byte-equal values: re-check exactly
    # (the plain comparison stays, so that indexes are still used).
    recheck_equality: bool


_FLAVORS = {
    'sqlite': Flavor(_epoch_sqlite, _exact_plain, False),
    'postgresql': Flavor(_epoch_pg, _exact_pg, False),
    'mysql': Flavor(_epoch_mysql, _exact_mysql, True),
    'mariadb': Flavor(_epoch_mysql, _exact_mysql, True),
}


class Sql(object):
    """Dialect-specific expressions for one (connected) dialect."""

    def __init__(self, dialect):
        self.dialect = dialect
        self.flavor = _FLAVORS[dialect.name]

    def epoch_seconds(self, col):
        return self.flavor.epoch(col)

    def exact(self, col):
        """The column for byte-wise comparison, ordering and grouping."""
        return self.flavor.exact(col, self.dialect)

    def equals(self, col, value):
        if self.flavor.recheck_equality:
            return sa.and_(col == value, self.exact(col) == value)
        return col == value

    def in_(self, col, values):
        if self.flavor.recheck_equality:
            return sa.and_(col.in_(values), self.exact(col).in_(values))
        return col.in_(values)
