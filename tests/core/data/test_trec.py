"""TREC run and qrels files: round trips, ordering, line-numbered errors, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clirlens.core.data import trec
from clirlens.core.errors import DataError
from clirlens.core.types import Qrels, Run, ScoredPassage


def _run() -> Run:
    return Run(
        "model A",
        {
            "q1": (ScoredPassage("d3", 0.9, 1), ScoredPassage("d1", 0.1 + 0.2, 2)),
            "q2": (ScoredPassage("d2", -1e-7, 1),),
        },
    )


def test_run_round_trip(tmp_path: Path) -> None:
    path = trec.write_run(_run(), tmp_path / "sub" / "a.run")
    assert path.read_text().splitlines() == [
        "q1 Q0 d3 1 0.9 model_A",
        "q1 Q0 d1 2 0.30000000000000004 model_A",
        "q2 Q0 d2 1 -1e-07 model_A",
    ]
    back = trec.read_run(path)
    assert back.name == "model_A"
    assert dict(back.rankings) == dict(_run().rankings)  # scores round-trip exactly
    assert trec.read_run(path, name="other").name == "other"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in path.parent.iterdir()] == ["a.run"]  # no temporary file left


def test_read_run_orders_by_score_then_file_rank(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("q1 Q0 dA 3 1.0 t\n\nq1 Q0 dB 1 2.5 t\nq1\tQ0\tdC\t2\t1.0\tt\n")
    ranking = trec.read_run(path).top("q1")
    assert [(sp.passage_id, sp.rank, sp.score) for sp in ranking] == [
        ("dB", 1, 2.5),
        ("dC", 2, 1.0),
        ("dA", 3, 1.0),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("q1 Q0 d1 1 0.5", r"r\.txt:2: expected 6 columns 'qid Q0 docid rank score tag', got 5"),
        ("q1 Q0 d1 x 0.5 t", r"r\.txt:2: rank 'x' is not an integer"),
        ("q1 Q0 d1 1 high t", r"r\.txt:2: score 'high' is not a number"),
        ("q1 Q0 d1 1 nan t", r"r\.txt:2: score is NaN"),
        ("q1 Q0 d0 2 0.1 t", r"r\.txt:2: document 'd0' appears twice for query 'q1'"),
    ],
)
def test_bad_run_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "r.txt"
    path.write_text(f"q1 Q0 d0 1 0.9 t\n{line}\n")
    with pytest.raises(DataError, match=message):
        trec.read_run(path)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"run file not found: .*none"):
        trec.read_run(tmp_path / "none")
    (tmp_path / "bin").write_bytes(b"q1 0 d\xff 1\n")
    with pytest.raises(DataError, match=r"bin: not UTF-8 text"):
        trec.read_qrels(tmp_path / "bin")


def test_qrels_round_trip(tmp_path: Path) -> None:
    qrels = Qrels({"q1": {"d1": 3, "d2": 0}, "q2": {"d9": -1}})
    path = trec.write_qrels(qrels, tmp_path / "q.txt")
    assert path.read_text() == "q1 0 d1 3\nq1 0 d2 0\nq2 0 d9 -1\n"
    back = trec.read_qrels(path)
    assert back == qrels
    assert back.relevant("q1") == {"d1"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("q1 0 d2", r"q\.txt:3: expected 4 columns 'qid 0 docid grade', got 3"),
        ("q1 0 d2 1.5", r"q\.txt:3: grade '1\.5' is not an integer"),
        ("q1 0 d1 2", r"q\.txt:3: document 'd1' judged twice for query 'q1'"),
    ],
)
def test_bad_qrels_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "q.txt"
    path.write_text(f"q1 0 d1 1\n\n{line}\n")
    with pytest.raises(DataError, match=message):
        trec.read_qrels(path)


def test_ids_with_whitespace_are_refused_and_target_untouched(tmp_path: Path) -> None:
    path = tmp_path / "a.run"
    path.write_text("keep me\n")
    bad = Run("m", {"q1": (ScoredPassage("d 1", 1.0, 1),)})
    with pytest.raises(DataError, match=r"passage id 'd 1' is empty or contains whitespace"):
        trec.write_run(bad, path)
    assert path.read_text() == "keep me\n"
    assert sorted(os.listdir(tmp_path)) == ["a.run"]


def test_atomic_replace_keeps_existing_mode(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("old\n")
    path.chmod(0o600)
    trec.write_qrels(Qrels({"q": {"d": 1}}), path)
    assert path.read_text() == "q 0 d 1\n"
    assert path.stat().st_mode & 0o777 == 0o600
