"""What ``ceilometer-export-status`` shows of pushed samples.

Pushed samples move no checkpoint, so the pair rows say nothing of them.
Once a receiver has stored something (``export_runs`` rows of kind
``receive``), status adds rows with ``mapping`` NULL:

* per receiver process (``worker``), meter ``*``: its last run, i.e. the
  minute in which it last committed, and ``freshness_seconds`` since then;
* per meter that no pair has a checkpoint for: its rows (from the hourly
  rollup: cheap on any table size), its newest sample and how old it is
  (``lag_seconds``), its pushed rejects.
"""

import sqlalchemy as sa

from ceilometer_export.store import runs
from ceilometer_export.store import schema
from ceilometer_export import timeutil

STATE = 'received'
COLUMNS = ('meter', 'state', 'newest_sample', 'lag_seconds',
           'freshness_seconds', 'samples_exported', 'rejects', 'worker')
_RUNS = schema.export_runs
_HOURLY = schema.samples_hourly
_SAMPLES = schema.samples


def _seconds(now, then):
    return None if then is None else max(0, round((now - then)
                                                  .total_seconds()))


def _last_runs(conn):
    """The newest receive run of each worker."""
    newest = sa.select(sa.func.max(_RUNS.c.id)).where(
        _RUNS.c.kind == runs.RECEIVE).group_by(_RUNS.c.worker)
    return [runs.Run(**r) for r in conn.execute(
        sa.select(_RUNS).where(_RUNS.c.id.in_(newest))
        .order_by(_RUNS.c.id)).mappings()]


def _meters(conn, exported):
    """(meter, rows) of the rollup, but the meters a pair exports."""
    query = sa.select(_HOURLY.c.counter_name, sa.func.sum(_HOURLY.c.count)
                      ).group_by(_HOURLY.c.counter_name).order_by(
        _HOURLY.c.counter_name)
    return [(m, int(n)) for m, n in conn.execute(query) if m not in exported]


def _newest(conn, meter):
    # One index range read on (counter_name, timestamp) per meter.
    return conn.execute(sa.select(sa.func.max(_SAMPLES.c.timestamp)).where(
        _SAMPLES.c.counter_name == meter)).scalar()


def rows(engine, exported, rejects, now) -> list:
    """The rows described above; [] when no receiver ever stored here.
    ``exported``: meters some pair has a checkpoint for; ``rejects``:
    ``Store.reject_counts()``."""
    with engine.connect() as conn:
        last_runs = _last_runs(conn)
        if not last_runs:
            return []
        meters = [(m, n, _newest(conn, m))
                  for m, n in _meters(conn, exported)]
    newest_run = last_runs[-1]
    found = [_run_row(run, now) for run in last_runs]
    for meter, count, newest in meters:
        found.append({
            'mapping': None, 'meter': meter, 'state': STATE,
            'newest_sample': timeutil.format_utc(newest),
            'lag_seconds': _seconds(now, newest),
            'freshness_seconds': None, 'samples_exported': count,
            'rejects': sum(rejects.get((None, meter), {}).values()),
            'last_error': None, 'worker': newest_run.worker})
    return found


def _run_row(run, now):
    return {'mapping': None, 'meter': '*', 'state': run.outcome or STATE,
            'newest_sample': None, 'lag_seconds': None,
            'freshness_seconds': _seconds(now, run.finished_at),
            'samples_exported': run.samples, 'rejects': run.rejects,
            'last_error': run.error, 'worker': run.worker,
            'last_run_started_at': timeutil.format_utc(run.started_at)}
