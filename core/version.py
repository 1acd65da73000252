"""clirlens' version, from the installed package's metadata."""

from __future__ import annotations


def version() -> str:
    """The installed distribution's version, ``"unknown"`` when running from a bare tree."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("clirlens")
    except PackageNotFoundError:
        return "unknown"
