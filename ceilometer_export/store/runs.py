"""``export_runs``: one row per unit of work, written by the worker that
did it, in the transactions that did it, so BI users see freshness and
failures from SQL (design section 6)."""

import dataclasses
import os
import socket

import sqlalchemy as sa

from ceilometer_export.store import schema

_T = schema.export_runs

EXPORT = 'export'
BACKFILL = 'backfill'
VERIFY = 'verify'
REPAIR = 'repair'
RECEIVE = 'receive'
OUTCOMES = ('ok', 'failed', 'interrupted')
# As a checkpoint's last_error: the full text is in the log.
_MAX_ERROR_LENGTH = 2000


def worker_name():
    """Host and pid, as the ``worker`` column shows them."""
    return '%s:%d' % (socket.gethostname(), os.getpid())


def start(conn, kind, mapping, worker, started_at):
    """Insert a run row; returns its id."""
    result = conn.execute(sa.insert(_T).values(
        kind=kind, mapping=mapping, worker=worker, started_at=started_at,
        samples=0, rejects=0))
    return result.inserted_primary_key[0]


def add(conn, run_id, samples, rejects, at):
    """Count samples and rejects into a run; ``at`` becomes its
    finished_at (the last moment it is known to have worked)."""
    conn.execute(sa.update(_T).where(_T.c.id == run_id).values(
        samples=_T.c.samples + samples, rejects=_T.c.rejects + rejects,
        finished_at=at, outcome='ok'))


def finish(conn, run_id, outcome, error, at, samples=None, rejects=None):
    """Close a run with its outcome (ok, failed, interrupted); ``samples``
    and ``rejects``, when given, are its totals."""
    values = {'outcome': outcome, 'finished_at': at,
              'error': error[:_MAX_ERROR_LENGTH] if error else None}
    values.update((k, v) for k, v in (('samples', samples),
                                      ('rejects', rejects)) if v is not None)
    conn.execute(sa.update(_T).where(_T.c.id == run_id).values(**values))


@dataclasses.dataclass(frozen=True)
class Run:
    """A row of export_runs."""
    id: int
    kind: str
    mapping: object
    started_at: object
    finished_at: object
    samples: int
    rejects: int
    outcome: object
    error: object
    worker: object


def latest(conn, kinds=(EXPORT, BACKFILL)):
    """{mapping: (last run, last ok run or None)} over ``kinds``; ids grow
    with time, so a mapping's newest run is its highest id (one indexed
    aggregate, however long the history)."""
    of_kind = _T.c.kind.in_(kinds)
    newest = sa.select(sa.func.max(_T.c.id)).where(of_kind).group_by(
        _T.c.mapping)
    newest_ok = sa.select(sa.func.max(_T.c.id)).where(
        of_kind, _T.c.outcome == 'ok').group_by(_T.c.mapping)
    rows = conn.execute(sa.select(_T).where(
        sa.or_(_T.c.id.in_(newest), _T.c.id.in_(newest_ok)))).mappings()
    found = {}
    for run in sorted((Run(**r) for r in rows), key=lambda r: r.id):
        last_ok = found.get(run.mapping, (None, None))[1]
        found[run.mapping] = (run, run if run.outcome == 'ok' else last_ok)
    return found


class Tally(object):
    """A long-running worker's runs (the receiver's): one row per
    ``period`` seconds of wall time in which it stored something, counted
    in the same transaction as what it counts.

    ``begin(now)`` before a transaction, ``record(conn, ...)`` inside it,
    ``committed(run_id)`` after its commit: a rolled-back transaction
    leaves no trace, not even a run id.
    """

    def __init__(self, kind, period, worker=None):
        self.kind = kind
        self.period = period
        self.worker = worker or worker_name()
        self.at = None
        self._id = None
        self._opened = None

    def begin(self, now):
        self.at = now

    def _current(self):
        if self._id is None:
            return None
        elapsed = (self.at - self._opened).total_seconds()
        return self._id if 0 <= elapsed < self.period else None

    def record(self, conn, samples, rejects):
        run_id = self._current()
        if run_id is None:
            run_id = start(conn, self.kind, None, self.worker, self.at)
        add(conn, run_id, samples, rejects, self.at)
        return run_id

    def committed(self, run_id):
        if run_id != self._id:
            self._id, self._opened = run_id, self.at
