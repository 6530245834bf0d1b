"""The tables of the target database, as the code reads and writes them.

Column types are chosen so that data stays exact on every backend:
DOUBLE (never FLOAT) for volumes and microsecond DATETIME(6) on MySQL.
The migrations under ``migrations/`` create the same shape; a functional
test compares the two.
"""

import sqlalchemy as sa

from ceilometer_export.store import dialects

MESSAGE_ID_LENGTH = 128
NAME_LENGTH = 255
DIMENSION_KEY_LENGTH = 255
# Bounded so that the (key, value) index fits MySQL's 3072-byte key limit
# in utf8mb4; [dimensions] max_value_length cannot exceed it.
DIMENSION_VALUE_LENGTH = 512
SET_ID_LENGTH = 64

# The per-backend column types and table options (defined with the other
# dialect differences), under the names the migrations use.
MYSQL_TABLE_OPTIONS = dialects.MYSQL_TABLE_OPTIONS
timestamp_type = dialects.timestamp_type
json_type = dialects.json_type


metadata = sa.MetaData()

samples = sa.Table(
    'samples', metadata,
    sa.Column('message_id', sa.String(MESSAGE_ID_LENGTH), primary_key=True),
    sa.Column('counter_name', sa.String(NAME_LENGTH), nullable=False),
    sa.Column('counter_type', sa.String(NAME_LENGTH)),
    sa.Column('counter_unit', sa.String(NAME_LENGTH)),
    sa.Column('counter_volume', sa.Double()),
    sa.Column('project_id', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('resource_id', sa.String(NAME_LENGTH), nullable=False),
    sa.Column('user_id', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('source', sa.String(NAME_LENGTH)),
    sa.Column('timestamp', timestamp_type(), nullable=False),
    sa.Column('recorded_at', timestamp_type()),
    sa.Column('resource_metadata', json_type()),
    sa.Column('dimension_set_id', sa.CHAR(SET_ID_LENGTH), nullable=True),
    sa.Index('ix_samples_counter_name_timestamp', 'counter_name',
             'timestamp'),
    sa.Index('ix_samples_resource_id', 'resource_id'),
    sa.Index('ix_samples_project_id', 'project_id'),
    sa.Index('ix_samples_dimension_set_id', 'dimension_set_id'),
    **MYSQL_TABLE_OPTIONS,
)

dimensions = sa.Table(
    'dimensions', metadata,
    sa.Column('set_id', sa.CHAR(SET_ID_LENGTH), primary_key=True),
    sa.Column('key', sa.String(DIMENSION_KEY_LENGTH), primary_key=True),
    sa.Column('value', sa.String(DIMENSION_VALUE_LENGTH), nullable=False),
    sa.Index('ix_dimensions_key_value', 'key', 'value'),
    **MYSQL_TABLE_OPTIONS,
)

export_checkpoints = sa.Table(
    'export_checkpoints', metadata,
    sa.Column('mapping', sa.String(NAME_LENGTH), primary_key=True),
    sa.Column('meter', sa.String(NAME_LENGTH), primary_key=True),
    sa.Column('last_timestamp', timestamp_type()),
    sa.Column('last_message_id', sa.String(MESSAGE_ID_LENGTH)),
    sa.Column('query_fingerprint', sa.CHAR(SET_ID_LENGTH)),
    sa.Column('samples_exported', sa.BigInteger, nullable=False,
              server_default='0'),
    sa.Column('last_success_at', timestamp_type()),
    sa.Column('last_error', sa.Text),
    sa.Column('updated_at', timestamp_type()),
    **MYSQL_TABLE_OPTIONS,
)


# The hourly rollup of samples (see store/rollup.py), so that long-range
# dashboards do not scan raw samples. One row per (meter, resource,
# project, user, source, dimension set, hour): the columns every stats
# filter and groupby can use. project/user/source/dimension_set_id are
# NULLable, which no portable unique key handles, hence the surrogate id;
# uniqueness comes from the rollup recomputing whole buckets with GROUP BY.
samples_hourly = sa.Table(
    'samples_hourly', metadata,
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
              primary_key=True, autoincrement=True),
    sa.Column('counter_name', sa.String(NAME_LENGTH), nullable=False),
    sa.Column('resource_id', sa.String(NAME_LENGTH), nullable=False),
    sa.Column('project_id', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('user_id', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('source', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('dimension_set_id', sa.CHAR(SET_ID_LENGTH), nullable=True),
    sa.Column('hour', timestamp_type(), nullable=False),
    sa.Column('count', sa.BigInteger, nullable=False),
    sa.Column('sum', sa.Double()),
    sa.Column('min', sa.Double()),
    sa.Column('max', sa.Double()),
    sa.Index('ix_samples_hourly_counter_name_hour', 'counter_name', 'hour'),
    sa.Index('ix_samples_hourly_dimension_set_id', 'dimension_set_id'),
    **MYSQL_TABLE_OPTIONS,
)


# Samples that cannot be stored as they are (design section 6): kept with
# the reason and the raw text, so that nothing received is silently lost
# and verify can count them as accounted for. ``mapping`` is NULL for
# samples pushed to the receiver.
export_rejects = sa.Table(
    'export_rejects', metadata,
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
              primary_key=True, autoincrement=True),
    sa.Column('mapping', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('meter', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('message_id', sa.String(MESSAGE_ID_LENGTH), nullable=True),
    sa.Column('sample_timestamp', timestamp_type(), nullable=True),
    sa.Column('reason', sa.Text, nullable=False),
    sa.Column('raw', sa.Text, nullable=False),
    sa.Column('received_at', timestamp_type(), nullable=False),
    sa.Index('ix_export_rejects_mapping_meter', 'mapping', 'meter'),
    sa.Index('ix_export_rejects_message_id', 'message_id'),
    **MYSQL_TABLE_OPTIONS,
)

# One row per pass per mapping, and per verify/repair run (design section
# 6), so that BI users see freshness and failures from SQL.
export_runs = sa.Table(
    'export_runs', metadata,
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
              primary_key=True, autoincrement=True),
    sa.Column('kind', sa.String(32), nullable=False),
    sa.Column('mapping', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('started_at', timestamp_type(), nullable=False),
    sa.Column('finished_at', timestamp_type(), nullable=True),
    sa.Column('samples', sa.BigInteger, nullable=False, server_default='0'),
    sa.Column('rejects', sa.BigInteger, nullable=False, server_default='0'),
    sa.Column('outcome', sa.String(32), nullable=True),
    sa.Column('error', sa.Text, nullable=True),
    sa.Column('worker', sa.String(NAME_LENGTH), nullable=True),
    sa.Index('ix_export_runs_mapping_started_at', 'mapping', 'started_at'),
    **MYSQL_TABLE_OPTIONS,
)

# One row per exporting process (``host:pid``, as export_runs.worker names
# it): when it last started a pass and which projects the API showed its
# token (``scope``: all, project, unknown), so that status, which only
# reads the database, can say that a non-admin token exports one project.
export_workers = sa.Table(
    'export_workers', metadata,
    sa.Column('worker', sa.String(NAME_LENGTH), primary_key=True),
    sa.Column('last_seen_at', timestamp_type(), nullable=False),
    sa.Column('scope', sa.String(16), nullable=False),
    sa.Column('project_id', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('project_name', sa.String(NAME_LENGTH), nullable=True),
    sa.Column('scope_note', sa.String(NAME_LENGTH), nullable=True),
    **MYSQL_TABLE_OPTIONS,
)
