"""What the database holds, per UTC hour, for verify: the stored rows a
mapping's filter selects (``query.sql``), counted in SQL, and the rejects
that account for samples of the API.

Each function takes an engine (``Store.query``) and reads only counts or
message ids, never whole samples.
"""

import datetime

import sqlalchemy as sa

from ceilometer_export.query import dialects
from ceilometer_export.query import sql as query_sql
from ceilometer_export.store import runs
from ceilometer_export.store import schema

_S = schema.samples
_R = schema.export_rejects
_EPOCH = datetime.datetime(1970, 1, 1)
_HOUR_SECONDS = 3600
_ID_CHUNK = 1000


def _selected(sql, meter, tree, start, end):
    return sa.and_(_S.c.counter_name == meter, _S.c.timestamp >= start,
                   _S.c.timestamp < end,
                   query_sql.condition(tree, _S, sql))


def check_filter(engine, tree):
    """Raise ``query.sql.UnsupportedFilter`` when ``tree`` cannot be
    evaluated here; compiles the condition, runs nothing."""
    query_sql.condition(tree, _S, dialects.Sql(engine.dialect))


def per_hour(engine, meter, tree, start, end):
    """{hour: rows} of ``meter`` in [start, end) that ``tree`` (a
    ``FilterQuery.filter_tree()``) selects; one GROUP BY."""
    sql = dialects.Sql(engine.dialect)
    epoch = sql.epoch_seconds(_S.c.timestamp)
    # The hour goes through a subquery so that GROUP BY names a column,
    # not an expression PostgreSQL would have to match with its bound
    # parameters.
    inner = sa.select((epoch - epoch % _HOUR_SECONDS).label('hour')).where(
        _selected(sql, meter, tree, start, end)).subquery()
    query = sa.select(inner.c.hour, sa.func.count()).group_by(inner.c.hour)
    with engine.connect() as conn:
        return {_EPOCH + datetime.timedelta(seconds=int(hour)): n
                for hour, n in conn.execute(query)}


def ids(engine, meter, tree, start, end):
    """Message ids of the rows ``per_hour`` counts in [start, end)."""
    sql = dialects.Sql(engine.dialect)
    query = sa.select(_S.c.message_id).where(
        _selected(sql, meter, tree, start, end))
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def stored(engine, message_ids):
    """Those of ``message_ids`` stored at all (any meter, any time)."""
    message_ids = sorted(message_ids)
    found = set()
    with engine.connect() as conn:
        for at in range(0, len(message_ids), _ID_CHUNK):
            chunk = message_ids[at:at + _ID_CHUNK]
            found.update(conn.execute(sa.select(_S.c.message_id).where(
                _S.c.message_id.in_(chunk))).scalars())
    return found


def rejected(engine, mapping, meter, start, end):
    """Message ids in ``export_rejects`` for the pair in [start, end)."""
    query = sa.select(_R.c.message_id).distinct().where(
        _R.c.mapping == mapping, _R.c.meter == meter,
        _R.c.sample_timestamp >= start, _R.c.sample_timestamp < end,
        _R.c.message_id.is_not(None))
    with engine.connect() as conn:
        return set(conn.execute(query).scalars())


def record_run(engine, kind, mapping, started_at, finished_at, samples,
               outcome, error):
    """One finished ``export_runs`` row (a verify or repair run)."""
    with engine.begin() as conn:
        run_id = runs.start(conn, kind, mapping, runs.worker_name(),
                            started_at)
        runs.add(conn, run_id, samples, 0, finished_at)
        runs.finish(conn, run_id, outcome, error, finished_at)
