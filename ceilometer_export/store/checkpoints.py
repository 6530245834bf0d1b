"""Per (mapping, meter) export positions.

A checkpoint only moves forward: the UPDATE carries the comparison, so a
re-read of the lookback window, or a second writer holding an older
position, can never move it back.
"""

import dataclasses

import sqlalchemy as sa

from ceilometer_export.store import dialects
from ceilometer_export.store import schema
from ceilometer_export import timeutil

_T = schema.export_checkpoints
# Bounded so a long API error body cannot bloat the table or a status
# screen; the full text is in the log.
_MAX_ERROR_LENGTH = 2000


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    mapping: str
    meter: str
    last_timestamp: object
    last_message_id: object
    query_fingerprint: object
    samples_exported: int
    last_success_at: object
    last_error: object
    updated_at: object

    @property
    def position(self):
        if self.last_timestamp is None:
            return None
        return (self.last_timestamp, self.last_message_id or '')


def _where(mapping, meter):
    return sa.and_(_T.c.mapping == mapping, _T.c.meter == meter)


def get(connection, mapping, meter):
    row = connection.execute(
        sa.select(_T).where(_where(mapping, meter))).mappings().first()
    return Checkpoint(**row) if row else None


def list_all(connection):
    rows = connection.execute(
        sa.select(_T).order_by(_T.c.mapping, _T.c.meter)).mappings()
    return [Checkpoint(**r) for r in rows]


def ensure(connection, mapping, meter, fingerprint, reset=True):
    """Restart the checkpoint when the query changed.

    The row itself is created only when there is something to record (a
    page written, an error: see ``create``), so that a discovered meter
    the mapping selects nothing of leaves no row claiming a position.
    Returns 'new' (no row yet), 'reset', 'kept', or 'changed' (query
    changed, reset not allowed).
    """
    current = get(connection, mapping, meter)
    if current is None:
        return 'new'
    if current.query_fingerprint == fingerprint:
        return 'kept'
    if not reset:
        return 'changed'
    # The count restarts with the position: it counts what this query
    # exported, so it can never exceed the rows the query selects.
    connection.execute(sa.update(_T).where(_where(mapping, meter)).values(
        last_timestamp=None, last_message_id=None, samples_exported=0,
        query_fingerprint=fingerprint, updated_at=timeutil.utcnow()))
    return 'reset'


def create(connection, mapping, meter, fingerprint):
    """Insert the pair's row unless it exists (another writer may have
    inserted it meanwhile: the upsert keeps theirs)."""
    dialects.insert_missing(connection, _T, [{
        'mapping': mapping, 'meter': meter, 'query_fingerprint': fingerprint,
        'samples_exported': 0, 'updated_at': timeutil.utcnow()}])


def advance(connection, mapping, meter, position, new_rows):
    """Count ``new_rows`` and move forward to ``position`` (timestamp,
    message_id) if it is ahead (None: count only); one UPDATE."""
    values = [(_T.c.samples_exported, _T.c.samples_exported + new_rows),
              (_T.c.updated_at, timeutil.utcnow())]
    if position is not None:
        timestamp, message_id = position
        ahead = sa.or_(
            _T.c.last_timestamp.is_(None),
            _T.c.last_timestamp < timestamp,
            sa.and_(_T.c.last_timestamp == timestamp,
                    sa.func.coalesce(_T.c.last_message_id, '')
                    < message_id))
        # The message id first: MySQL evaluates SET left to right, with
        # the columns already assigned; this order gives the same result
        # as evaluating ``ahead`` once.
        values += [(_T.c.last_message_id, sa.case(
            (ahead, message_id), else_=_T.c.last_message_id)),
            (_T.c.last_timestamp, sa.case(
                (ahead, timestamp), else_=_T.c.last_timestamp))]
    connection.execute(sa.update(_T).where(_where(mapping, meter))
                       .ordered_values(*values))


def record_result(connection, mapping, meter, error=None, fingerprint=None):
    """The outcome of a pass over the pair; an error is recorded even for
    a pair without a row yet (when ``fingerprint`` is given)."""
    if error and fingerprint is not None:
        create(connection, mapping, meter, fingerprint)
    now = timeutil.utcnow()
    values = {'updated_at': now,
              'last_error': error[:_MAX_ERROR_LENGTH] if error else None}
    if error is None:
        values['last_success_at'] = now
    connection.execute(
        sa.update(_T).where(_where(mapping, meter)).values(**values))
