"""One SQLAlchemy Core SELECT per stats request, over ``samples`` or its
hourly rollup ``samples_hourly``.

Shape: an inner SELECT yields, per sample (or per rollup row), its bucket,
its group values and its volume figures, filtered by meter, time range and
the expression; the outer SELECT groups that and aggregates. The inner
SELECT keeps the bucket expression (which carries the period as a bound
parameter) out of GROUP BY, which PostgreSQL could not match otherwise.

A dimension comparison is "dimension_set_id IN (the sets with a matching
(key, value) row)": false when the key is absent, and never NULL (guarded
by IS NOT NULL), so ``not`` negates exactly. Implicit dimensions are
columns, guarded by IS NOT NULL for the same reason.
"""

import dataclasses

import sqlalchemy as sa

from ceilometer_export.stats import dialects
from ceilometer_export.stats import expression as ex
from ceilometer_export.store import schema

IMPLICIT = ('source', 'resource_id', 'user_id', 'project_id')
AGGREGATES = ('count', 'sum', 'min', 'max', 'avg')
HOUR_SECONDS = 3600


@dataclasses.dataclass(frozen=True)
class Request:
    meter: str
    condition: object = None     # expression AST or None
    groupby: tuple = ()
    period: object = None        # seconds or None
    start: object = None         # naive UTC datetime, inclusive
    end: object = None           # naive UTC datetime, exclusive
    aggregates: tuple = AGGREGATES


def _hour_aligned(moment):
    return moment is None or moment == moment.replace(
        minute=0, second=0, microsecond=0)


def rollup_allowed(request):
    """Whether samples_hourly gives exactly the raw answer: every bucket
    and the range are unions of whole hours. Filters and groupby only
    ever use dimension sets and implicit dimensions, which the rollup
    keeps."""
    return ((request.period is None or request.period % HOUR_SECONDS == 0)
            and _hour_aligned(request.start) and _hour_aligned(request.end))


class _Builder(object):

    def __init__(self, request, rollup, dialect):
        self.request = request
        self.rollup = rollup
        self.sql = dialects.Sql(dialect)
        self.table = schema.samples_hourly if rollup else schema.samples
        self.time = self.table.c.hour if rollup else self.table.c.timestamp

    # Filters ---------------------------------------------------------------
    def where(self):
        req = self.request
        clauses = [self.table.c.counter_name == req.meter]
        if req.start is not None:
            clauses.append(self.time >= req.start)
        if req.end is not None:
            clauses.append(self.time < req.end)
        if req.condition is not None:
            clauses.append(self.predicate(req.condition))
        return sa.and_(*clauses)

    def predicate(self, node):
        if isinstance(node, ex.And):
            return sa.and_(*[self.predicate(n) for n in node.operands])
        if isinstance(node, ex.Or):
            return sa.or_(*[self.predicate(n) for n in node.operands])
        if isinstance(node, ex.Not):
            return sa.not_(self.predicate(node.operand))
        if node.key in IMPLICIT:
            col = self.table.c[node.key]
            return sa.and_(col.isnot(None), self.compare(col, node))
        # The sets that satisfy the comparison, computed once from the
        # (key, value) index, rather than a correlated probe per sample
        # (4x faster on SQLite). IS NOT NULL keeps the result two-valued.
        dim = schema.dimensions.alias()
        sets = sa.select(dim.c.set_id).where(
            self.sql.equals(dim.c.key, node.key),
            self.compare(dim.c.value, node))
        col = self.table.c.dimension_set_id
        return sa.and_(col.isnot(None), col.in_(sets))

    def compare(self, col, node):
        if isinstance(node, ex.InList):
            matched = self.sql.in_(col, list(node.values))
            return sa.not_(matched) if node.negated else matched
        if node.op == '=':
            return self.sql.equals(col, node.value)
        exact = self.sql.exact(col)
        return {'!=': exact != node.value, '<': exact < node.value,
                '<=': exact <= node.value, '>': exact > node.value,
                '>=': exact >= node.value}[node.op]

    # Groups and buckets ----------------------------------------------------
    def group_columns(self):
        """[(label, expression)] and the outer joins they need."""
        columns = []
        source = self.table
        for index, key in enumerate(self.request.groupby):
            if key in IMPLICIT:
                value = self.table.c[key]
            else:
                dim = schema.dimensions.alias('g%d' % index)
                source = source.outerjoin(dim, sa.and_(
                    dim.c.set_id == self.table.c.dimension_set_id,
                    self.sql.equals(dim.c.key, key)))
                value = dim.c.value
            columns.append(self.sql.exact(value).label('g%d' % index))
        return columns, source

    def bucket(self):
        seconds = self.sql.epoch_seconds(self.time)
        period = sa.literal(self.request.period, sa.BigInteger)
        return (seconds - seconds % period).label('bucket')

    # Volumes ---------------------------------------------------------------
    def volume_columns(self):
        c = self.table.c
        if self.rollup:
            return [c['count'].label('n'), c['sum'].label('s'),
                    c['min'].label('lo'), c['max'].label('hi')]
        return [c.counter_volume.label('v')]

    def aggregates(self, inner):
        c = inner.c
        if self.rollup:
            count = sa.cast(sa.func.sum(c.n), sa.BigInteger)
            total, low, high = (sa.func.sum(c.s), sa.func.min(c.lo),
                                sa.func.max(c.hi))
        else:
            count = sa.func.count(c.v)
            total, low, high = (sa.func.sum(c.v), sa.func.min(c.v),
                                sa.func.max(c.v))
        # avg as sum/count on both paths: the same figure from raw or rollup.
        avg = total / sa.func.nullif(count, 0)
        return [count.label('count'), total.label('sum'), low.label('min'),
                high.label('max'), avg.label('avg')]

    def build(self):
        groups, source = self.group_columns()
        keys = list(groups)
        if self.request.period:
            keys.append(self.bucket())
        inner = sa.select(*keys, *self.volume_columns()).select_from(
            source).where(self.where()).subquery('per_sample')
        outer_keys = [inner.c[k.name] for k in keys]
        return sa.select(*outer_keys, *self.aggregates(inner)).group_by(
            *outer_keys)


def build(request, rollup, dialect):
    """The SELECT answering ``request``; columns g0..gN (groupby values),
    bucket (epoch seconds, with a period), count, sum, min, max, avg."""
    return _Builder(request, rollup, dialect).build()
