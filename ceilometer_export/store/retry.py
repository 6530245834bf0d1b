"""Which database errors are transient, and retrying them.

Every Store method is one transaction, all-or-nothing, so a transient
failure (connection lost, server restarted, deadlock, serialization
failure, SQLite busy) is retried by running the whole method again, on a
fresh connection, with capped exponential backoff. Anything else, or the
same error after the retries, is raised.
"""

import dataclasses
import random
import threading

import sqlalchemy as sa

# PostgreSQL SQLSTATEs: serialization failure, deadlock, lock timeout,
# admin shutdown / crash shutdown / cannot connect now, and class 08
# (connection exceptions).
_PG_CONFLICT = frozenset(('40001', '40P01', '55P03'))
_PG_GONE = frozenset(('57P01', '57P02', '57P03'))
# MySQL/MariaDB error numbers: deadlock, lock wait timeout; then server
# gone away, lost connection, can't connect, connection killed, shutdown.
_MY_CONFLICT = frozenset((1213, 1205))
_MY_GONE = frozenset((2006, 2013, 2003, 2002, 1927, 1053, 4031))
_SQLITE_BUSY = ('database is locked', 'database is busy',
                'database table is locked')

CONNECTION = 'connection'
CONFLICT = 'conflict'


@dataclasses.dataclass(frozen=True)
class Policy:
    retries: int = 5
    delay: float = 0.5
    max_delay: float = 10.0
    # Waits (interruptibly) and returns True when asked to stop.
    wait: object = threading.Event().wait


def classify(exc):
    """CONNECTION, CONFLICT, or None (persistent) for an SQLAlchemy error."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return CONNECTION
    orig = getattr(exc, 'orig', None)
    pgcode = getattr(orig, 'pgcode', None)
    if pgcode is not None:
        if pgcode in _PG_CONFLICT:
            return CONFLICT
        return CONNECTION if pgcode in _PG_GONE or pgcode[:2] == '08' \
            else None
    number = _mysql_number(orig)
    if number is not None:
        if number in _MY_CONFLICT:
            return CONFLICT
        return CONNECTION if number in _MY_GONE else None
    text = str(orig or exc)
    if any(busy in text for busy in _SQLITE_BUSY):
        return CONFLICT
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)) \
            and _driver(orig) == 'psycopg2':
        # Lost or refused connections carry no SQLSTATE in psycopg2.
        return CONNECTION
    return None


def _mysql_number(orig):
    args = getattr(orig, 'args', ())
    if _driver(orig) == 'pymysql' and args and isinstance(args[0], int):
        return args[0]
    return None


def _driver(orig):
    return type(orig).__module__.split('.')[0] if orig is not None else None


def delay(policy, attempt):
    cap = min(policy.max_delay, policy.delay * 2 ** attempt)
    # Jitter keeps two deadlocked writers from colliding again.
    return cap * random.uniform(0.5, 1.0)
