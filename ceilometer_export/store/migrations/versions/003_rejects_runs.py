"""Rejected samples and the run history: export_rejects, export_runs.

Revision ID: 003
Revises: 002
Create Date: 2026-12-01
"""

from alembic import op
import sqlalchemy as sa

from ceilometer_export.store import schema

revision = '003'
down_revision = '002'
branch_labels = None
depends_on = None

_NAME = schema.NAME_LENGTH
_TS = schema.timestamp_type


def _id():
    return sa.Column('id',
                     sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                     primary_key=True, autoincrement=True)


def upgrade():
    op.create_table(
        'export_rejects',
        _id(),
        sa.Column('mapping', sa.String(_NAME), nullable=True),
        sa.Column('meter', sa.String(_NAME), nullable=True),
        sa.Column('message_id', sa.String(schema.MESSAGE_ID_LENGTH),
                  nullable=True),
        sa.Column('sample_timestamp', _TS(), nullable=True),
        sa.Column('reason', sa.Text, nullable=False),
        sa.Column('raw', sa.Text, nullable=False),
        sa.Column('received_at', _TS(), nullable=False),
        **schema.MYSQL_TABLE_OPTIONS,
    )
    op.create_index('ix_export_rejects_mapping_meter', 'export_rejects',
                    ['mapping', 'meter'])
    op.create_index('ix_export_rejects_message_id', 'export_rejects',
                    ['message_id'])
    op.create_table(
        'export_runs',
        _id(),
        sa.Column('kind', sa.String(32), nullable=False),
        sa.Column('mapping', sa.String(_NAME), nullable=True),
        sa.Column('started_at', _TS(), nullable=False),
        sa.Column('finished_at', _TS(), nullable=True),
        sa.Column('samples', sa.BigInteger, nullable=False,
                  server_default='0'),
        sa.Column('rejects', sa.BigInteger, nullable=False,
                  server_default='0'),
        sa.Column('outcome', sa.String(32), nullable=True),
        sa.Column('error', sa.Text, nullable=True),
        sa.Column('worker', sa.String(_NAME), nullable=True),
        **schema.MYSQL_TABLE_OPTIONS,
    )
    op.create_index('ix_export_runs_mapping_started_at', 'export_runs',
                    ['mapping', 'started_at'])


def downgrade():
    op.drop_table('export_runs')
    op.drop_table('export_rejects')
