"""Storage fixtures: a fresh SQLite file per test, and (when CLIRLENS_TEST_PG_URL names a
server, see .ci/start-postgres.sh) a fresh PostgreSQL schema per test, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from clirlens.core.types import Passage, Query, Run
from clirlens.storage.repository import JudgmentRepository

PG_ENV = "CLIRLENS_TEST_PG_URL"
PG_SKIP = f"{PG_ENV} is not set (start a server with .ci/start-postgres.sh): PostgreSQL skipped"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'judgments.sqlite'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose connections live in a schema of their own (search_path), dropped after."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP)
    schema = f"clirlens_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each backend in turn (PostgreSQL skipped without a server)."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def repo(db_url: str) -> Iterator[JudgmentRepository]:
    with JudgmentRepository.open(db_url) as r:
        yield r


QUERIES = tuple(Query(f"q{i}", f"question {i}?", "th") for i in range(4))
PASSAGES = tuple(Passage(f"p{i}", f"passage text {i}", "en") for i in range(12))


def make_runs() -> list[Run]:
    """Two runs over 4 queries and 12 passages whose top-3 overlap partly."""
    a = {
        q.id: {p.id: float((i * 7 + n) % 12) for i, p in enumerate(PASSAGES)}
        for n, q in enumerate(QUERIES)
    }
    b = {
        q.id: {p.id: float((i * 5 + 2 * n) % 12) for i, p in enumerate(PASSAGES)}
        for n, q in enumerate(QUERIES)
    }
    return [Run.from_scores("webfaq", a), Run.from_scores("tydi", b)]


@pytest.fixture
def campaign(repo: JudgmentRepository):  # type: ignore[no-untyped-def]
    return repo.create_campaign(
        "pilot",
        make_runs(),
        QUERIES,
        PASSAGES,
        depth=3,
        seed=7,
        dataset="xquad",
        directions=["th-en"],
    )
