"""The hourly rollup: ``samples_hourly`` kept equal to a GROUP BY over
``samples``, in the transaction that writes the samples.

Buckets are (meter, hour) and are recomputed from ``samples`` (DELETE, then
INSERT .. SELECT .. GROUP BY) instead of being adjusted by deltas: a re-read,
an upsert that changes a volume, the metadata or the timestamp of a sample
can then never double count or leave a stale partial, and the same code
rebuilds everything after a migration.
"""

import datetime
import itertools

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import expression

from ceilometer_export.store import dialects
from ceilometer_export.store import schema

HOUR = datetime.timedelta(hours=1)
_S = schema.samples
_H = schema.samples_hourly
# The columns a bucket is split by: everything stats can filter or group
# on without reading raw samples.
GROUP_COLUMNS = ('counter_name', 'resource_id', 'project_id', 'user_id',
                 'source', 'dimension_set_id')
# Bounds the OR-list of one statement (3 bound parameters per range).
_RANGES_PER_STATEMENT = 200


def hour_start(timestamp):
    """The start of the (naive UTC) hour holding ``timestamp``."""
    return timestamp.replace(minute=0, second=0, microsecond=0)


def buckets_of(pairs):
    """{(counter_name, hour_start)} of (counter_name, timestamp) pairs."""
    return {(name, hour_start(ts)) for name, ts in pairs}


class hour_of(expression.FunctionElement):
    """SQL: the start of the hour of a timestamp column, stored in the same
    form as the column itself (SQLite compares timestamps as text)."""
    type = schema.timestamp_type()
    name = 'hour_of'
    inherit_cache = True


@compiles(hour_of)
def _hour(element, compiler, **kw):
    return dialects.of(compiler.dialect.name).hour(
        compiler.process(element.clauses, **kw))


def _ranges(buckets):
    """Merge consecutive hours of a meter: [(meter, start, end)]."""
    ranges = []
    ordered = sorted(buckets)
    for meter, hours in itertools.groupby(ordered, key=lambda b: b[0]):
        start = end = None
        for _, hour in hours:
            if end is not None and hour == end:
                end = hour + HOUR
                continue
            if start is not None:
                ranges.append((meter, start, end))
            start, end = hour, hour + HOUR
        ranges.append((meter, start, end))
    return ranges


def _where(meter_col, time_col, ranges):
    return sa.or_(*[sa.and_(meter_col == meter, time_col >= start,
                            time_col < end)
                    for meter, start, end in ranges])


def _aggregate_select(where):
    group = [_S.c[name] for name in GROUP_COLUMNS]
    hour = hour_of(_S.c.timestamp)
    volume = _S.c.counter_volume
    query = sa.select(*group, hour, sa.func.count(volume),
                      sa.func.sum(volume), sa.func.min(volume),
                      sa.func.max(volume)).group_by(*group, hour)
    return query if where is None else query.where(where)


_TARGET = list(GROUP_COLUMNS) + ['hour', 'count', 'sum', 'min', 'max']


def refresh(connection, buckets):
    """Recompute exactly these (counter_name, hour_start) buckets.

    Call it inside the transaction that changed the samples, with the
    buckets of the rows before and after the change, after ``lock``.
    """
    ranges = _ranges(buckets)
    for start in range(0, len(ranges), _RANGES_PER_STATEMENT):
        chunk = ranges[start:start + _RANGES_PER_STATEMENT]
        connection.execute(sa.delete(_H).where(
            _where(_H.c.counter_name, _H.c.hour, chunk)))
        connection.execute(sa.insert(_H).from_select(
            _TARGET, _aggregate_select(
                _where(_S.c.counter_name, _S.c.timestamp, chunk))))


def rebuild_all(connection):
    """Recompute the whole rollup (after a migration, or by hand)."""
    connection.execute(sa.delete(_H))
    connection.execute(sa.insert(_H).from_select(
        _TARGET, _aggregate_select(None)))


def lock(connection, meters):
    """Serialize writers of these meters until the transaction ends; call
    it first in the transaction, before reading the samples' old rows."""
    dialects.of(connection.dialect.name).lock(connection, meters)
