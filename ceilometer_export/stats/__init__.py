"""Aggregates of exported samples by dimension (design section 7, the
multi-dimensions blueprint), evaluated in SQL by the database.

    aggregate(store_or_engine, 'cpu_util',
              dimensions={'instance_type': 'm1.small'},
              filter='status = active | resource_id in (r1, r2)',
              groupby=('project_id',), period=3600,
              start=datetime(...), end=datetime(...))

returns one dict per group and bucket, ordered by group values (absent
values first) then bucket: the groupby keys under their own names (None
where a sample lacks the key), ``period_start``/``period_end`` (naive UTC
datetimes) when a period is given, and the requested aggregates.

Semantics, identical on SQLite, PostgreSQL and MySQL:
- dimension values are strings and are compared as strings, code point by
  code point and case-sensitively (``'10' < '9'``), on every backend;
- a comparison on a key the sample lacks is false (``k != v`` needs ``k``),
  and ``not`` negates its whole sub-expression;
- implicit dimensions (source, resource_id, user_id, project_id) are the
  sample's own columns and win over a metadata key of the same name;
- buckets are aligned to the epoch (multiples of ``period`` seconds since
  1970-01-01T00:00:00Z), not to ``start``; ``start`` is inclusive and
  ``end`` exclusive;
- samples without a volume are not counted.
The hourly rollup answers instead of raw samples whenever that gives the
same result (see ``query.rollup_allowed``).
"""

import datetime
import logging

from ceilometer_export.stats import expression
from ceilometer_export.stats import query
from ceilometer_export import timeutil

LOG = logging.getLogger(__name__)
AGGREGATES = query.AGGREGATES
DEFAULT_AGGREGATES = ('sum', 'max', 'min', 'avg', 'count')
TABLES = ('auto', 'samples', 'samples_hourly')
_EPOCH = datetime.datetime(1970, 1, 1)
ExpressionError = expression.ExpressionError


class StatsError(ValueError):
    """A request that cannot be answered as asked (bad usage)."""


def _moment(value, name):
    if value is None or isinstance(value, datetime.datetime):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timeutil.UTC).replace(tzinfo=None)
        return value
    try:
        return timeutil.parse_user(value)
    except ValueError as exc:
        raise StatsError('%s: %s' % (name, exc)) from None


def _condition(dimensions, filter):
    if isinstance(dimensions, dict):
        dimensions = dimensions.items()
    parts = []
    for item in dimensions or ():
        if isinstance(item, str):
            parts.append(expression.dimension(item))
        else:
            key, value = item
            parts.append(expression.Comparison(key, '=', value, 0))
    if filter:
        parts.append(expression.parse(filter) if isinstance(filter, str)
                     else filter)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else expression.And(tuple(parts))


def _aggregates(names):
    if isinstance(names, str):
        names = [n.strip() for n in names.split(',') if n.strip()]
    unknown = [n for n in names if n not in AGGREGATES]
    if unknown or not names:
        raise StatsError('aggregate %r: choose among %s'
                         % (','.join(unknown), ','.join(AGGREGATES)))
    return tuple(dict.fromkeys(names))


def _groupby(keys):
    keys = tuple(dict.fromkeys(k.strip() for k in keys))
    reserved = set(AGGREGATES) | {'period_start', 'period_end'}
    for key in keys:
        if not key or key in reserved:
            raise StatsError('groupby %r: not a usable dimension name (it '
                             'would clash with an output field)' % key)
    return keys


def make_request(meter, dimensions=None, filter=None, groupby=(),
                 period=None, start=None, end=None,
                 aggregates=DEFAULT_AGGREGATES):
    """A validated query.Request; StatsError/ExpressionError if not."""
    if not meter:
        raise StatsError('meter: required')
    if period is not None and (int(period) != period or period < 1):
        raise StatsError('period: a positive whole number of seconds')
    start, end = _moment(start, 'start'), _moment(end, 'end')
    if start is not None and end is not None and end <= start:
        raise StatsError('end must be after start')
    return query.Request(
        meter=meter, condition=_condition(dimensions, filter),
        groupby=_groupby(groupby), period=period and int(period),
        start=start, end=end, aggregates=_aggregates(aggregates))


def choose_table(request, table='auto'):
    if table not in TABLES:
        raise StatsError('table: one of %s' % ', '.join(TABLES))
    if table == 'auto':
        allowed = query.rollup_allowed(request)
        return 'samples_hourly' if allowed else 'samples'
    if table == 'samples_hourly' and not query.rollup_allowed(request):
        raise StatsError('the hourly rollup needs an hour-aligned period, '
                         'start and end')
    return table


def run(engine, request, table='auto'):
    """Execute a Request; the result rows as documented above."""
    chosen = choose_table(request, table)
    with engine.connect() as conn:
        select = query.build(request, chosen == 'samples_hourly',
                             conn.dialect)
        LOG.debug('stats for %s from %s', request.meter, chosen)
        rows = conn.execute(select).mappings().all()
    found = [_output(request, row) for row in rows if row['count']]
    found.sort(key=lambda item: _order(request, item))
    return found


def _output(request, row):
    item = {key: row['g%d' % i] for i, key in enumerate(request.groupby)}
    if request.period:
        start = _EPOCH + datetime.timedelta(seconds=int(row['bucket']))
        item['period_start'] = start
        item['period_end'] = start + datetime.timedelta(
            seconds=request.period)
    converters = {'count': int}
    for name in request.aggregates:
        value = row[name]
        item[name] = None if value is None else converters.get(
            name, float)(value)
    return item


def _order(request, item):
    groups = [(item[k] is not None, item[k] or '') for k in request.groupby]
    return groups, item.get('period_start') or _EPOCH


def aggregate(engine_or_store, meter, dimensions=None, filter=None,
              groupby=(), period=None, start=None, end=None,
              aggregates=DEFAULT_AGGREGATES, table='auto'):
    """Aggregates of ``meter`` by dimension; see the module docstring.

    ``dimensions``: {key: value} or 'key=value' strings, ANDed.
    ``filter``: an expression string (see ``expression``).
    ``table``: 'auto' (rollup when it gives the same answer), or force
    'samples' or 'samples_hourly'.
    """
    request = make_request(meter, dimensions, filter, groupby, period,
                           start, end, aggregates)
    engine = getattr(engine_or_store, 'engine', engine_or_store)
    return run(engine, request, table)
