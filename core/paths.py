"""Where clirlens keeps its files: platformdirs locations, overridable by environment
variables (``CLIRLENS_CACHE_DIR``, ``CLIRLENS_DATA_DIR``) or explicit arguments."""

from __future__ import annotations

import os
from pathlib import Path

APP = "clirlens"


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Embedding and index caches (safe to delete)."""
    if override:
        return Path(override)
    env = os.environ.get("CLIRLENS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP))


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """User data that must not be lost: the judgments database, saved workspaces."""
    if override:
        return Path(override)
    env = os.environ.get("CLIRLENS_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))
