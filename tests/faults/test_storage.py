"""Faults around the judgments database: nothing already saved is changed, nothing is
created by a command that only reads, every problem is one line."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import pytest

from clirlens.core.errors import UserError
from clirlens.core.types import Passage, Query, Run
from clirlens.storage import checks, db
from clirlens.storage.repository import JudgmentRepository

pytestmark = pytest.mark.faults


def _state(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "clirlens.gui.shell.entry", *argv],
        capture_output=True,
        text=True,
        check=False,
    )


def _campaign(path) -> None:
    q = Query("q1", "what?", "th")
    passages = {f"d{i}": Passage(f"d{i}", f"text {i}", "en") for i in range(3)}
    run = Run.from_scores("m", {"q1": {"d0": 1.0, "d1": 0.5}})
    with JudgmentRepository.open(path) as repo:
        repo.create_campaign("c", [run], [q], passages, depth=2, directions=["th-en"])


def test_a_foreign_file_claiming_our_revision_is_refused_untouched(tmp_path):
    foreign = tmp_path / "notes.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    con.execute("INSERT INTO alembic_version VALUES (?)", (db.head_revision(),))
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    before = _state(tmp_path)
    with pytest.raises(UserError, match=r"not a clirlens judgments database.*recipes"):
        JudgmentRepository.open(foreign)
    assert _state(tmp_path) == before  # no WAL switch, no -wal/-shm, no backup
    con = sqlite3.connect(foreign)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_our_schema_tables_are_what_the_migrations_make(tmp_path):
    engine = db.open_database(tmp_path / "fresh.sqlite")
    try:
        from sqlalchemy import inspect

        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        db.close_engine(engine)
    assert tables == checks.SCHEMA_TABLES[db.head_revision()]
    assert set(checks.SCHEMA_TABLES) == set(db.revisions())  # every revision is known


def test_a_damaged_database_is_one_line_and_left_as_it_was(tmp_path):
    path = tmp_path / "judgments.sqlite"
    _campaign(path)
    data = bytearray(path.read_bytes())
    page = 4096
    for number in (3, 4, 5):  # scribble over the headers of three table pages
        data[(number - 1) * page : (number - 1) * page + 12] = b"\xab" * 12
    path.write_bytes(bytes(data))
    before = _state(tmp_path)
    with pytest.raises(UserError) as info:
        JudgmentRepository.open(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert "backup" in str(info.value)
    assert _state(tmp_path) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["judgments", "export", "--campaign", "c"],
        ["judgments", "agreement", "--campaign", "c"],
        ["campaigns", "list"],
    ],
)
def test_reading_commands_never_create_a_database(tmp_path, argv):
    missing = tmp_path / "typo" / "judgmnets.sqlite"
    done = _cli(*argv, "--db", str(missing))
    assert done.returncode == 2 and done.stdout == ""
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and "no judgments database" in err[0] and str(missing) in err[0]
    assert not missing.parent.exists()


def test_names_with_control_characters_are_refused(tmp_path):
    qrels = tmp_path / "q.txt"
    qrels.write_text("q1 0 d1 2\n")
    for name in ("\x1b[31mred", "tab\there", "zero\u200bwidth"):
        done = _cli(
            "judgments",
            "import",
            str(qrels),
            "--campaign",
            name,
            "--annotator",
            "a",
            "--db",
            str(tmp_path / "j.sqlite"),
        )
        assert done.returncode == 2 and "control characters" in done.stderr
        done = _cli(
            "judgments",
            "import",
            str(qrels),
            "--campaign",
            "ok",
            "--annotator",
            name,
            "--db",
            str(tmp_path / "j.sqlite"),
        )
        assert done.returncode == 2 and "control characters" in done.stderr


@pytest.mark.parametrize("grade", ["３", "٣", "0_3", "+3", "1_0"])
def test_grades_are_ascii_digits(tmp_path, grade):
    qrels = tmp_path / "q.txt"
    qrels.write_text(f"q1 0 d1 {grade}\n")
    db_file = tmp_path / "j.sqlite"
    done = _cli(
        "judgments",
        "import",
        str(qrels),
        "--campaign",
        "c",
        "--annotator",
        "a",
        "--db",
        str(db_file),
    )
    assert done.returncode == 2 and "is not a whole number" in done.stderr
    assert not db_file.exists() or "c" not in _campaign_names(db_file)


def _campaign_names(path) -> set[str]:
    with JudgmentRepository.open(path) as repo:
        return {c.name for c in repo.campaigns()}


def test_a_killed_backup_leaves_no_backup_file(tmp_path, monkeypatch):
    """The copy is written under a temporary name and renamed when whole: stopped before
    the rename, no file that looks like a backup is left."""
    path = tmp_path / "judgments.sqlite"
    _campaign(path)

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(db.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        db.backup_sqlite(path, "0002")
    assert [p.name for p in tmp_path.iterdir()] == ["judgments.sqlite"]


def test_a_refused_change_is_one_line_and_changes_nothing(tmp_path, monkeypatch):
    """A driver error the repository does not expect (here a value the database refuses)
    comes back as one line naming the database; the transaction is rolled back."""
    path = tmp_path / "judgments.sqlite"
    _campaign(path)
    with JudgmentRepository.open(path) as repo:
        item = repo.items("c")[0]
        repo.judge(item.id, "ana", 2)

        def refuse(*args, **kwargs):
            from sqlalchemy.exc import OperationalError

            raise OperationalError(
                "INSERT", {}, sqlite3.OperationalError("value too long\nfor index")
            )

        from clirlens.storage import changes

        monkeypatch.setattr(changes, "apply_change", refuse)
        with pytest.raises(UserError) as info:
            repo.judge(item.id, "ana", 3)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
        monkeypatch.undo()
        assert repo.judgment(item.id, "ana").grade == 2
