"""``export_workers``: each exporting process, when it last started a
pass, and which projects the API showed it (the token's scope)."""

import dataclasses

import sqlalchemy as sa

from ceilometer_export.store import schema

_T = schema.export_workers
_LENGTH = schema.NAME_LENGTH


@dataclasses.dataclass(frozen=True)
class Worker:
    """A row of export_workers."""
    worker: str
    last_seen_at: object
    scope: str
    project_id: object
    project_name: object
    scope_note: object


def seen(conn, worker: str, scope, at) -> None:
    """``worker`` starts a pass at ``at``; ``scope`` has the fields kind,
    project_id, project_name and note (source.scope.Scope)."""
    values = {'last_seen_at': at, 'scope': scope.kind,
              'project_id': _cut(scope.project_id),
              'project_name': _cut(scope.project_name),
              'scope_note': _cut(scope.note)}
    # One process writes its own row: no concurrent insert of the key.
    updated = conn.execute(sa.update(_T).where(_T.c.worker == worker)
                           .values(**values)).rowcount
    if not updated:
        conn.execute(sa.insert(_T).values(worker=worker, **values))


def list_all(conn) -> dict:
    """{worker: Worker}."""
    return {r['worker']: Worker(**r)
            for r in conn.execute(sa.select(_T)).mappings()}


def _cut(text):
    return text[:_LENGTH] if text else text
