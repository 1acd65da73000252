"""BEIR folders: a tiny one written into tmp_path, and line-numbered errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirlens.core.data.beir import load_beir, load_beir_job
from clirlens.core.errors import DataError
from clirlens.core.types import Passage, Progress, Query

CORPUS = [
    {"_id": "d1", "title": "Bangkok", "text": "กรุงเทพมหานครเป็นเมืองหลวง"},
    {"_id": 2, "title": "", "text": "Second passage."},
    {"_id": "d3", "text": "No title at all."},
]
QUERIES = [
    {"_id": "q0", "text": "a query of another split"},
    {"_id": "q1", "text": "เมืองหลวงของไทยคืออะไร"},
    {"_id": "q2", "text": "second?"},
]
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\t2\t0\nq2\td3\t1\n"


def _folder(
    tmp_path: Path, corpus=CORPUS, queries=QUERIES, qrels=QRELS, split: str = "test"
) -> Path:
    (tmp_path / "qrels").mkdir(exist_ok=True)
    for name, rows in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        text = (
            rows
            if isinstance(rows, str)
            else "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        )
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "qrels" / f"{split}.tsv").write_text(qrels, encoding="utf-8")
    return tmp_path


def test_load_tiny_folder(tmp_path: Path) -> None:
    task = load_beir(_folder(tmp_path), query_lang="th", doc_lang="th")
    assert task.name == f"beir/{tmp_path.name}/test"
    assert (task.query_lang, task.doc_lang) == ("th", "th")
    assert task.corpus == (
        Passage("d1", "กรุงเทพมหานครเป็นเมืองหลวง", "th", "Bangkok"),
        Passage("2", "Second passage.", "th", None),
        Passage("d3", "No title at all.", "th", None),
    )
    # only judged queries, in queries.jsonl order
    assert task.queries == (Query("q1", "เมืองหลวงของไทยคืออะไร", "th"), Query("q2", "second?", "th"))
    assert dict(task.qrels.data["q1"]) == {"d1": 2, "2": 0}
    assert task.qrels.relevant("q1") == {"d1"}
    assert task.answers == {} and task.parallel == {}


def test_defaults_and_headerless_qrels(tmp_path: Path) -> None:
    task = load_beir(_folder(tmp_path, qrels="q2\td3\t1\n", split="dev"), "dev", name="x")
    assert task.name == "x" and task.query_lang == task.doc_lang == "und"
    assert [q.id for q in task.queries] == ["q2"]


def test_job_yields_progress_to_the_total(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    job = load_beir_job(folder)
    seen = []
    while True:
        try:
            seen.append(next(job))
        except StopIteration as stop:
            task = stop.value
            break
    total = sum(
        f.stat().st_size
        for f in (folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / "test.tsv")
    )
    assert all(isinstance(p, Progress) and p.total == total for p in seen)
    assert all(p.unit == "bytes" for p in seen)  # shown as MB, not as a count of bytes
    assert seen[-1].done == total
    assert len(task.corpus) == 3


def test_missing_pieces(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="BEIR folder not found"):
        load_beir(tmp_path / "none")
    folder = _folder(tmp_path)
    with pytest.raises(
        DataError,
        match=r"qrels for split 'dev' not found: .*\(available splits: "
        r"test\)",
    ):
        load_beir(folder, "dev")
    (folder / "queries.jsonl").unlink()
    with pytest.raises(DataError, match=r"queries\.jsonl not found in BEIR folder"):
        load_beir(folder)


@pytest.mark.parametrize(
    ("corpus", "message"),
    [
        (
            '{"_id": "d1", "text": "ok"}\n\n{"_id": "d2", "text": }\n',
            r"corpus\.jsonl:3: invalid JSON at column 23: Expecting value",
        ),
        (
            '{"_id": "d1", "text": "ok"}\n["d2", "text"]\n',
            r"corpus\.jsonl:2: expected a JSON object, got list",
        ),
        (
            '{"_id": "d1", "text": "ok"}\n{"text": "no id"}\n',
            r"corpus\.jsonl:2: missing field '_id'",
        ),
        ('{"_id": "d1", "text": 5}\n', r"corpus\.jsonl:1: field 'text' is a int, expected str"),
        (
            '{"_id": true, "text": "x"}\n',
            r"corpus\.jsonl:1: field '_id' is a bool, expected str or int",
        ),
        (
            '{"_id": "d1", "text": "a"}\n{"_id": "d1", "text": "b"}\n',
            r"corpus\.jsonl:2: passage id 'd1' appears twice",
        ),
    ],
)
def test_bad_corpus_lines(tmp_path: Path, corpus: str, message: str) -> None:
    folder = _folder(tmp_path, corpus=corpus, qrels="q1\td1\t1\n")
    with pytest.raises(DataError, match=message):
        load_beir(folder)


@pytest.mark.parametrize(
    ("qrels", "message"),
    [
        ("query-id\tcorpus-id\tscore\nq1\td1\n", r"test\.tsv:2: expected 3 tab-separated columns"),
        (
            "query-id\tcorpus-id\tscore\nq1\td1\tyes\n",
            r"test\.tsv:2: score 'yes' is not an integer",
        ),
        ("q1\td1\t1\nq1\td1\t2\n", r"test\.tsv:2: passage 'd1' judged twice for query 'q1'"),
        ("query-id\tcorpus-id\tscore\n", r"test\.tsv: no judgments"),
        ("q1\td1\t1\nq7\td1\t1\n", r"1 judged queries are not in queries\.jsonl, e\.g\. 'q7'"),
        (
            "q1\td1\t1\nq1\td8\t1\n",
            r"1 judged passages are not in corpus\.jsonl, e\.g\. 'd8' "
            r"\(query 'q1'\)",
        ),
    ],
)
def test_bad_qrels(tmp_path: Path, qrels: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_beir(_folder(tmp_path, qrels=qrels))


def test_bad_utf8_and_duplicate_query(tmp_path: Path) -> None:
    folder = _folder(tmp_path, queries='{"_id": "q1", "text": "a"}\n{"_id": "q1", "text": "b"}\n')
    with pytest.raises(DataError, match=r"queries\.jsonl:2: query id 'q1' appears twice"):
        load_beir(folder)
    (folder / "queries.jsonl").write_bytes(b'{"_id": "q1", "text": "a"}\n{"_id": "q2\xff"}\n')
    with pytest.raises(DataError, match=r"queries\.jsonl:2: not UTF-8"):
        load_beir(folder)


def test_non_strict_drops_dangling_judgments(tmp_path: Path) -> None:
    folder = _folder(tmp_path, qrels="q1\td1\t1\nq1\td8\t1\nq7\td1\t1\nq2\td9\t1\n")
    task = load_beir(folder, strict=False)
    assert {q: dict(d) for q, d in task.qrels.data.items()} == {"q1": {"d1": 1}}
    assert [q.id for q in task.queries] == ["q1"]
