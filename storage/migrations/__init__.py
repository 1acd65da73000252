"""Alembic migration environment of the judgments database (see clirlens.storage.db)."""
