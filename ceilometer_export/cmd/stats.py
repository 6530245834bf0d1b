"""ceilometer-export-stats: aggregates of exported samples by dimension.

Evaluated in SQL by the database (from the hourly rollup whenever that
gives the same answer). Period buckets are aligned to the epoch: they start
at multiples of --period seconds since 1970-01-01T00:00:00Z, not at
--start. --start is inclusive, --end exclusive. Dimension values are
strings and compare as strings, case-sensitively. Times are printed in ISO
8601 UTC with a 'Z'.
"""

import csv
import io
import json
import sys

from oslo_config import cfg

from ceilometer_export import cmd
from ceilometer_export import errors
from ceilometer_export import service
from ceilometer_export import stats
from ceilometer_export import store as store_mod
from ceilometer_export import timeutil

PROG = 'ceilometer-export-stats'
CLI_OPTS = [
    cfg.StrOpt('meter', required=True,
               help='The meter (counter_name) to aggregate.'),
    cfg.MultiStrOpt('dimension', default=[], metavar='KEY=VALUE',
                    help='Only samples whose dimension KEY equals VALUE; '
                         'repeat to AND several. Implicit dimensions: '
                         'source, resource_id, user_id, project_id.'),
    cfg.StrOpt('filter', metavar='EXPR',
               help='Nested condition on dimensions, e.g. "((flavor='
                    'm1.small & status=active) | resource_id in (r1, '
                    'r2))": and/or/not (also &/|), parentheses, = != < <= '
                    '> >=, in (a, b), values quoted with \' or ". A '
                    'comparison on a key a sample lacks is false.'),
    cfg.MultiStrOpt('groupby', default=[], metavar='KEY',
                    help='Group by this dimension (or implicit dimension); '
                         'repeatable.'),
    cfg.IntOpt('period', min=1, metavar='SECONDS',
               help='Split into buckets of this many seconds, ALIGNED TO '
                    'THE EPOCH (starting at multiples of SECONDS since '
                    '1970-01-01T00:00:00Z, not at --start).'),
    cfg.StrOpt('start', metavar='ISO8601',
               help='Only samples at or after this time (inclusive; UTC '
                    'unless an offset is given).'),
    cfg.StrOpt('end', metavar='ISO8601',
               help='Only samples before this time (exclusive).'),
    cfg.StrOpt('aggregate', default=','.join(stats.DEFAULT_AGGREGATES),
               metavar='LIST',
               help='Comma-separated aggregates among sum, max, min, avg, '
                    'count.'),
    cfg.StrOpt('format', default='table', choices=('table', 'json', 'csv'),
               help='table for people; json (a list of objects) and csv '
                    'for scripts.'),
]


def _request(conf):
    return stats.make_request(
        conf.meter, dimensions=conf.dimension, filter=conf.filter,
        groupby=conf.groupby, period=conf.period, start=conf.start,
        end=conf.end, aggregates=conf.aggregate)


def _printable(rows):
    """Rows with times as ISO 8601 UTC strings."""
    times = ('period_start', 'period_end')
    return [{k: timeutil.format_utc(v) if k in times else v
             for k, v in row.items()} for row in rows]


def _columns(request):
    period = ['period_start', 'period_end'] if request.period else []
    return list(request.groupby) + period + list(request.aggregates)


def _csv(columns, rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().rstrip('\n')


def render(request, rows, fmt):
    rows = _printable(rows)
    if fmt == 'json':
        return json.dumps(rows, indent=2)
    columns = _columns(request)
    return (_csv if fmt == 'csv' else cmd.table)(columns, rows)


def _expression_failure(exc, option):
    print('%s: error: %s: %s' % (PROG, option, exc), file=sys.stderr)
    print('  ' + exc.caret().replace('\n', '\n  '), file=sys.stderr)
    return cmd.EXIT_USAGE


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    return cmd.guarded(PROG, lambda: _run(argv))


def _run(argv):
    conf = service.prepare_service(argv, CLI_OPTS, description=__doc__)
    try:
        request = _request(conf)
        store = store_mod.Store.from_conf(conf)
        store.check_schema()
        rows = store.query(stats.run, request)
    except stats.ExpressionError as exc:
        option = '--filter' if conf.filter == exc.text else '--dimension'
        return _expression_failure(exc, option)
    except stats.StatsError as exc:
        # Its messages start with the option's name.
        raise errors.ConfigError('--%s' % exc) from exc
    print(render(request, rows, conf.format))
    return cmd.EXIT_OK
