"""Hourly rollup of samples: samples_hourly, filled from existing samples.

Revision ID: 002
Revises: 001
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa

from ceilometer_export.store import rollup
from ceilometer_export.store import schema

revision = '002'
down_revision = '001'
branch_labels = None
depends_on = None

_NAME = schema.NAME_LENGTH


def upgrade():
    op.create_table(
        'samples_hourly',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  primary_key=True, autoincrement=True),
        sa.Column('counter_name', sa.String(_NAME), nullable=False),
        sa.Column('resource_id', sa.String(_NAME), nullable=False),
        sa.Column('project_id', sa.String(_NAME), nullable=True),
        sa.Column('user_id', sa.String(_NAME), nullable=True),
        sa.Column('source', sa.String(_NAME), nullable=True),
        sa.Column('dimension_set_id', sa.CHAR(schema.SET_ID_LENGTH),
                  nullable=True),
        sa.Column('hour', schema.timestamp_type(), nullable=False),
        sa.Column('count', sa.BigInteger, nullable=False),
        sa.Column('sum', sa.Double()),
        sa.Column('min', sa.Double()),
        sa.Column('max', sa.Double()),
        **schema.MYSQL_TABLE_OPTIONS,
    )
    op.create_index('ix_samples_hourly_counter_name_hour', 'samples_hourly',
                    ['counter_name', 'hour'])
    op.create_index('ix_samples_hourly_dimension_set_id', 'samples_hourly',
                    ['dimension_set_id'])
    # Samples exported before this revision: the rollup must cover them
    # too, or stats would answer differently from raw and rollup.
    rollup.rebuild_all(op.get_bind())


def downgrade():
    op.drop_table('samples_hourly')
