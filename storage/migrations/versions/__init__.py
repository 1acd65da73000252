"""Alembic revisions of the judgments database, oldest first (0001, 0002, ...)."""
