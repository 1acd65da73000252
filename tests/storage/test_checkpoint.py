"""The background checkpointer moves what was judged from the WAL into the database file
(fsyncing the WAL first, as every SQLite checkpoint does), without any judge call waiting."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from clirlens.core.data.trec import parse_qrels
from clirlens.storage import db
from clirlens.storage.checkpoint import AUTOCHECKPOINT_PAGES
from clirlens.storage.repository import JudgmentRepository


def _rows_in_database_file(path: Path) -> int:
    """Judgments in the main file alone: ``immutable=1`` makes SQLite ignore the WAL."""
    con = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
    try:
        return con.execute("SELECT count(*) FROM judgments").fetchone()[0]
    except sqlite3.DatabaseError:  # the tables themselves are still only in the WAL
        return -1
    finally:
        con.close()


def test_judgments_reach_the_database_file_within_a_second(tmp_path: Path):
    path = tmp_path / "judgments.sqlite"
    repo = JudgmentRepository.open(path)
    try:
        repo.import_judgments("c", "a", parse_qrels("q 0 d1 1\nq 0 d2 2\nq 0 d3 3\n"))
        for item in repo.items("c"):
            repo.judge(item.id, "b", 0)
        with repo.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == (
                AUTOCHECKPOINT_PAGES
            )
        checkpointer = db._CHECKPOINTERS[repo.engine]
        assert checkpointer.running and checkpointer.interval == 1.0
        deadline = time.monotonic() + 5
        while _rows_in_database_file(path) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _rows_in_database_file(path) == 6
        repo.judge(repo.items("c")[0].id, "c", 3)
    finally:
        repo.close()
    assert not checkpointer.running
    assert _rows_in_database_file(path) == 7  # the last checkpoint on close
