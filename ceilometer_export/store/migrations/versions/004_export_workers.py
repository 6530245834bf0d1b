"""export_workers: each exporting process and the scope of its token.

A token without the admin role makes the API show one project only, with
no error; ceilometer-export-status reads only the database, so each
worker records, at every pass, which projects the API showed it
(``scope``: all, project -- then ``project_id``/``project_name`` --, or
unknown, ``scope_note`` saying why). No existing table changes.

Revision ID: 004
Revises: 003
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

from ceilometer_export.store import schema

revision = '004'
down_revision = '003'
branch_labels = None
depends_on = None

_NAME = schema.NAME_LENGTH


def upgrade():
    op.create_table(
        'export_workers',
        sa.Column('worker', sa.String(_NAME), primary_key=True),
        sa.Column('last_seen_at', schema.timestamp_type(), nullable=False),
        sa.Column('scope', sa.String(16), nullable=False),
        sa.Column('project_id', sa.String(_NAME), nullable=True),
        sa.Column('project_name', sa.String(_NAME), nullable=True),
        sa.Column('scope_note', sa.String(_NAME), nullable=True),
        **schema.MYSQL_TABLE_OPTIONS,
    )


def downgrade():
    op.drop_table('export_workers')
