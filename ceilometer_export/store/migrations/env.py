"""Alembic environment: always driven from ``store.migration`` with an
open connection, never from an alembic.ini."""

from alembic import context

connection = context.config.attributes['connection']
context.configure(connection=connection, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
