"""Alembic environment for the store: runs online only, on the connection engine.py passes in."""

from __future__ import annotations

from alembic import context

from gcwm.store.tables import metadata

_connection = context.config.attributes.get("connection")
if _connection is None:
    # There is no alembic.ini: gcwm.store.engine.connect() is the only way in, and it passes a connection.
    msg = "the gcwm store migrates only through gcwm.store.connect(), which passes a connection"
    raise RuntimeError(msg)

# connect() has already begun the transaction (and taken the migration lock), so alembic joins it.
context.configure(connection=_connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
