"""Schema versions (Alembic), driven from code rather than alembic.ini."""

from alembic import command
from alembic import config as alembic_config
from alembic import script
from alembic.runtime import migration

_SCRIPT_LOCATION = 'ceilometer_export.store:migrations'


def _config(connection=None):
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', _SCRIPT_LOCATION)
    cfg.attributes['connection'] = connection
    return cfg


def head_revision():
    return script.ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(connection):
    return migration.MigrationContext.configure(
        connection).get_current_revision()


def upgrade(engine):
    """Bring the schema to the latest revision; returns (before, after)."""
    with engine.begin() as connection:
        before = current_revision(connection)
        command.upgrade(_config(connection), 'head')
        return before, current_revision(connection)
