"""Judge calls per second and per-call latency of the judgments repository.

    python benchmarks/bench_judgments.py [--n 100000] [--sync FULL NORMAL] [--dir DIR]

Runs ``n`` calls of ``JudgmentRepository.judge`` (each its own transaction, with its history
entry) on a fresh SQLite file in a temporary directory (``--dir`` chooses the file system: the
figures depend on its fsync), once per ``--sync`` setting, and on PostgreSQL when
``CLIRLENS_TEST_PG_URL`` is set (in a scratch schema, dropped afterwards). Calls cycle over 4
annotators and a pool of ``--items`` items, so most calls after the first round re-judge (an
UPDATE) rather than insert. Prints judgments/s and p50/p90/p99/max latency of one call; the
goal is p99 < 5 ms so the interface never waits on the database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from clirlens.core.types import Passage, Query, Run
from clirlens.storage import db
from clirlens.storage.repository import JudgmentRepository

ANNOTATORS = ("ann", "bob", "cat", "dan")


def _campaign(repo: JudgmentRepository, n_items: int) -> list[int]:
    per_query = 20
    n_queries = max(1, n_items // per_query)
    queries = [Query(f"q{i}", f"question {i}", "th") for i in range(n_queries)]
    passages = [Passage(f"p{i}", f"passage {i}", "en") for i in range(per_query)]
    run = Run.from_scores(
        "model", {q.id: {p.id: float(j) for j, p in enumerate(passages)} for q in queries}
    )
    c = repo.create_campaign("bench", [run], queries, passages, depth=per_query)
    return [it.id for it in repo.items(c.name)]


def _measure(repo: JudgmentRepository, n: int, n_items: int) -> dict[str, float]:
    items = _campaign(repo, n_items)
    for i in range(50):  # warm up connections and statement caches
        repo.judge(items[i % len(items)], "warmup", i % 4)
    lat = np.empty(n)
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        repo.judge(
            items[i % len(items)], ANNOTATORS[(i // len(items)) % 4], (i * 7) % 4, seconds_spent=1.0
        )
        lat[i] = time.perf_counter() - t
    total = time.perf_counter() - start
    ms = lat * 1000
    return {
        "per_s": n / total,
        "p50": float(np.percentile(ms, 50)),
        "p90": float(np.percentile(ms, 90)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
        "mean": statistics.fmean(ms),
    }


def _report(label: str, r: dict[str, float], n: int) -> None:
    verdict = "meets" if r["p99"] < 5 else "MISSES"
    print(
        f"{label:<28} {n:>7} calls  {r['per_s']:>7.0f} judgments/s  p50 {r['p50']:.2f} ms  "
        f"p90 {r['p90']:.2f} ms  p99 {r['p99']:.2f} ms  max {r['max']:.1f} ms  "
        f"({verdict} p99 < 5 ms)",
        flush=True,
    )


def bench_sqlite(n: int, n_items: int, sync: str, where: str | None) -> None:
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        path = Path(tmp) / "bench.sqlite"
        db.open_database(path).dispose()  # create and migrate
        repo = JudgmentRepository(db.make_engine(path, synchronous=sync))
        try:
            r = _measure(repo, n, n_items)
        finally:
            repo.close()
    _report(f"SQLite WAL synchronous={sync}", r, n)


def bench_postgres(n: int, n_items: int, base: str) -> None:
    schema = f"clirlens_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        repo = JudgmentRepository.open(url.render_as_string(hide_password=False))
        try:
            r = _measure(repo, n, n_items)
        finally:
            repo.close()
        _report("PostgreSQL", r, n)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="judge calls per backend")
    ap.add_argument("--items", type=int, default=5_000, help="pool size")
    ap.add_argument(
        "--sync",
        nargs="+",
        default=["FULL", "NORMAL"],
        help="SQLite synchronous settings to measure (default FULL NORMAL)",
    )
    ap.add_argument("--dir", help="folder for the SQLite file (default: the temp folder)")
    args = ap.parse_args(argv)
    print(
        f"python {sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version}, "
        f"clirlens default synchronous={db.SQLITE_SYNCHRONOUS}",
        flush=True,
    )
    for sync in args.sync:
        bench_sqlite(args.n, args.items, sync.upper(), args.dir)
    pg = os.environ.get("CLIRLENS_TEST_PG_URL")
    if pg:
        bench_postgres(args.n, args.items, pg)
    else:
        print("PostgreSQL: skipped (CLIRLENS_TEST_PG_URL is not set; see .ci/start-postgres.sh)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
