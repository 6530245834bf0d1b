"""GET /v2/meters/{name}/statistics, computed like the SQL driver.

Rows are grouped by unit plus the groupby fields; periods start at the
query's lower bound or the first sample and are half-open; durations are
clamped to the query's own timestamp bounds.
"""
import datetime
import math

from ceilometer_export.simulator import errors
from ceilometer_export.simulator import model
from ceilometer_export.simulator import simple_query

STANDARD = ('min', 'max', 'avg', 'sum', 'count')
SELECTABLE = ('max', 'min', 'sum', 'avg', 'count', 'stddev', 'cardinality')
GROUPBY_FIELDS = ('user_id', 'resource_id', 'project_id', 'source',
                  'resource_metadata.instance_type')
CARDINALITY_PARAMS = ('resource_id', 'user_id', 'project_id')


def parse_aggregates(funcs, params):
    """WSME pairs aggregate.func[i] with aggregate.param[i] by position."""
    result = []
    for i, func in enumerate(funcs):
        param = params[i] if i < len(params) else None
        if func not in SELECTABLE:
            raise errors.ClientError('Invalid aggregation function: %s' % func)
        if (func, param) not in result:
            result.append((func, param))
    return result


def check_groupby(groupby):
    invalid = set(groupby) - set(GROUPBY_FIELDS)
    if invalid:
        raise errors.unknown_argument(invalid, 'Invalid groupby fields')
    return sorted(set(groupby))


def query_bounds(queries):
    """The raw lower/upper timestamps used to clamp durations."""
    start = end = None
    for q in queries:
        if q.field != 'timestamp' or q.op not in ('lt', 'le', 'gt', 'ge'):
            continue
        try:
            value = simple_query.parse_timestamp(q.value)
        except ValueError as exc:
            raise errors.ServerError(str(exc))
        if q.op in ('lt', 'le'):
            end = value
        else:
            start = value
    return start, end


def _check_storage(groupby, aggregates):
    if 'source' in groupby:
        raise errors.not_implemented('Unable to group by these fields')
    for func, param in aggregates:
        if func == 'cardinality' and param not in CARDINALITY_PARAMS:
            raise errors.ClientError('Bad aggregate: %s.%s' % (func, param))


def _group_value(rec, field):
    if field == 'resource_metadata.instance_type':
        value = rec.meta.typed.get('instance_type', model.MISSING)
        # An inner join on the text metadata table.
        if value is None or isinstance(value, str):
            return value
        return model.MISSING
    return getattr(rec, field)


def _group(recs, groupby):
    groups = {}
    for rec in recs:
        values = tuple(_group_value(rec, g) for g in groupby)
        if model.MISSING in values:
            continue
        groups.setdefault((rec.meter.unit,) + values, []).append(rec)
    return sorted(groups.items(),
                  key=lambda item: [(v is not None, v or '') for v in item[0]])


def _aggregate(func, param, volumes, recs):
    count = len(volumes)
    if func == 'count':
        return count
    if func == 'min':
        return min(volumes)
    if func == 'max':
        return max(volumes)
    total = math.fsum(volumes) if func == 'stddev' else sum(volumes)
    if func == 'sum':
        return total
    mean = total / count
    if func == 'avg':
        return mean
    if func == 'stddev':
        return math.sqrt(sum((v - mean) ** 2 for v in volumes) / count)
    return float(len({getattr(r, param) for r in recs} - {None}))


def _stats_row(unit, recs, aggregates, period, bounds, groupby, values):
    volumes = [r.volume for r in recs]
    tsmin = min(r.timestamp for r in recs)
    tsmax = max(r.timestamp for r in recs)
    row = {'groupby': dict(zip(groupby, values)) if groupby else None,
           'unit': unit}
    wanted = [f for f, _ in aggregates] if aggregates else STANDARD
    for func in STANDARD:
        if func in wanted:
            row[func] = _aggregate(func, None, volumes, recs)
    if aggregates:
        row['aggregate'] = dict(
            ('%s%s' % (f, '/%s' % p if p else ''),
             float(_aggregate(f, p, volumes, recs))) for f, p in aggregates)
    row.update(_durations(tsmin, tsmax, bounds))
    period_start, period_end = period[1] or tsmin, period[2] or tsmax
    row['period'] = period[0]
    row['period_start'] = period_start.isoformat()
    row['period_end'] = period_end.isoformat()
    return row


def _durations(tsmin, tsmax, bounds):
    start, end = bounds
    if start and tsmin < start:
        tsmin = start
    if end and tsmax > end:
        tsmax = end
    if tsmin <= tsmax:
        return {'duration': (tsmax - tsmin).total_seconds(),
                'duration_start': tsmin.isoformat(),
                'duration_end': tsmax.isoformat()}
    return {'duration': None, 'duration_start': None, 'duration_end': None}


def compute(recs, sfilter, period, groupby, aggregates, bounds):
    """recs: every record matching the filter, any order."""
    _check_storage(groupby, aggregates)
    if not period:
        return [_stats_row(key[0], group, aggregates, (0, None, None),
                           bounds, groupby, key[1:])
                for key, group in _group(recs, groupby)]
    if not recs and not (sfilter.start and sfilter.end):
        return []
    start = sfilter.start or min(r.timestamp for r in recs)
    end = sfilter.end or max(r.timestamp for r in recs)
    step = _timedelta(period)
    buckets = int(math.ceil((end - start).total_seconds() / float(period)))
    rows = []
    for index, inside in sorted(_buckets(recs, start, step, buckets).items()):
        lo = start + step * index
        for key, group in _group(inside, groupby):
            rows.append(_stats_row(key[0], group, aggregates,
                                   (period, lo, lo + step), bounds, groupby,
                                   key[1:]))
    return rows


def _buckets(recs, start, step, count):
    """Half-open [start + i*step, start + (i+1)*step) for i < count."""
    found = {}
    for rec in recs:
        if rec.timestamp < start:
            continue
        index = (rec.timestamp - start) // step
        if index < count:
            found.setdefault(index, []).append(rec)
    return found


def _timedelta(period):
    try:
        return datetime.timedelta(seconds=period)
    except OverflowError as exc:
        raise errors.ClientError('Invalid period %s: %s' % (period, exc))
