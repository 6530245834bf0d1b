"""The migrations create exactly the schema the code uses, on every
backend, and data keeps its precision."""

import dataclasses
import datetime

from alembic import autogenerate
from alembic.runtime import migration as alembic_migration
import pytest
import sqlalchemy as sa

from ceilometer_export import errors
from ceilometer_export.store import Store
from ceilometer_export.store import schema


def _row(message_id, **extra):
    row = dict(message_id=message_id, counter_name='cpu_util',
               counter_type='gauge', counter_unit='%',
               counter_volume=1234567890123.5, project_id='p1',
               resource_id='r1', user_id=None, source='openstack',
               timestamp=datetime.datetime(2024, 1, 1, 0, 0, 0, 123456),
               recorded_at=datetime.datetime(2024, 1, 1, 0, 0, 1, 1),
               resource_metadata={'flavor': 'm1.small', 'status': 'active'})
    row.update(extra)
    return row


def test_unmigrated_database_is_refused(db_url):
    store = Store(db_url)
    with pytest.raises(errors.SchemaError, match='ceilometer-export-dbsync'):
        store.check_schema()


def test_migrations_match_code_schema(db_url):
    store = Store(db_url)
    store.upgrade()
    store.check_schema()
    with store.engine.connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(
            conn, opts={'compare_type': False})
        diff = autogenerate.compare_metadata(ctx, schema.metadata)
    assert diff == []


def test_exact_types_roundtrip(db_url):
    store = Store(db_url)
    store.upgrade()
    store.start_pair('m', 'cpu_util', 'f' * 64)
    assert store.write_page('m', 'cpu_util', [_row('a')]) == 1
    with store.engine.connect() as conn:
        got = conn.execute(sa.select(schema.samples)).mappings().one()
        view = conn.execute(sa.text(
            'SELECT * FROM sample_dimensions ORDER BY 2')).all()
    assert got['counter_volume'] == 1234567890123.5
    assert got['timestamp'] == datetime.datetime(2024, 1, 1, 0, 0, 0, 123456)
    assert got['recorded_at'] == datetime.datetime(2024, 1, 1, 0, 0, 1, 1)
    assert got['resource_metadata'] == {'flavor': 'm1.small',
                                        'status': 'active'}
    assert [tuple(r) for r in view] == [('a', 'flavor', 'm1.small'),
                                        ('a', 'status', 'active')]


def test_identifiers_are_case_sensitive(db_url):
    # MySQL's default collation would merge these into one row.
    store = Store(db_url)
    store.upgrade()
    store.start_pair('m', 'cpu_util', 'f' * 64)
    rows = [_row('abc', resource_metadata={'Flavor': 'A'}),
            _row('ABC', resource_metadata={'flavor': 'a'})]
    assert store.write_page('m', 'cpu_util', rows) == 2
    with store.engine.connect() as conn:
        ids = conn.execute(sa.select(schema.samples.c.message_id)).scalars()
        keys = conn.execute(sa.select(schema.dimensions.c.key)).scalars()
        assert sorted(ids) == ['ABC', 'abc']
        assert sorted(keys) == ['Flavor', 'flavor']


def test_workers_table_keeps_one_row_per_process(db_url):
    # Revision 004: export_workers, one row per host:pid, updated in place.
    @dataclasses.dataclass(frozen=True)
    class Scope:
        kind: str
        project_id: object = None
        project_name: object = None
        note: object = None

    store = Store(db_url)
    try:
        assert store.upgrade()[1] == '004'
        store.record_worker(Scope('unknown', note='not authenticated yet'))
        first = list(store.workers().values())
        store.record_worker(Scope('project', 'p-1', 'demo'))
        [seen] = store.workers().values()
    finally:
        store.close()
    assert [w.scope for w in first] == ['unknown']
    assert (seen.worker, seen.scope, seen.project_id, seen.project_name,
            seen.scope_note) == (first[0].worker, 'project', 'p-1', 'demo',
                                 None)
    assert seen.last_seen_at >= first[0].last_seen_at
