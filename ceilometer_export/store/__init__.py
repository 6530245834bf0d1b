"""The target database: samples, dimension sets and checkpoints.

Knows SQL (through SQLAlchemy and ``dialects``), nothing of Keystone or
HTTP. Every page is written in ONE transaction together with the
checkpoint that covers it, so a crash at any instant leaves rows and
position consistent.
"""

import functools

from oslo_log import log
import sqlalchemy as sa

from ceilometer_export import dimensions
from ceilometer_export import errors
from ceilometer_export import timings
from ceilometer_export.store import checkpoints
from ceilometer_export.store import dialects
from ceilometer_export.store import engine as engine_mod
from ceilometer_export.store import migration
from ceilometer_export.store import pages
from ceilometer_export.store import rejected as store_rejects
from ceilometer_export.store import retry
from ceilometer_export.store import rollup
from ceilometer_export.store import runs
from ceilometer_export.store import schema
from ceilometer_export.store import workers
from ceilometer_export import timeutil

LOG = log.getLogger(__name__)


def _database_errors(method):
    """SQLAlchemy failures as StoreError, without the statement's
    parameters (a page of samples) in the message. Transient ones are
    retried first: the method is one transaction, so it runs again whole
    (see ``retry``)."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        attempt = 0
        while True:
            try:
                return method(self, *args, **kwargs)
            except sa.exc.SQLAlchemyError as exc:
                kind = retry.classify(exc)
                failure = self._failure(exc, kind)
            if kind is None or attempt >= self.retry.retries:
                raise failure from None
            if kind == retry.CONNECTION:
                # The other pooled connections died with the server too.
                self.engine.dispose()
            pause = retry.delay(self.retry, attempt)
            attempt += 1
            LOG.warning('%s; retry %d of %d in %.1f s', failure, attempt,
                        self.retry.retries, pause)
            if self.retry.wait(pause):
                raise errors.Interrupted(str(failure))
    return wrapper


class Store(object):

    def __init__(self, url, dim_filter=None, retry_policy=None):
        self.engine = engine_mod.make_engine(url)
        # From the configured text: a parsed URL may have mis-split it.
        self._safe_url = engine_mod.safe(url)
        self._url_text = url
        self.dim_filter = dim_filter or dimensions.DimensionFilter()
        self.retry = retry_policy or retry.Policy()
        self._preparer = pages.Preparer(self.engine.dialect.name,
                                        self.dim_filter)
        # Dimension sets this process wrote and committed in the current
        # pass of a pair: never written again (see start_pair).
        self._known_sets = set()

    @classmethod
    def from_conf(cls, conf, wait=None):
        """``wait(seconds)`` pauses between retries and returns True when
        the process is asked to stop (default: an uninterruptible wait)."""
        section = conf.database
        policy = retry.Policy(section.db_max_retries,
                              section.db_retry_interval,
                              section.db_max_retry_interval,
                              wait or retry.Policy.wait)
        return cls(section.connection,
                   dimensions.DimensionFilter.from_conf(conf), policy)

    @property
    def safe_url(self):
        return self._safe_url

    def _failure(self, exc, kind):
        detail = getattr(exc, 'orig', None) or exc
        first_line = (str(detail).strip().splitlines() or [''])[0]
        first_line = engine_mod.scrub(first_line, self._url_text)
        error = (errors.DatabaseUnavailable if kind == retry.CONNECTION
                 else errors.StoreError)
        return error('database %s: %s: %s' % (
            self.safe_url, type(detail).__name__, first_line))

    def close(self):
        self.engine.dispose()

    # Schema ---------------------------------------------------------------
    @_database_errors
    def upgrade(self):
        return migration.upgrade(self.engine)

    @_database_errors
    def check_schema(self):
        """Refuse to work on a database that is not at the latest schema."""
        with self.engine.connect() as conn:
            current = migration.current_revision(conn)
        head = migration.head_revision()
        if current != head:
            raise errors.SchemaError(
                'database %s is at schema revision %s, not %s: run '
                'ceilometer-export-dbsync --config-file FILE first'
                % (self.safe_url, current or '(none)', head))

    @_database_errors
    def query(self, function, *args):
        """``function(engine, *args)`` with database failures reported
        as StoreError, for readers such as ``stats.run``."""
        return function(self.engine, *args)

    def reachable(self):
        """Whether the database answers (the receiver's healthcheck)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text('SELECT 1'))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    # Checkpoints ----------------------------------------------------------
    @_database_errors
    def start_pair(self, mapping, meter, fingerprint, reset=True):
        """Checkpoint of a pair (None before its first page), reset when
        the query changed (unless ``reset`` is false). Returns
        (Checkpoint or None, 'new'|'reset'|'kept'|'changed')."""
        # A new pass of a pair re-validates the dimension sets it uses
        # (insert-if-missing once per set), so that sets deleted meanwhile
        # (rebuild-dimensions deletes unused ones) are written again.
        self._known_sets.clear()
        with self.engine.begin() as conn:
            state = checkpoints.ensure(conn, mapping, meter, fingerprint,
                                       reset)
            return checkpoints.get(conn, mapping, meter), state

    @_database_errors
    def checkpoints(self):
        with self.engine.connect() as conn:
            return checkpoints.list_all(conn)

    @_database_errors
    def record_result(self, mapping, meter, error=None, fingerprint=None):
        with self.engine.begin() as conn:
            checkpoints.record_result(conn, mapping, meter, error,
                                      fingerprint)

    # Run history (export_runs) ---------------------------------------------
    @_database_errors
    def start_run(self, kind: str, mapping) -> int:
        """Record that a run (runs.EXPORT, BACKFILL, VERIFY, REPAIR) of
        ``mapping`` starts in this process; returns its id for
        finish_run. Left unfinished, it shows as such (a killed process)."""
        with self.engine.begin() as conn:
            return runs.start(conn, kind, mapping, runs.worker_name(),
                              timeutil.utcnow())

    @_database_errors
    def finish_run(self, run_id: int, outcome: str, samples: int = 0,
                   rejects: int = 0, error=None) -> None:
        """``outcome``: one of runs.OUTCOMES (ok, failed, interrupted)."""
        if outcome not in runs.OUTCOMES:
            raise ValueError('run outcome %r: not one of %s'
                             % (outcome, runs.OUTCOMES))
        with self.engine.begin() as conn:
            runs.finish(conn, run_id, outcome, error, timeutil.utcnow(),
                        samples=samples, rejects=rejects)

    @_database_errors
    def latest_runs(self, kinds=(runs.EXPORT, runs.BACKFILL)):
        """{mapping: (last run, last ok run or None)}, runs.Run rows."""
        with self.engine.connect() as conn:
            return runs.latest(conn, kinds)

    # Workers (export_workers) ------------------------------------------------
    @_database_errors
    def record_worker(self, scope) -> None:
        """This process starts a pass, reading with ``scope`` (kind,
        project_id, project_name, note)."""
        with self.engine.begin() as conn:
            workers.seen(conn, runs.worker_name(), scope, timeutil.utcnow())

    @_database_errors
    def workers(self) -> dict:
        """{worker: workers.Worker}."""
        with self.engine.connect() as conn:
            return workers.list_all(conn)

    # Data -----------------------------------------------------------------
    def prepare(self, rows) -> pages.PreparedPage:
        """A page of rows made ready for ``write_page``; no SQL, so it may
        run in another thread while a page is being written."""
        with timings.measure('prepare'):
            return self._preparer.prepare(rows)

    @_database_errors
    def write_page(self, mapping, meter, rows, advance=True,
                   fingerprint=None):
        """Upsert a page of samples; move the checkpoint to its last row.

        ``rows`` are sample dicts with the ``samples`` columns (without
        dimension_set_id), and reject rows (``rejects.reject_row``), which
        go to ``export_rejects``; the checkpoint moves past those too.
        ``rows`` may also be what ``prepare`` made of them.
        Returns how many this pair exported for the first time (see
        ``_first_exported``). The pair's checkpoint row is created with
        ``fingerprint`` when it has none yet.
        The hourly rollup follows in the same transaction
        (``rollup.apply``).
        """
        page = rows if isinstance(rows, pages.PreparedPage) \
            else self.prepare(rows)
        if not page and not page.rejected:
            return 0
        # Closing the connection rolls back what was not committed.
        with self.engine.connect() as conn:
            with timings.measure('write'):
                transaction = conn.begin()
                rollup.lock(conn, page.meters)
                written = self._upsert_samples(conn, page)
                checkpoint = checkpoints.get(conn, mapping, meter)
                if checkpoint is None and fingerprint is not None:
                    checkpoints.create(conn, mapping, meter, fingerprint)
                new = _first_exported(conn, page, written, checkpoint,
                                      meter, advance)
                if page.rejected:
                    store_rejects.insert(conn, mapping, meter,
                                         page.rejected)
                checkpoints.advance(conn, mapping, meter,
                                    page.last if advance else None, new)
            with timings.measure('commit'):
                transaction.commit()
        self._committed(page)
        return new

    def _upsert_samples(self, conn, page):
        """The one way samples enter the database, pulled or pushed: new
        dimension sets, the upsert (which never replaces a stored version
        by one with an older timestamp, see ``duplicates``), and the rollup
        of every bucket changed, before and after. Call it after
        ``rollup.lock``, and ``_committed(page)`` after the commit.
        Returns the writer's {message_id: None (inserted) | (old meter,
        old timestamp) (changed)}."""
        if not page:
            return {}
        new_sets = _unstored_sets(conn, [s for s in page.dimension_sets
                                         if s not in self._known_sets])
        if new_sets:
            dialects.insert_dimensions(conn, schema.dimensions, {
                s: page.dimension_sets[s] for s in new_sets})
        written = dialects.of(conn.dialect.name).write_samples(
            conn, schema.samples, page)
        rollup.apply(conn, page, written)
        return written

    def _committed(self, page):
        # Only sets whose rows are committed: a page rolled back writes
        # its sets again.
        self._known_sets.update(page.dimension_sets)

    @_database_errors
    def write_received(self, rows, rejected, run):
        """Pushed samples (the receiver): upsert ``rows`` exactly as a
        page is upserted, store the ``rejected`` rows (mapping NULL, one
        meter each or None) not stored yet, and count both into the
        receiver's run, in ONE transaction; no checkpoint moves. ``run``
        is a ``runs.Tally``; returns its id."""
        page = self.prepare(rows)
        by_meter = {}
        for row in rejected:
            by_meter.setdefault(row.get('meter'), []).append(row)
        if len(self._known_sets) > pages.MAX_REMEMBERED:
            # A receiver runs for months: stay within flat memory.
            self._known_sets.clear()
        with self.engine.begin() as conn:
            if page:
                rollup.lock(conn, page.meters)
                self._upsert_samples(conn, page)
            stored = sum(store_rejects.insert(conn, None, meter, group)
                         for meter, group in by_meter.items())
            run_id = run.record(conn, len(page), stored)
        self._committed(page)
        return run_id

    @_database_errors
    def reject_counts(self):
        """{(mapping, meter): {reason code: n}} of ``export_rejects``
        (codes: ``rejects.REASONS``; mapping None for pushed samples)."""
        with self.engine.connect() as conn:
            return store_rejects.counts(conn)

    # Dimension sets ------------------------------------------------------
    @_database_errors
    def rebuild_dimensions(self, batch=1000):
        """Recompute every sample's dimension set under the current
        [dimensions] filter, e.g. after changing include/exclude.

        Batched per meter in time order, one transaction per batch,
        idempotent (a second run changes nothing), so it can be
        interrupted and run again. Then deletes the dimension sets no
        sample uses any more.
        The rollup of every touched bucket is refreshed with the batch.
        Run it with the exporter stopped: a daemon still running with the
        old filter would keep writing old-style sets.
        Returns {'samples': seen, 'changed': n, 'dimension_rows_deleted':
        m}.
        """
        seen = changed = 0
        for meter in self._meters():
            # In time order, so that a batch touches few rollup buckets.
            position = None
            while True:
                with self.engine.begin() as conn:
                    rollup.lock(conn, [meter])
                    rows = self._sample_batch(conn, meter, position, batch)
                    if not rows:
                        break
                    changed += self._rebuild_batch(conn, rows)
                seen += len(rows)
                position = (rows[-1].timestamp, rows[-1].message_id)
        with self.engine.begin() as conn:
            deleted = _delete_unused_sets(conn)
        return {'samples': seen, 'changed': changed,
                'dimension_rows_deleted': deleted}

    def _meters(self):
        col = schema.samples.c.counter_name
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(col).distinct().order_by(
                col)).scalars())

    @staticmethod
    def _sample_batch(conn, meter, position, batch):
        """Keyset page on (timestamp, message_id) within one meter, along
        the (counter_name, timestamp) index."""
        cols = schema.samples.c
        query = sa.select(cols.message_id, cols.counter_name,
                          cols.timestamp, cols.resource_metadata,
                          cols.dimension_set_id).where(
            cols.counter_name == meter).order_by(
            cols.timestamp, cols.message_id).limit(batch).with_for_update()
        if position is not None:
            ts, message_id = position
            query = query.where(cols.timestamp >= ts, sa.or_(
                cols.timestamp > ts, cols.message_id > message_id))
        return conn.execute(query).all()

    def _rebuild_batch(self, conn, rows):
        """Re-point the rows whose set changed; returns how many did."""
        set_ids, sets = pages.dimension_sets(
            (row.resource_metadata for row in rows), self.dim_filter)
        moves = {}
        buckets = set()
        for row, new_id in zip(rows, set_ids):
            if new_id == row.dimension_set_id:
                continue
            moves.setdefault(new_id, []).append(row.message_id)
            buckets |= rollup.buckets_of([(row.counter_name,
                                           row.timestamp)])
        sets = {s: pairs for s, pairs in sets.items() if s in moves}
        if sets:
            dialects.insert_dimensions(conn, schema.dimensions, sets)
        col = schema.samples.c
        for new_id, ids in moves.items():
            # One UPDATE per distinct set: most samples share a few sets.
            conn.execute(sa.update(schema.samples).where(
                col.message_id.in_(ids)).values(dimension_set_id=new_id))
        rollup.refresh(conn, buckets)
        return sum(len(ids) for ids in moves.values())


