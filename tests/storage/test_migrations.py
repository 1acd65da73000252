"""Migrations: from empty and from every earlier revision with data; refusals leave the file
untouched; the models and the migrated schema agree."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from clirlens.core.errors import UserError
from clirlens.storage import db
from clirlens.storage.repository import JudgmentRepository
from clirlens.storage.tables import Base, UTCDateTime

T1 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
T2 = datetime(2025, 3, 2, 8, 30, 0, tzinfo=timezone.utc)


def _t(name: str, *cols: str, ts: tuple[str, ...] = ()) -> sa.TableClause:
    return sa.table(name, *(sa.column(c) for c in cols), *(sa.column(c, UTCDateTime) for c in ts))


def _seed(engine: sa.Engine, revision: str) -> None:
    """Data as clirlens at ``revision`` would have written it (raw rows, no models)."""
    judgment_cols = ["id", "annotator_id", "item_id", "grade"]
    if revision >= "0002":
        judgment_cols += ["note", "seconds_spent"]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(_t("annotators", "id", "name", ts=("created_at",))),
            [
                {"id": 1, "name": "alice", "created_at": T1},
                {"id": 2, "name": "bob", "created_at": T1},
            ],
        )
        conn.execute(
            sa.insert(
                _t(
                    "campaigns",
                    "id",
                    "name",
                    "dataset",
                    "directions",
                    "models",
                    "pool_depth",
                    "blind",
                    "shuffle_seed",
                    ts=("created_at",),
                )
            ),
            [
                {
                    "id": 1,
                    "name": "old",
                    "dataset": "xquad",
                    "directions": '["th-en"]',
                    "models": '["webfaq", "tydi"]',
                    "pool_depth": 2,
                    "blind": True,
                    "shuffle_seed": 3,
                    "created_at": T1,
                }
            ],
        )
        conn.execute(
            sa.insert(
                _t(
                    "pool_items",
                    "id",
                    "campaign_id",
                    "position",
                    "query_id",
                    "query_text",
                    "query_lang",
                    "passage_id",
                    "passage_hash",
                    "passage_lang",
                )
            ),
            [
                {
                    "id": i,
                    "campaign_id": 1,
                    "position": i - 1,
                    "query_id": "q1",
                    "query_text": "คำถาม?",
                    "query_lang": "th",
                    "passage_id": f"p{i}",
                    "passage_hash": "ab" * 32,
                    "passage_lang": "en",
                }
                for i in (1, 2, 3)
            ],
        )
        conn.execute(
            sa.insert(_t("pool_sources", "item_id", "model", "rank")),
            [
                {"item_id": 1, "model": "webfaq", "rank": 1},
                {"item_id": 1, "model": "tydi", "rank": 2},
                {"item_id": 2, "model": "tydi", "rank": 1},
                {"item_id": 3, "model": "webfaq", "rank": 2},
            ],
        )
        rows = [
            {
                "id": 1,
                "annotator_id": 1,
                "item_id": 1,
                "grade": 3,
                "note": "exact answer",
                "seconds_spent": 12.5,
                "created_at": T1,
                "updated_at": T2,
            },
            {
                "id": 2,
                "annotator_id": 1,
                "item_id": 2,
                "grade": 0,
                "note": None,
                "seconds_spent": None,
                "created_at": T1,
                "updated_at": T1,
            },
            {
                "id": 3,
                "annotator_id": 2,
                "item_id": 1,
                "grade": 2,
                "note": None,
                "seconds_spent": 4.0,
                "created_at": T2,
                "updated_at": T2,
            },
        ]
        table = _t("judgments", *judgment_cols, ts=("created_at", "updated_at"))
        conn.execute(
            sa.insert(table),
            [{k: v for k, v in r.items() if k in judgment_cols or k.endswith("_at")} for r in rows],
        )


def _check(repo: JudgmentRepository, revision: str) -> None:
    (c,) = repo.campaigns()
    assert (c.name, c.size, c.models, c.directions, c.blind, c.seed) == (
        "old",
        3,
        ("webfaq", "tydi"),
        ("th-en",),
        True,
        3,
    )
    items = repo.items("old", "alice")
    assert [it.passage_id for it in items] == ["p1", "p2", "p3"]
    assert items[0].query.text == "คำถาม?"
    assert [(s.model, s.rank) for s in items[0].sources] == [("webfaq", 1), ("tydi", 2)]
    got = {(j.annotator, j.passage_id): j for j in repo.judgments("old")}
    assert {k: j.grade for k, j in got.items()} == {
        ("alice", "p1"): 3,
        ("alice", "p2"): 0,
        ("bob", "p1"): 2,
    }
    a1 = got[("alice", "p1")]
    assert (a1.created_at, a1.updated_at) == (T1, T2)
    if revision >= "0002":
        assert (a1.note, a1.seconds_spent) == ("exact answer", 12.5)
    else:
        assert (a1.note, a1.seconds_spent) == (None, None)
    # the history explains every judgment, so undo works on migrated data too
    history = repo.history("old")
    assert len(history) == 3 and all(h.action == "judge" and h.old is None for h in history)
    assert {h.new for h in history} == {j.state for j in got.values()}
    assert repo.undo_last("old", "bob").judgment is None
    assert repo.next_item("old", "bob").passage_id == "p1"
    assert repo.next_item("old", "alice").passage_id == "p3"


def test_empty_database_upgrades_to_head_matching_the_models(db_url: str):
    engine = db.open_database(db_url)
    try:
        assert db.current_revision(engine) == db.head_revision() == db.revisions()[-1]
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        db.close_engine(engine)


@pytest.mark.parametrize("revision", ["0001", "0002"])
def test_every_earlier_revision_with_data_upgrades(db_url: str, revision: str, tmp_path: Path):
    assert revision in db.revisions()[:-1]
    engine = db.make_engine(db_url, checkpoint_interval=None)
    db.upgrade(engine, revision)
    assert db.current_revision(engine) == revision
    _seed(engine, revision)
    db.close_engine(engine)
    with JudgmentRepository.open(db_url) as repo:
        assert db.current_revision(repo.engine) == db.head_revision()
        _check(repo, revision)
    path = db.sqlite_path(db.resolve_url(db_url))
    if path is not None:  # SQLite: the file was copied before the upgrade
        (backup,) = path.parent.glob(f"{path.stem}.*.rev{revision}.bak.sqlite")
        con = sqlite3.connect(backup)
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(revision,)]
        assert con.execute("SELECT count(*) FROM judgments").fetchone() == (3,)
        con.close()
        with JudgmentRepository.open(db_url):  # at head now: no second backup
            pass
        assert len(list(path.parent.glob("*.bak.sqlite"))) == 1


def test_downgrade_and_upgrade_keep_the_grade_check(db_url: str):
    engine = db.make_engine(db_url, checkpoint_interval=None)
    try:
        db.upgrade(engine)
        db.downgrade(engine, "0001")
        assert db.current_revision(engine) == "0001"
        db.upgrade(engine)
        _seed(engine, db.head_revision())
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE judgments SET grade = 9 WHERE id = 1"))
        db.downgrade(engine, "0001")  # batch mode rebuilds the table on SQLite
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE judgments SET grade = 9 WHERE id = 1"))
    finally:
        db.close_engine(engine)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_schema_is_refused_and_left_untouched(tmp_path: Path):
    path = tmp_path / "judgments.sqlite"
    db.close_engine(db.open_database(path))
    con = sqlite3.connect(path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before = _digest(path)
    with pytest.raises(UserError, match="revision 9999, newer than this clirlens"):
        db.open_database(path)
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir() if "bak" in p.name) == []


def test_newer_schema_on_postgresql_is_refused(pg_url: str):
    engine = db.open_database(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    db.close_engine(engine)
    with pytest.raises(UserError, match="revision 9999, newer"):
        db.open_database(pg_url)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [("9999",)]
    engine.dispose()


def test_files_that_are_not_judgment_databases(tmp_path: Path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("q1 0 d1 2\n")
    garbage = tmp_path / "broken.sqlite"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    foreign = tmp_path / "other.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    for path, message in [
        (text_file, "is not a SQLite database"),
        (garbage, "is not a readable SQLite database"),
        (foreign, "is not a clirlens judgments database .*recipes"),
        (tmp_path, "is a folder"),
    ]:
        before = None if path.is_dir() else _digest(path)
        with pytest.raises(UserError, match=message):
            JudgmentRepository.open(path)
        if before is not None:
            assert _digest(path) == before
    with pytest.raises(UserError, match="cannot use database nonsense://"):
        db.open_database("nonsense://")
    with pytest.raises(UserError, match="cannot open the judgments database postgresql") as info:
        db.open_database("postgresql+psycopg://u:secret@127.0.0.1:1/none")
    assert "secret" not in str(info.value) and "\n" not in str(info.value)


def test_default_database_lives_in_the_data_dir_with_its_pragmas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CLIRLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CLIRLENS_DB", raising=False)
    engine = db.open_database()
    try:
        assert db.sqlite_path(engine.url) == tmp_path / "data" / "judgments.sqlite"
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragma == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 30000,
            "synchronous": 2,
        }  # 2 = FULL (see clirlens.storage.db)
    finally:
        db.close_engine(engine)
    monkeypatch.setenv("CLIRLENS_DB", str(tmp_path / "elsewhere.sqlite"))
    assert db.sqlite_path(db.default_url()) == tmp_path / "elsewhere.sqlite"


def test_normal_synchronous_on_request(tmp_path: Path):
    path = tmp_path / "j.sqlite"
    with JudgmentRepository.open(path, synchronous="NORMAL") as repo, repo.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
