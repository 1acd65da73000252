"""Alembic environment: runs on the connection that :func:`clirlens.storage.db.upgrade` passes
in ``config.attributes["connection"]`` (there is no alembic.ini; the configuration is built in
code), inside that connection's transaction, in batch mode on SQLite.

To write a new revision against the models, from the repository root::

    python -c "from clirlens.storage.db import new_revision; new_revision('what changed')"
"""

from __future__ import annotations

from alembic import context

from clirlens.storage.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "clirlens migrations run through clirlens.storage.db (upgrade / open_database), "
        "which passes a connection; there is no offline mode"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
