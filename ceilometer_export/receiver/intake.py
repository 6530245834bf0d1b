"""Group commit: concurrent requests share one transaction.

Request threads hand their converted rows to ONE committer thread and wait
for the outcome. The committer never waits to fill a group: while one
transaction runs, the requests that arrive queue up, and the next
transaction takes all of them (up to ``max_group`` samples). Under load
this turns many small transactions into few large ones (a commit and the
rollup refresh of a bucket cost the same for 50 samples as for 5000); when
idle a request is written alone, at once.

Bound: a request waits for at most the transaction in progress plus its
own, each of at most ``max_group`` samples; past ``answer_timeout``
seconds it is answered 503 (the transaction may still commit later, which
the upsert makes harmless on redelivery).

A group that fails for a reason other than the database being down is
written again request by request, so one request the database refuses
cannot fail the others that happened to share its transaction.
"""

import collections
import threading
import time

from oslo_log import log

from ceilometer_export import errors
from ceilometer_export import timeutil

LOG = log.getLogger(__name__)


class AnswerTimeout(errors.ExportError):
    """The database did not commit a request in time."""


class _Request(object):
    __slots__ = ('rows', 'rejected', 'done', 'error')

    def __init__(self, rows, rejected):
        self.rows = rows
        self.rejected = rejected
        self.done = threading.Event()
        self.error = None

    @property
    def size(self):
        return len(self.rows) + len(self.rejected)


class Intake(object):

    def __init__(self, store, tally, max_group=5000, answer_timeout=4.0):
        self.store = store
        self.tally = tally
        self.max_group = max_group
        self.answer_timeout = answer_timeout
        self._queue = collections.deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread = None
        # For the watchdog and STATUS= (read by the main thread).
        self._commit_since = None
        self.last_commit = None

    def _ensure_started(self):
        # Under the lock of _cond: started by the first request of this
        # process (a pre-forking server forks before any request).
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name='receiver-commit', daemon=True)
            self._thread.start()

    def stop(self, timeout):
        """Commit what is queued, then end the committer thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(self, rows, rejected):
        """Store rows and reject rows in a committed transaction, or raise
        StoreError / DatabaseUnavailable / AnswerTimeout."""
        request = _Request(rows, rejected)
        with self._cond:
            if self._stopping:
                raise errors.Interrupted('the receiver is stopping')
            self._ensure_started()
            self._queue.append(request)
            self._cond.notify()
        if not request.done.wait(self.answer_timeout):
            raise AnswerTimeout('the database did not commit within %.1f s'
                                % self.answer_timeout)
        if request.error is not None:
            raise request.error

    def _take(self):
        """The next group; None once stopping and drained."""
        with self._cond:
            while not self._queue and not self._stopping:
                self._cond.wait()
            group, size = [], 0
            while self._queue and (not group or size + self._queue[0].size
                                   <= self.max_group):
                request = self._queue.popleft()
                group.append(request)
                size += request.size
            return group or None

    def _loop(self):
        while True:
            group = self._take()
            if group is None:
                return
            self._commit_since = time.monotonic()
            self._commit(group)
            self._commit_since = None

    def _write(self, group):
        rows = [row for r in group for row in r.rows]
        rejected = [row for r in group for row in r.rejected]
        self.tally.begin(timeutil.utcnow())
        self.tally.committed(self.store.write_received(rows, rejected,
                                                       self.tally))
        self.last_commit = timeutil.utcnow()

    def commit_seconds(self):
        """How long the transaction in progress has run; 0 when none."""
        since = self._commit_since
        return 0.0 if since is None else time.monotonic() - since

    def _commit(self, group):
        try:
            self._write(group)
        except errors.DatabaseUnavailable as exc:
            self._finish(group, exc)
            return
        except errors.StoreError as exc:
            if len(group) == 1:
                self._finish(group, exc)
                return
            LOG.warning('a group of %d requests failed (%s); writing them '
                        'one by one', len(group), exc)
            for request in group:
                self._commit([request])
            return
        except Exception as exc:   # never leave a request thread hanging
            LOG.exception('unexpected failure writing pushed samples')
            self._finish(group, errors.StoreError(str(exc)))
            return
        self._finish(group, None)

    @staticmethod
    def _finish(group, error):
        for request in group:
            request.error = error
            request.done.set()