def _first_exported(conn, page, written, checkpoint, meter, advance=True):
    """Samples a pair exports for the first time: those past its
    checkpoint, and late ones behind it that were not stored yet. A re-read
    of the lookback window counts nothing; a sample another mapping stored
    first still counts for this one. When the API holds a message_id
    twice, only the version that stays stored counts, once: so the count
    never exceeds the rows the pair's query selects."""
    start = checkpoint.position if checkpoint else None
    if not advance:
        # A side range (--until, repair): it counts only what it inserts
        # behind the checkpoint; the rest the live pass counts on its way.
        return sum(1 for p in page.positions if written.get(p[1], False)
                   is None and start is not None and p <= start)

    def past(position):
        return start is None or position > start
    count, untouched = 0, []
    for position in page.positions:
        old = written.get(position[1], False)
        if old is None:
            count += 1                      # inserted by this page
        elif not past(position):
            continue                        # a re-read behind the checkpoint
        elif old is False:
            untouched.append(position)      # stored as it is, or newer
        elif old[0] != meter or past((old[1], position[1])):
            count += 1                      # replaced a version not yet met
    if untouched:
        # Stored by another mapping (count) or a newer version of it is
        # (not yet: it counts when the pair reaches it).
        stored = _stored_timestamps(conn, [p[1] for p in untouched])
        count += sum(1 for ts, message_id in untouched
                     if stored.get(message_id) == ts)
    return count


def _unstored_sets(conn, set_ids):
    """Those of ``set_ids`` not stored yet: a set is written whole, in
    one transaction, and deleted whole (``_delete_unused_sets``), so one
    of its rows stands for all."""
    if not set_ids:
        return []
    col = schema.dimensions.c.set_id
    stored = set(conn.execute(sa.select(col).distinct().where(
        col.in_(set_ids))).scalars())
    return [s for s in set_ids if s not in stored]


def _stored_timestamps(conn, ids):
    col = schema.samples.c
    return dict(conn.execute(sa.select(col.message_id, col.timestamp).where(
        col.message_id.in_(ids))).all())


def _delete_unused_sets(conn):
    """Delete the dimension rows of sets no sample points at; one
    statement, so a set re-used meanwhile by a writer is kept."""
    dims = schema.dimensions
    smp = schema.samples
    used = sa.exists().where(smp.c.dimension_set_id == dims.c.set_id)
    return conn.execute(sa.delete(dims).where(~used)).rowcount
