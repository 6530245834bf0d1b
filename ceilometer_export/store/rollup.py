"""The hourly rollup: ``samples_hourly`` kept equal to a GROUP BY over
``samples``, in the transaction that writes the samples.

Two ways, chosen per row by what the upsert did to it (``apply``):

- a row the upsert INSERTED (no stored version) only adds to its group's
  row: count, sum, min and max merged in by the backend's "add to the
  rollup" statement (``dialects``), whose cost does not grow with the
  bucket (a first export in time order, the receiver's current hour);
- a row the upsert CHANGED (volume, timestamp, meter or grouping) makes
  its old and new (meter, hour) buckets be recomputed from ``samples``
  (DELETE, then INSERT .. SELECT .. GROUP BY): a moved or edited sample
  can then never double count or leave a stale partial. Inserted rows of
  a recomputed bucket are not added again.

Writers of a meter are serialized (``lock``), so a group's row cannot be
added by two transactions at once. ``rebuild_all`` recomputes everything
(after a migration).
"""

import datetime
import itertools
import operator

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import expression

from ceilometer_export.store import dialects
from ceilometer_export.store import schema
from ceilometer_export.store import writers

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


def apply(connection, page, written) -> None:
    """Bring the rollup up to date with a page's upsert: ``written`` is
    the writer's {message_id: None (inserted) | (old meter, old
    timestamp) (changed)}, ``page`` its ``pages.PreparedPage``."""
    changed = buckets_of(
        [page.buckets[i] for i, old in written.items() if old is not None]
        + [old for old in written.values() if old is not None])
    refresh(connection, changed)
    inserted = [i for i, old in written.items() if old is None]
    if not changed and len(inserted) == len(page):
        added = page.groups     # all new: as prepared, off the write path
    else:
        added = groups_of(page.buckets, page.rollup, inserted, changed)
    if added:
        dialects.of(connection.dialect.name).add_to_rollup(connection, _H,
                                                           added)


# Positions in ``writers.ROLLUP_COLUMNS`` of the volume and of the group
# columns after the meter.
_VOLUME = writers.ROLLUP_COLUMNS.index('counter_volume')
_GROUP_REST = operator.itemgetter(
    *[writers.ROLLUP_COLUMNS.index(c) for c in GROUP_COLUMNS[1:]])


def groups_of(buckets, rollups, ids, skip=frozenset()) -> list:
    """[(group columns.., hour, count, sum, min, max)] of these samples
    (``buckets``/``rollups``: a page's by message id), one per group,
    leaving out the (meter, hour) buckets in ``skip``."""
    groups = {}
    for message_id in ids:
        meter, timestamp = buckets[message_id]
        hour = hour_start(timestamp)
        if (meter, hour) in skip:
            continue
        values = rollups[message_id]
        key = (meter,) + _GROUP_REST(values) + (hour,)
        volume = values[_VOLUME]
        total = groups.get(key)
        if total is None:
            total = groups[key] = [0, None, None, None]
        if volume is None:
            continue        # COUNT/SUM/MIN/MAX over a column skip NULLs
        if total[0] == 0:
            total[:] = [1, volume, volume, volume]
        else:
            total[0] += 1
            total[1] += volume
            total[2] = min(total[2], volume)
            total[3] = max(total[3], volume)
    return [key + tuple(total) for key, total in groups.items()]


def rebuild_all(connection):
    """Recompute the whole rollup (after a migration, or by hand)."""
    connection.execute(sa.delete(_H))
    connection.execute(sa.insert(_H).from_select(
        _TARGET, _aggregate_select(None)))


def lock(connection, meters):
    """Serialize writers of these meters until the transaction ends; call
    it first in the transaction, before reading the samples' old rows."""
    dialects.of(connection.dialect.name).lock(connection, meters)
