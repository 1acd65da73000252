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
    with pytest.raises(DataError, match=r"bin: 1 bad line: line 1: not UTF-8 text"):
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
        ("q1 0 d2", r"q\.txt: 1 bad line: line 3: expected 4 fields .*, got 3"),
        ("q1 0 d2 1.5", r"q\.txt: 1 bad line: line 3: grade '1\.5' is not a whole number"),
        (
            "q1 0 d1 2",
            r"q\.txt: 1 bad line: line 3: query q1 passage d1 is already judged on line 1",
        ),
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


GOOD = """# a comment
q1 0 d1 2
q1 0 d2 0

q2 Q0 d1 3
"""


def test_parse_reads_judgments_and_skips_comments():
    lines = trec.parse_qrels(GOOD)
    assert [(ln.line, ln.query_id, ln.passage_id, ln.grade) for ln in lines] == [
        (2, "q1", "d1", 2),
        (3, "q1", "d2", 0),
        (5, "q2", "d1", 3),
    ]


def test_every_bad_line_is_reported_by_number():
    text = "q1 0 d1 2\nq1 0 d2\nq1 0 d3 x\nq1 0 d4 4\nq1 0 d5 -1\nq1 0 d1 1\nq2 0 d1 1 extra\n"
    with pytest.raises(trec.QrelsError) as info:
        trec.parse_qrels(text, "run.qrels", grades=range(4), consequence="nothing imported")
    err = info.value
    assert isinstance(err, DataError)
    assert [n for n, _ in err.problems] == [2, 3, 4, 5, 6, 7]
    msg = str(err)
    assert "\n" not in msg and msg.startswith("run.qrels: 6 bad lines, nothing imported")
    assert "line 2: expected 4 fields" in msg and "line 3: grade 'x' is not a whole number" in msg
    assert "line 4: grade 4 is out of range" in msg and "line 6:" in msg and "on line 1" in msg


@pytest.mark.parametrize("grade", ["３", "٣", "0_3", "+3", "1_0", "3.0", "3x"])
def test_grades_are_ascii_whole_numbers(grade: str) -> None:
    with pytest.raises(trec.QrelsError, match="is not a whole number"):
        trec.parse_qrels(f"q1 0 d1 {grade}\n")
    assert trec.parse_qrels("q1 0 d1 -1\n")[0].grade == -1  # trec_eval reads negative grades
