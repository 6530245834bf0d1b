"""The export loop: which pairs to export, from where, and when.

Knows neither HTTP nor SQL: it drives a ``source`` (pages of rows) and a
``store`` (page preparation, checkpoints and transactional page writes),
and isolates failures so that one broken mapping never stops the others.
"""

import contextlib
import dataclasses
import datetime
import threading
import time

from oslo_log import log

from ceilometer_export import coordination
from ceilometer_export import errors
from ceilometer_export import pipeline
from ceilometer_export import observer as observer_mod
from ceilometer_export import rejects
from ceilometer_export import timeutil

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class PairResult:
    new: int = 0
    read: int = 0
    rejects: int = 0
    position: object = None
    error: object = None
    refused: object = None      # errors.MappingRefused: the whole mapping


@dataclasses.dataclass(frozen=True)
class Backfill:
    """--since/--until: where a pass starts, and whether it is a
    side range that must not touch the live checkpoints."""
    since: object = None
    until: object = None

    @property
    def range_only(self):
        return self.until is not None

    @property
    def kind(self):
        """The export_runs kind of a pass with these settings."""
        return 'export' if self.since is None else 'backfill'


@dataclasses.dataclass(frozen=True)
class Plan:
    """What the daemon's passes run; a reload replaces it as a whole."""
    mappings: tuple
    interval: float
    lookback: float = 0
    start_time: object = None


