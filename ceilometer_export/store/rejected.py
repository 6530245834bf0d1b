"""``export_rejects``: stored in the transaction of their page.

Idempotent: a pass re-reads its lookback window, and a rejected sample at
a page edge is read twice, so a reject already stored for the same
(mapping, meter, message_id, reason, raw) is not stored again.
"""

import sqlalchemy as sa

from ceilometer_export import rejects
from ceilometer_export.store import schema
from ceilometer_export import timeutil

_T = schema.export_rejects


def insert(conn, mapping, meter, rows):
    """Store the reject rows not stored yet; returns how many were new."""
    fresh = {}
    for row in rows:
        record = {'mapping': mapping, 'meter': meter,
                  'message_id': row['message_id'],
                  'sample_timestamp': row['timestamp'],
                  'reason': rejects.reason_of(row), 'raw': row['raw']}
        fresh.setdefault(_identity(record), record)
    for found in _stored(conn, mapping, meter, fresh.values()):
        fresh.pop(_identity(found), None)
    if fresh:
        now = timeutil.utcnow()
        conn.execute(sa.insert(_T), [dict(r, received_at=now)
                                     for r in fresh.values()])
    return len(fresh)


def _identity(record):
    return (record['message_id'], record['reason'], record['raw'])


def _stored(conn, mapping, meter, records):
    ids = {r['message_id'] for r in records}
    known = [i for i in ids if i is not None]
    match = _T.c.message_id.in_(known) if known else sa.false()
    if None in ids:
        match = sa.or_(match, _T.c.message_id.is_(None))
    query = sa.select(_T.c.message_id, _T.c.reason, _T.c.raw).where(
        _T.c.mapping == mapping, _T.c.meter == meter, match)
    return conn.execute(query).mappings()


def counts(conn):
    """{(mapping, meter): {reason code: n}} of the stored rejects."""
    code = sa.case(*[(_T.c.reason.like(c + ':%'), c)
                     for c in rejects.REASONS], else_=rejects.OTHER)
    query = sa.select(_T.c.mapping, _T.c.meter, code.label('code'),
                      sa.func.count()).group_by(
        _T.c.mapping, _T.c.meter, code)
    found = {}
    for mapping, meter, reason, n in conn.execute(query):
        found.setdefault((mapping, meter), {})[reason] = n
    return found
