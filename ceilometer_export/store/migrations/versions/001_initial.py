"""Initial schema: samples, dimensions, checkpoints, sample_dimensions view.

Revision ID: 001
Revises:
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

from ceilometer_export.store import schema

revision = '001'
down_revision = None
branch_labels = None
depends_on = None

_NAME = schema.NAME_LENGTH
_TS = schema.timestamp_type


def upgrade():
    op.create_table(
        'samples',
        sa.Column('message_id', sa.String(schema.MESSAGE_ID_LENGTH),
                  primary_key=True),
        sa.Column('counter_name', sa.String(_NAME), nullable=False),
        sa.Column('counter_type', sa.String(_NAME)),
        sa.Column('counter_unit', sa.String(_NAME)),
        sa.Column('counter_volume', sa.Double()),
        sa.Column('project_id', sa.String(_NAME), nullable=True),
        sa.Column('resource_id', sa.String(_NAME), nullable=False),
        sa.Column('user_id', sa.String(_NAME), nullable=True),
        sa.Column('source', sa.String(_NAME)),
        sa.Column('timestamp', _TS(), nullable=False),
        sa.Column('recorded_at', _TS()),
        sa.Column('resource_metadata', schema.json_type()),
        sa.Column('dimension_set_id', sa.CHAR(schema.SET_ID_LENGTH)),
        **schema.MYSQL_TABLE_OPTIONS,
    )
    op.create_index('ix_samples_counter_name_timestamp', 'samples',
                    ['counter_name', 'timestamp'])
    op.create_index('ix_samples_resource_id', 'samples', ['resource_id'])
    op.create_index('ix_samples_project_id', 'samples', ['project_id'])
    op.create_index('ix_samples_dimension_set_id', 'samples',
                    ['dimension_set_id'])
    op.create_table(
        'dimensions',
        sa.Column('set_id', sa.CHAR(schema.SET_ID_LENGTH), primary_key=True),
        sa.Column('key', sa.String(schema.DIMENSION_KEY_LENGTH),
                  primary_key=True),
        sa.Column('value', sa.String(schema.DIMENSION_VALUE_LENGTH),
                  nullable=False),
        **schema.MYSQL_TABLE_OPTIONS,
    )
    op.create_index('ix_dimensions_key_value', 'dimensions',
                    ['key', 'value'])
    op.create_table(
        'export_checkpoints',
        sa.Column('mapping', sa.String(_NAME), primary_key=True),
        sa.Column('meter', sa.String(_NAME), primary_key=True),
        sa.Column('last_timestamp', _TS()),
        sa.Column('last_message_id', sa.String(schema.MESSAGE_ID_LENGTH)),
        sa.Column('query_fingerprint', sa.CHAR(schema.SET_ID_LENGTH)),
        sa.Column('samples_exported', sa.BigInteger, nullable=False,
                  server_default='0'),
        sa.Column('last_success_at', _TS()),
        sa.Column('last_error', sa.Text),
        sa.Column('updated_at', _TS()),
        **schema.MYSQL_TABLE_OPTIONS,
    )
    op.execute(_view_sql(op.get_bind().dialect))


def _view_sql(dialect):
    # Compiled by SQLAlchemy so the reserved words (key, value) are quoted
    # the way each backend wants.
    smp = sa.table('samples', sa.column('message_id'),
                   sa.column('dimension_set_id'))
    dim = sa.table('dimensions', sa.column('set_id'), sa.column('key'),
                   sa.column('value'))
    body = sa.select(smp.c.message_id, dim.c.key, dim.c.value).select_from(
        smp.join(dim, smp.c.dimension_set_id == dim.c.set_id))
    return 'CREATE VIEW sample_dimensions AS %s' % body.compile(
        dialect=dialect)