class Worker(object):

    # Called with the mappings after every complete pass of the daemon
    # (its own verify+repair runs: verify.runner.Periodic); None: nothing.
    after_pass = None

    def __init__(self, source, store, stop, lookback=0, start_time=None,
                 partition=None, observer=None, step=60.0):
        self.source = source
        self.store = store
        self.stop = stop
        # Which mappings are this worker's (tooz partitioning, or all).
        self.partition = partition or coordination.Everything()
        self.lookback = datetime.timedelta(seconds=lookback)
        self.start_time = start_time
        # Errors of pairs the database was down for: recorded once it is
        # back, so that status shows why those pairs lag.
        self._unrecorded = {}
        self.observer = observer or observer_mod.Observer()
        # Seconds any step between two reports may take (watchdog).
        self.step = step
        self._wake = threading.Event()
        self._pending = None
        self._new = 0
        # The last failure logged per mapping: one that repeats pass after
        # pass (a refused query, a 410) is logged at ERROR once.
        self._failures = {}

    def request_stop(self):
        """From another thread: stop after the current page."""
        self.stop.set()
        self._wake.set()

    def replan(self, plan):
        """From another thread: run ``plan`` from the next pass on."""
        self._pending = plan
        self._wake.set()

    def run_forever(self, mappings, interval, backfill=Backfill()):
        """Pass after pass, each starting ``interval`` seconds after the
        previous one started, until stop is set."""
        plan = Plan(tuple(mappings), interval, self.lookback.total_seconds(),
                    self.start_time)
        while not self.stop.is_set():
            plan = self._apply(plan)
            started = time.monotonic()
            self.run_pass(plan.mappings, backfill)
            backfill = Backfill()
            plan = self._rest(plan, started)

    def _rest(self, plan, started):
        """Sleep until the next pass is due (a reload may change when)."""
        while not self.stop.is_set():
            plan = self._apply(plan)
            remaining = plan.interval - (time.monotonic() - started)
            if remaining <= 0:
                break
            self.observer.busy('idle', remaining + self.step)
            self._wake.wait(remaining)
            self._wake.clear()
        return plan

    def _apply(self, plan):
        pending, self._pending = self._pending, None
        if pending is None:
            return plan
        self.lookback = datetime.timedelta(seconds=pending.lookback)
        self.start_time = pending.start_time
        return pending

    def run_pass(self, mappings, backfill=Backfill()):
        """Export every mapping until caught up; True when all succeeded.

        An unreachable database ends the pass (nothing could be stored);
        an unreachable API fails the remaining mappings fast (the source's
        circuit breaker)."""
        started = time.monotonic()
        self.observer.busy('step', self.step)
        counts = {True: 0, False: 0}
        self._new = 0
        self._record_scope(self.source.start_pass())
        try:
            for mapping in self.partition.owned(mappings):
                if self.stop.is_set():
                    break
                self._record_unrecorded()
                counts[self._run_mapping(mapping, backfill)] += 1
        except errors.DatabaseUnavailable as exc:
            LOG.error('pass abandoned at mapping %s: %s', mapping.name, exc)
            counts[False] += 1
        if self.after_pass is not None and not self.stop.is_set():
            self.after_pass(mappings)
        self.observer.pass_finished(counts[True], counts[False], self._new,
                                    time.monotonic() - started)
        return not counts[False]

    def _record_scope(self, scope):
        """Which projects the API shows this worker, for status."""
        try:
            self.store.record_worker(scope)
        except errors.StoreError as exc:
            LOG.warning('the API scope of this worker is not recorded this '
                        'pass: %s', exc)

    def _record_unrecorded(self):
        while self._unrecorded:
            (mapping, meter), (error, fingerprint) = next(
                iter(self._unrecorded.items()))
            self.store.record_result(mapping, meter, error=error,
                                     fingerprint=fingerprint)
            del self._unrecorded[(mapping, meter)]

    def export_range(self, mapping, meter, since, until):
        """Export one pair's [since, until) again as a range-only
        backfill (``verify --repair``): idempotent upserts, the live
        checkpoint untouched. Returns its PairResult; API and database
        failures are raised to the caller."""
        result = PairResult()
        self._copy(mapping, meter, since, Backfill(since, until), result)
        return result

    def _run_mapping(self, mapping, backfill):
        """One mapping's pass, recorded in export_runs; logs its outcome,
        True unless it failed."""
        started = time.monotonic()
        self.observer.mapping_started(mapping.name)
        try:
            run = self.store.start_run(backfill.kind, mapping.name)
        except errors.StoreError as exc:
            LOG.error('mapping %s failed this pass: %s', mapping.name, exc)
            return False
        totals, positions, failure, complete = self._export_meters(
            mapping, backfill)
        outcome = ('failed' if failure is not None
                   else 'ok' if complete else 'interrupted')
        try:
            self.store.finish_run(run, outcome, samples=totals.new,
                                  rejects=totals.rejects, error=failure)
        except errors.StoreError as exc:
            failure = '%s (and the run could not be recorded: %s)' % (
                failure or 'exported', exc)
        seconds = time.monotonic() - started
        self.observer.mapping_finished(mapping.name, seconds,
                                       failure is None)
        self._new += totals.new
        if failure is not None:
            self._log_failure(mapping.name, failure)
            return False
        self._failures.pop(mapping.name, None)
        LOG.info('mapping %s: %d samples exported (%d read) from %d meters '
                 'in %.1f s, newest sample %s%s', mapping.name, totals.new,
                 totals.read, len(positions), seconds,
                 _age(positions), '' if complete else ' (interrupted)')
        return True

    def _log_failure(self, name, failure):
        """ERROR, unless the mapping's previous pass failed the same way."""
        if self._failures.get(name) == failure:
            LOG.info('mapping %s failed this pass, as logged before', name)
        else:
            LOG.error('mapping %s failed this pass: %s', name, failure)
        self._failures[name] = failure

    def _export_meters(self, mapping, backfill):
        """(totals, positions, failure text or None, complete): complete
        when every meter was read to the end."""
        # Returns the failure as text rather than logging it here: oslo.log
        # would append the exception being handled to the message again.
        totals, positions, failed = PairResult(), [], []
        complete = False
        try:
            for meter in self.source.meters(mapping):
                if self.stop.is_set() or not self._keeps(mapping):
                    break
                result = self._run_pair(mapping, meter, backfill)
                totals.new += result.new
                totals.read += result.read
                totals.rejects += result.rejects
                positions.append(result.position)
                failed += [result.error] if result.error else []
                if result.refused is not None:
                    # Its other meters would be refused the same way.
                    failed = [str(result.refused)]
                    break
            else:
                complete = True
        except errors.MappingRefused as exc:
            failed.append(str(exc))
        except errors.Interrupted:
            LOG.info('mapping %s: stopped on request', mapping.name)
        except errors.DatabaseUnavailable:
            raise
        except (errors.SourceError, errors.StoreError) as exc:
            # Discovering the meters failed: no pair to record it on
            # (export_runs has it, and status shows it for the mapping).
            failed.append('meters of mapping %s: %s' % (mapping.name, exc))
        return totals, positions, '; '.join(failed) or None, complete

    def _run_pair(self, mapping, meter, backfill):
        fingerprint = mapping.query.fingerprint()
        checkpoint, state = self.store.start_pair(
            mapping.name, meter, fingerprint, reset=not backfill.range_only)
        if state == 'reset':
            LOG.warning('mapping %s meter %s: the query changed, exporting '
                        'again from %s', mapping.name, meter,
                        self.start_time or 'the oldest sample')
            checkpoint = None
        result = PairResult(position=checkpoint and checkpoint.position)
        complete = False
        try:
            complete = self._copy(mapping, meter,
                                  self._lower(checkpoint, backfill),
                                  backfill, result)
        except errors.DatabaseUnavailable as exc:
            self._unrecorded[(mapping.name, meter)] = (
                'meter %s: %s' % (meter, exc), fingerprint)
            raise
        except (errors.SourceError, errors.StoreError) as exc:
            # Recorded against this meter only: the mapping's other meters
            # still run (a source whose API is down fails them fast).
            result.error = 'meter %s: %s' % (meter, exc)
            if isinstance(exc, errors.MappingRefused):
                result.refused = exc
        self.store.record_result(mapping.name, meter, error=result.error,
                                 fingerprint=fingerprint)
        self.observer.pair_finished(mapping.name, meter,
                                    complete and result.error is None)
        return result

    def _copy(self, mapping, meter, lower, backfill, result):
        """Page by page; True when it read to the end."""
        # The next page is read and prepared while this one is written;
        # the writes (and so the checkpoint) stay in this thread, in order.
        # Closed explicitly: the producer stops and is joined as soon as
        # this loop ends, also by an exception (a traceback would keep the
        # generator alive).
        pages = self.source.pages(mapping, meter, lower, backfill.until)
        with contextlib.closing(pipeline.prefetched(
                (rows, self.store.prepare(rows)) for rows in pages)) as ahead:
            for rows, page in ahead:
                self._write(mapping, meter, rows, page, backfill, result)
                if not self.partition.keeps(mapping.name):
                    return False    # _export_meters says so, once
        return True

    def _keeps(self, mapping):
        if self.partition.keeps(mapping.name):
            return True
        LOG.info('mapping %s moved to another worker: leaving it',
                 mapping.name)
        return False

    def _write(self, mapping, meter, rows, page, backfill, result):
        """One page written; ``rows`` are the source's, ``page`` what the
        store prepared of them."""
        self.observer.busy('write', self.step)
        new = self.store.write_page(
            mapping.name, meter, page, advance=not backfill.range_only,
            fingerprint=mapping.query.fingerprint())
        self.observer.busy('step', self.step)
        self.observer.page_written(mapping.name, meter, new)
        LOG.debug('mapping %s meter %s: page of %d samples written, %d new',
                  mapping.name, meter, len(rows), new)
        result.new += new
        result.read += len(rows)
        result.rejects += self._rejects(mapping, meter, rows)
        known = [p for p in map(_position, rows) if p is not None]
        if known and not backfill.range_only:
            result.position = max([result.position or known[0]] + known)
        if self.stop.is_set():
            raise errors.Interrupted()

    def _rejects(self, mapping, meter, rows):
        """Log and report the page's rejected samples; how many."""
        count = 0
        for row in rows:
            if rejects.is_reject(row):
                count += 1
                reason = rejects.reason_of(row)
                # repr(): an invalid character never reaches the log raw.
                LOG.warning('mapping %s meter %s: sample %r stored in '
                            'export_rejects: %s', mapping.name, meter,
                            row['message_id'], reason)
                self.observer.rejected(mapping.name, meter,
                                       rejects.code(reason))
        return count

    def _lower(self, checkpoint, backfill):
        """Where a pair's pass starts reading (None: the oldest sample)."""
        if backfill.range_only:
            return backfill.since
        resume = None
        if checkpoint is not None and checkpoint.position is not None:
            resume = checkpoint.position[0] - self.lookback
        if resume is None:
            return backfill.since or self.start_time
        # A backfill never skips what lies between it and the checkpoint.
        return min(resume, backfill.since) if backfill.since else resume


def _position(row):
    if row['timestamp'] is None or row['message_id'] is None:
        return None
    return row['timestamp'], row['message_id']


def _age(positions):
    """How old the newest exported sample is: an idle meter is old but
    not behind, which is why freshness is reported apart (status)."""
    known = [p[0] for p in positions if p]
    if not known:
        return 'unknown (nothing exported yet)'
    seconds = (timeutil.utcnow() - max(known)).total_seconds()
    return '%.0f s old' % max(seconds, 0)
