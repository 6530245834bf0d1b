"""One worker per database when there is no ``[coordination]``.

Two exporters writing into one database without coordination would race
for the same pairs; each takes this lock first, and a second one waits
(the daemon) or refuses (``--once``). It is held for the life of the
process on a dedicated connection (PostgreSQL ``pg_try_advisory_lock``,
MySQL/MariaDB ``GET_LOCK``: ``dialects.WORKER_LOCKS``), so the server
releases it the moment that process dies, SIGKILL included; SQLite uses
``flock`` on a file beside the database (none for an in-memory one).
A lock connection lost (the server restarted) is a lock lost: ``held()``
says so, and ``take()`` tries again on a new connection. No table, no
migration: a lease row would outlive a killed process.
"""

import fcntl
import hashlib
import os
import socket

from oslo_log import log
import sqlalchemy as sa

from ceilometer_export import errors
from ceilometer_export.store import dialects

LOG = log.getLogger(__name__)
PROJECT = 'ceilometer-export'
# MySQL's limit on a lock name.
_MYSQL_NAME_MAX = 64


def me() -> str:
    return '%s host %s pid %d' % (PROJECT, socket.gethostname(), os.getpid())


def for_engine(engine, safe_url):
    """The worker lock of the store's database."""
    url = engine.url
    backend = url.get_backend_name()
    if backend == 'sqlite':
        path = url.database
        if not path or path == ':memory:' or path.startswith('file::memory'):
            return NoLock()
        return FileLock(path + '.lock', safe_url)
    return SqlLock(engine, dialects.WORKER_LOCKS[backend], safe_url)


class NoLock(object):
    """An in-memory SQLite database: no other process can reach it."""

    where = 'sqlite:// (in memory)'

    def take(self):
        return True

    def held(self):
        return True

    def holder(self):
        return None

    def release(self):
        pass


class FileLock(object):
    """flock() on ``path`` (per open file, unlike fcntl's POSIX locks,
    which closing any descriptor of the file would drop); the holder
    writes who it is into the file."""

    def __init__(self, path, safe_url):
        self.path = path
        self.where = safe_url
        self._file = None

    def take(self):
        if self._file is not None:
            return True
        try:
            handle = open(self.path, 'a+')
        except OSError as exc:
            raise errors.StoreError('worker lock %s: %s'
                                    % (self.path, exc.strerror)) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(me() + '\n')
        handle.flush()
        self._file = handle
        return True

    def held(self):
        return self._file is not None

    def holder(self):
        try:
            with open(self.path) as handle:
                return handle.read().strip() or None
        except OSError:
            return None

    def release(self):
        if self._file is not None:
            self._file.close()      # closing releases the flock
            self._file = None


class SqlLock(object):
    """A session lock on a connection of its own (outside the pool, so
    that a pool reset never touches it)."""

    def __init__(self, engine, statements, safe_url):
        self._engine = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
        self._sql = statements
        self.where = safe_url
        database = engine.url.database or ''
        name = '%s:%s' % (PROJECT, database)
        if len(name) > _MYSQL_NAME_MAX:
            name = '%s:%s' % (PROJECT, hashlib.sha256(
                database.encode()).hexdigest()[:40])
        self._params = {'name': name}
        self._conn = None

    def take(self):
        """True when this process holds the lock (now or already)."""
        if self.held():
            return True
        try:
            self._conn = self._engine.connect()
            if self._engine.dialect.name == 'postgresql':
                # Who holds it, for the others' messages (pg_stat_activity).
                self._conn.execute(sa.text(
                    "SELECT set_config('application_name', :me, false)"),
                    {'me': me()[:63]})
            taken = self._scalar(self._sql.take) == 1
            self._conn.commit()
        except sa.exc.SQLAlchemyError as exc:
            self.release()
            raise errors.DatabaseUnavailable('worker lock on %s: %s' % (
                self.where, type(getattr(exc, 'orig', exc)).__name__)
            ) from None
        if not taken:
            self.release()
        return taken

    def held(self):
        """Whether the lock connection is alive and still holds it."""
        if self._conn is None:
            return False
        try:
            mine = self._scalar(self._sql.held) == 1
            self._conn.rollback()
        except sa.exc.SQLAlchemyError:
            mine = False
        if not mine:
            self.release()
        return mine

    def holder(self):
        try:
            with self._engine.connect() as conn:
                return conn.execute(sa.text(self._sql.holder),
                                    self._params).scalar()
        except sa.exc.SQLAlchemyError:
            return None

    def release(self):
        """Closing the connection releases the lock."""
        if self._conn is not None:
            try:
                self._conn.close()
            except sa.exc.SQLAlchemyError:
                pass    # already gone with the server
            self._conn = None

    def _scalar(self, sql):
        return self._conn.execute(sa.text(sql), self._params).scalar()
