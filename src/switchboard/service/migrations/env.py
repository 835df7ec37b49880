"""Alembic environment: runs on the connection `switchboard.service.db.migrate` hands over."""

from alembic import context

from switchboard.service.db import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
