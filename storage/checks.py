"""Recognising a clirlens judgments database before anything writes to it, and backing one
up before a migration.

A file is ours when its tables are exactly those of a schema revision this clirlens knows
(:data:`SCHEMA_TABLES`) and its ``alembic_version`` names that revision; anything else —
another program's SQLite file, even one that happens to carry one of our revision ids, a
file whose pages are damaged, a newer schema — is refused with one line, untouched: it is
read as an immutable file when no connection has it open, so not even a ``-shm`` file
appears. Backups are written under a temporary name and renamed when whole.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from clirlens.core.errors import UserError, one_line

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30
# the tables of clirlens' schema at each Alembic revision (a test holds the newest to the
# migrations): a file claiming one of these revisions with other tables is not ours
_V1 = frozenset({"annotators", "campaigns", "pool_items", "pool_sources", "judgments"})
SCHEMA_TABLES: dict[str, frozenset[str]] = {
    "0001": _V1,
    "0002": _V1,
    "0003": _V1 | {"judgment_history"},
}


def backup_sqlite(path: Path, revision: str | None) -> Path:
    """Copy a SQLite database beside itself (consistent, WAL included); returns the copy."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    tag = f".rev{revision}" if revision else ""
    dest = path.with_name(f"{path.stem}.{stamp}{tag}.bak{path.suffix}")
    n = 1
    while dest.exists():
        dest = path.with_name(f"{path.stem}.{stamp}-{n}{tag}.bak{path.suffix}")
        n += 1
    # written under a temporary name and renamed when whole: a killed backup leaves no
    # *.bak file that looks like one
    partial = dest.with_name(f".{dest.name}.partial")
    src = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
        finally:
            dst.close()
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    return dest


def inspect_sqlite_file(path: Path) -> tuple[set[str], str | None]:
    """Tables and Alembic revision of an existing SQLite file, read without writing to it
    (and its pages checked: a damaged file is refused before anything writes to it)."""
    with open(path, "rb") as f:
        header = f.read(len(SQLITE_MAGIC))
    if header != SQLITE_MAGIC:
        raise UserError(f"{path} is not a SQLite database, so it cannot hold clirlens judgments")
    try:
        # no -wal file: no connection has it open in WAL mode, so it is read as immutable
        # (no lock, no -shm/-wal sidecars created); with one, a live writer may be at work
        live = path.with_name(path.name + "-wal").exists()
        mode = "mode=ro" if live else "mode=ro&immutable=1"
        con = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=30)
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            rev = None
            if "alembic_version" in tables:
                row = con.execute("SELECT version_num FROM alembic_version").fetchone()
                rev = row[0] if row else None
            check = con.execute("PRAGMA quick_check").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise UserError(
            f"{path} is not a readable SQLite database ({one_line(str(exc))}); it was left "
            "untouched: restore it from a backup (*.bak.sqlite beside it) or choose another --db"
        ) from None
    if check is None or check[0] != "ok":
        raise UserError(
            f"{path} is damaged ({check[0] if check else 'no answer'}); it was left untouched: "
            "restore it from a backup (*.bak.sqlite beside it) or choose another --db"
        )
    return tables - {"sqlite_sequence"}, rev


def check_known(where: str, tables: set[str], revision: str | None) -> None:
    """Refuse anything that is not a clirlens judgments database (tables and revision), or
    one newer than this clirlens knows, before anything is written to it."""
    if revision is not None and revision in SCHEMA_TABLES:
        own = tables - {"alembic_version"}
        if own != SCHEMA_TABLES[revision]:
            shown = ", ".join(sorted(own)[:6]) or "no tables"
            raise UserError(
                f"{where} is not a clirlens judgments database: it claims schema revision "
                f"{revision} but holds {shown}; it was left untouched, choose another --db"
            )
        return
    if revision is None:
        foreign = sorted(t for t in tables if t != "alembic_version")
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise UserError(
                f"{where} is not a clirlens judgments database (it has tables {shown} "
                "but no clirlens schema version); choose another --db"
            )
        return
    if revision not in SCHEMA_TABLES:
        raise UserError(
            f"{where} has judgments schema revision {revision}, newer than this clirlens "
            f"knows (newest {max(SCHEMA_TABLES)}); update clirlens to open it (left untouched)"
        )
