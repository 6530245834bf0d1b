"""The only dialect differences of evaluating a mapping's query in SQL.

- reading one key of ``resource_metadata`` as text: PostgreSQL ``->>`` on
  JSONB; MySQL/MariaDB ``JSON_EXTRACT`` with the key quoted as a JSON
  string in the path (keys may hold dots, quotes or ``$``); SQLite through
  ``json_each``, whose key match is exact whatever the key holds (its path
  syntax cannot quote a ``"``);
- byte-wise text comparison and the epoch seconds of a timestamp, shared
  with the stats queries (``stats.dialects``).

Regular expressions use SQLAlchemy's ``regexp_match`` (PostgreSQL ``~``,
MySQL ``REGEXP``, SQLite ``REGEXP`` bound to Python's ``re.search`` by the
pysqlite dialect); numeric casts are plain ``CAST`` on every backend.
"""

import json

import sqlalchemy as sa

from ceilometer_export.stats import dialects as stats_dialects


def _json_text_sqlite(col, key):
    each = sa.func.json_each(col).table_valued('key', 'value')
    return (sa.select(each.c.value).where(each.c.key == key)
            .scalar_subquery())


def _json_text_pg(col, key):
    return col.op('->>')(sa.literal(key, sa.Text))


def _json_text_mysql(col, key):
    path = '$.' + json.dumps(key, ensure_ascii=False)
    return sa.func.json_unquote(sa.func.json_extract(col, path))


_JSON_TEXT = {
    'sqlite': _json_text_sqlite,
    'postgresql': _json_text_pg,
    'mysql': _json_text_mysql,
    'mariadb': _json_text_mysql,
}


class Sql(stats_dialects.Sql):
    """Dialect-specific expressions for one (connected) dialect."""

    def json_text(self, col, key):
        """The text value of ``key`` in the JSON object ``col`` (NULL when
        the key is absent), for byte-wise comparison."""
        text = _JSON_TEXT[self.dialect.name](col, key)
        return self.exact(sa.type_coerce(text, sa.Text))
