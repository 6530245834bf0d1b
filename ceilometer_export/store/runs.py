"""``export_runs``: one row per unit of work, written by the worker that
did it, in the transactions that did it, so BI users see freshness and
failures from SQL (design section 6)."""

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


def finish(conn, run_id, outcome, error, at):
    conn.execute(sa.update(_T).where(_T.c.id == run_id).values(
        outcome=outcome, error=error, finished_at=at))


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
