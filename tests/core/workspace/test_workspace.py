"""The workspace service behind the window (no Qt): comparison maths on hand-built runs,
then real workspaces over BEIR folders and an XQuAD subset with BM25 and a tiny dense
model: runs equal core's own retrieval, the cache is reused, cancel leaves it consistent."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from clirlens.core.errors import DataError, ModelError, UserError
from clirlens.core.evaluation.rank_agreement import rank_agreement
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import make_retriever
from clirlens.core.types import Answer, Passage, Qrels, Query, RetrievalTask, Run
from clirlens.core.workspace.comparison import SORT_KEYS, compare
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.core.workspace.workspace import Workspace, restrict

from ..tiny_models import make_tiny_bert

# ------------------------------------------------------------------ comparison maths


def _task() -> RetrievalTask:
    corpus = tuple(Passage(f"p{i}", f"passage number {i}", "en") for i in range(6))
    queries = (
        Query("q1", "Wer gewann?", "de"),
        Query("q2", "Wo liegt PARIS", "de"),
        Query("q3", "Was ist das", "de"),
        Query("q4", "Nichts", "de"),
    )
    qrels = Qrels({"q1": {"p0": 1}, "q2": {"p1": 1, "p2": 1}, "q3": {"p5": 1}, "q4": {"p3": 0}})
    return RetrievalTask(
        "t",
        "de",
        "en",
        queries,
        corpus,
        qrels,
        answers={"q1": (Answer("number", 8),)},
        parallel={"q1": Query("q1", "Who won?", "en"), "q2": Query("q2", "Where is Paris", "en")},
    )


def _runs() -> list[Run]:
    a = Run.from_scores(
        "A",
        {
            "q1": {"p0": 0.9, "p1": 0.8, "p2": 0.7, "p3": 0.1},
            "q2": {"p2": 0.9, "p1": 0.8, "p0": 0.1},
            "q3": {"p0": 0.5, "p1": 0.4},
            "q4": {"p3": 0.5, "p4": 0.4},
        },
    )
    b = Run.from_scores(
        "B",
        {
            "q1": {"p3": 0.9, "p2": 0.8, "p1": 0.5, "p0": 0.4},
            "q2": {"p1": 0.9, "p2": 0.8},
            "q3": {"p5": 0.9, "p0": 0.5},
            "q4": {"p4": 0.5, "p3": 0.4},
        },
    )
    return [a, b]


@pytest.fixture()
def comparison():
    return run(compare(_task(), _runs(), k=4, agreement_k=3))


def test_gold_ranks_missing_is_k_plus_1_and_disagreement(comparison) -> None:
    rows = {r.query.id: r for r in comparison.rows()}
    assert rows["q1"].ranks == (1, 4)
    assert rows["q1"].disagreement == 3
    assert rows["q2"].ranks == (1, 1)  # best rank of either relevant passage
    assert rows["q3"].ranks == (5, 1)  # p5 not retrieved by A: k + 1 = 5
    assert rows["q3"].disagreement == 4
    assert rows["q4"].ranks == (None, None)  # only a grade-0 judgment: no gold
    assert rows["q4"].disagreement == 0
    assert rows["q1"].parallel == "Who won?" and rows["q3"].parallel is None
    want = rank_agreement(["p0", "p1", "p2"], ["p3", "p2", "p1"], k=3)
    got = rows["q1"].agreement
    assert (got.overlap, got.rbo, got.kendall_tau) == (want.overlap, want.rbo, want.kendall_tau)
    assert got.overlap == pytest.approx(2 / 3)


def test_browse_sorts_and_filters(comparison) -> None:
    ids = lambda rows: [r.query.id for r in rows]  # noqa: E731
    assert ids(comparison.browse()) == ["q1", "q2", "q3", "q4"]
    assert ids(comparison.browse(sort="disagreement")) == ["q3", "q1", "q2", "q4"]
    # ties (q2, q4: 0) keep the lower-RBO one first, then dataset order
    assert ids(comparison.browse(sort="rank-a")) == ["q3", "q1", "q2", "q4"]
    assert ids(comparison.browse(sort="rank-b")) == ["q1", "q2", "q3", "q4"]
    rbo = [r.agreement.rbo for r in comparison.browse(sort="rbo")]
    assert rbo == sorted(rbo)
    assert ids(comparison.browse("paris")) == ["q2"]  # case-insensitive
    assert ids(comparison.browse("who WON")) == ["q1"]  # the parallel question matches
    assert ids(comparison.browse("q3")) == ["q3"]  # and the id
    assert set(SORT_KEYS) >= {"order", "disagreement", "rbo", "kendall"}
    for key in SORT_KEYS:
        assert len(comparison.browse(sort=key)) == 4
    with pytest.raises(ValueError, match="unknown sort key"):
        comparison.browse(sort="nope")


def test_query_view_hits(comparison) -> None:
    view = comparison.view("q1", shown=2)
    a, b = view.lists
    assert [h.passage.id for h in a] == ["p0", "p1"]
    # B's gold passage p0 is at rank 4, below the shown two: listed, marked beyond
    assert [(h.passage.id, h.rank, h.beyond) for h in b] == [
        ("p3", 1, False),
        ("p2", 2, False),
        ("p0", 4, True),
    ]
    gold_a = a[0]
    assert gold_a.gold and gold_a.other_rank == 4 and gold_a.movement == "down"
    assert gold_a.answer_spans == ((8, 14),)
    assert a[1].answer_spans == ()  # spans belong to the gold passage only
    assert b[1].other_rank == 3 and b[1].movement == "down"
    assert [h.movement for h in b[:1]] == ["down"]  # p3 is A's rank 4 > 1
    q2_a = comparison.view("q2").lists[0]
    assert (q2_a[1].passage.id, q2_a[1].other_rank, q2_a[1].movement) == ("p1", 1, "up")
    assert view.gold_ranks == (1, 4)
    assert view.parallel.text == "Who won?"
    assert view.other(0) == 1 and view.other(1) == 0
    judged = comparison.view("q1", judged=lambda q, p: 3 if p == "p0" else None)
    assert judged.lists[0][0].judged == 3 and judged.lists[0][1].judged is None


def test_three_models_have_every_pair() -> None:
    runs = [*_runs(), Run("C", _runs()[0].rankings)]
    c = run(compare(_task(), runs, k=4))
    assert c.pairs == [(0, 1), (0, 2), (1, 2)]
    assert all(r.disagreement == 0 for r in c.rows((0, 2)))
    assert c.view("q1", pair=(0, 2)).lists[2][0].other_rank == 1
    with pytest.raises(ValueError):
        c.rows((1, 0))


# ------------------------------------------------------------------ config


def test_config_round_trip_and_validation() -> None:
    cfg = WorkspaceConfig("/d", models=["a", "b"], query_langs=["th"], subset=3, dtype="bf16")
    assert cfg.models == ("a", "b")
    back = WorkspaceConfig.from_dict(json.loads(json.dumps(cfg.to_dict())) | {"future": 1})
    assert back == cfg
    assert "th→*" in cfg.label and "first 3" in cfg.label
    for bad in ({"kind": "msmarco"}, {"dtype": "fp8"}, {"k": 0}, {"subset": 0}):
        with pytest.raises(UserError):
            WorkspaceConfig("/d", **bad)
    with pytest.raises(UserError, match="no dataset"):
        WorkspaceConfig.from_dict({"models": []})


# ------------------------------------------------------------------ real workspaces


def _beir(folder: Path) -> Path:
    folder.mkdir()
    docs = {
        "d1": "the cat sat on the mat",
        "d2": "the dog ran far",
        "d3": "Paris is in France",
        "d4": "hello world",
        "d5": "what is a cat",
    }
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in docs.items())
    )
    queries = {"q1": "cat on a mat", "q2": "capital of France", "q3": "dog"}
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": k, "text": v}) + "\n" for k, v in queries.items())
    )
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t2\nq3\td2\t1\n"
    )
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_tiny_bert(
        tmp_path_factory.mktemp("m") / "tiny",
        seed=3,
        sentence_transformers={"pooling": "mean", "normalize": True},
    )


def test_beir_workspace_runs_equal_core_search(tmp_path: Path, tiny: Path) -> None:
    folder = _beir(tmp_path / "beir")
    cache = Cache(tmp_path / "cache")
    ws = Workspace(
        WorkspaceConfig(
            str(folder), kind="beir", models=("bm25", str(tiny)), query_langs=("en",), k=3
        ),
        cache=cache,
    )
    assert ws.models == ("bm25", "tiny")
    assert ws.default_direction == ("en", "en")
    progress = []
    c = run(ws.prepare(), progress.append)
    assert any("[1/2] bm25" in p.message for p in progress)
    assert any("[2/2]" in p.message and "tiny" in p.message for p in progress)
    assert progress[-1].message == "compared"
    assert c.k == 3 and c.models == ("bm25", "tiny")
    task = c.task
    for m, spec in enumerate(ws.specs):
        r = make_retriever(spec, cache=Cache(tmp_path / "other"))
        run(r.prepare(task.corpus))
        want = run(r.search(task.queries, 3))
        for q in task.queries:
            assert [(s.passage_id, s.rank) for s in c.runs[m].top(q.id)] == [
                (s.passage_id, s.rank) for s in want.top(q.id)
            ]
            assert [s.score for s in c.runs[m].top(q.id)] == pytest.approx(
                [s.score for s in want.top(q.id)], rel=1e-5
            )
    assert run(ws.prepare()) is c  # a prepared direction comes back at once
    # reopening reuses the cached embeddings (no re-encoding)
    again = Workspace(ws.config, cache=Cache(tmp_path / "cache"))
    run(again.prepare())
    dense = again.retriever(1, "en")
    assert any(e.startswith("hit:") for e in dense.cache.events)
    assert not any(e.startswith("miss:") for e in dense.cache.events)


def test_free_text_search(tmp_path: Path, tiny: Path) -> None:
    ws = Workspace(
        WorkspaceConfig(str(_beir(tmp_path / "b")), kind="beir", models=("bm25", str(tiny)), k=5),
        cache=Cache(tmp_path / "c"),
    )
    with pytest.raises(UserError, match="not prepared"):
        run(ws.search_text("cat", "und", "und"))
    run(ws.prepare())
    view = run(ws.search_text("  the   dog ", "und", "und"))
    assert view.free_text and view.query.text == "the dog" and view.gold == frozenset()
    assert view.lists[0][0].passage.id == "d2"  # BM25: "dog" only in d2
    assert all(not h.gold and h.answer_spans == () for lst in view.lists for h in lst)
    assert view.gold_ranks == (None, None)
    with pytest.raises(UserError, match="type a query"):
        run(ws.search_text("   ", "und", "und"))
    # the query's language is the user's choice (BM25 stems by it), the direction's by default
    assert run(ws.search_text("dogs", "und", "und", lang=" EN ")).query.lang == "en"
    assert run(ws.search_text("dogs", "und", "und", lang="")).query.lang == "und"
    with pytest.raises(UserError, match="invalid query language 'xx yy'"):
        run(ws.search_text("dogs", "und", "und", lang="xx yy"))


def test_opening_errors_are_one_line(tmp_path: Path, tiny: Path) -> None:
    cases = [
        (
            WorkspaceConfig(str(tmp_path / "nope"), models=("bm25", "bm25")),
            DataError,
            "XQuAD folder not found",
        ),
        (
            WorkspaceConfig(str(tmp_path / "nope"), kind="beir", models=("bm25", "bm25")),
            DataError,
            "BEIR folder not found",
        ),
        (WorkspaceConfig(str(tmp_path), models=("bm25",)), UserError, "at least two models"),
        (
            WorkspaceConfig(str(tmp_path), models=("bm25", "nosuchpreset=/x")),
            ModelError,
            "unknown preset",
        ),
        (
            WorkspaceConfig(str(tmp_path), models=("bm25", "bm25")),
            DataError,
            "no xquad.<lang>.json",
        ),
    ]
    for config, kind, message in cases:
        with pytest.raises(kind, match=message) as info:
            Workspace(config)
        assert "\n" not in str(info.value)
    ws = Workspace(
        WorkspaceConfig(str(_beir(tmp_path / "b")), kind="beir", models=("bm25", "bm25"))
    )
    assert ws.models == ("bm25", "bm25#2")
    with pytest.raises(UserError, match="query language 'th'"):
        run(ws.prepare("th", "und"))


@pytest.mark.xquad
def test_xquad_subset_and_directions(xquad_dir: Path, tmp_path: Path, tiny: Path) -> None:
    ws = Workspace(
        WorkspaceConfig(
            str(xquad_dir),
            models=("bm25", str(tiny)),
            subset=2,
            query_langs=("de", "en"),
            doc_langs=("en", "de"),
        ),
        cache=Cache(tmp_path),
    )
    assert ws.default_direction == ("de", "en")
    task = run(ws.task("de", "en"))
    assert [p.id for p in task.corpus][:1] == ["a000-p00"]
    assert {p.id[:4] for p in task.corpus} == {"a000", "a001"}
    assert len(task.corpus) == 10
    assert all(task.qrels.relevant(q.id) <= {p.id for p in task.corpus} for q in task.queries)
    assert len(task.queries) == len(task.qrels.data) > 0
    assert set(task.parallel) == {q.id for q in task.queries}
    c = run(ws.prepare("en", "de"))
    assert c.task.name == "xquad/en-de" and c.k == 10
    rows = c.rows()
    assert all(1 <= r <= 11 for row in rows for r in row.ranks)
    with pytest.raises(UserError, match="document language 'th'"):
        run(ws.prepare("de", "th"))
    with pytest.raises(DataError, match="not in"):
        Workspace(WorkspaceConfig(str(xquad_dir), models=("bm25", "bm25"), query_langs=("xx",)))


def test_stopping_prepare_midway_keeps_the_cache_consistent(tmp_path: Path, tiny: Path) -> None:
    folder = _beir(tmp_path / "b")
    cache_root = tmp_path / "cache"
    ws = Workspace(
        WorkspaceConfig(str(folder), kind="beir", models=(str(tiny), "bm25"), batch_size=1),
        cache=Cache(cache_root),
    )
    job = ws.prepare()
    for p in job:
        if "encoding passages" in p.message and p.done > 0:
            break
    else:  # pragma: no cover - the tiny model always reports
        pytest.fail("no encoding progress seen")
    job.close()  # what cancel does: stop at a yield
    assert ws.comparison("und", "und") is None
    entries = (
        list((cache_root / "embeddings").glob("*")) if (cache_root / "embeddings").exists() else []
    )
    assert all(not e.name.startswith(".") for e in entries)  # no temporary leftovers
    c = run(Workspace(ws.config, cache=Cache(cache_root)).prepare())
    assert len(c.rows()) == 3


def test_restrict_drops_queries_without_gold() -> None:
    task = _task()
    small = restrict(task, task.corpus[:2])
    assert [q.id for q in small.queries] == ["q1", "q2"]
    assert small.qrels.data["q2"] == {"p1": 1}
    assert set(small.parallel) == {"q1", "q2"}


def test_workspace_module_imports_no_qt_nor_torch() -> None:
    import subprocess

    code = (
        "import sys, clirlens.core.workspace.workspace, clirlens.core.workspace.comparison, "
        "clirlens.core.data.download, clirlens.core.models.catalog; "
        "bad = [m for m in ('PySide6', 'torch', 'sqlalchemy') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.xquad
def test_query_languages_alone_still_search_english_passages(xquad_dir: Path, tiny: Path) -> None:
    """``--query-langs th`` without ``--doc-langs``: the documents are every language of the
    folder, English first (not the query languages only)."""
    ws = Workspace(WorkspaceConfig(str(xquad_dir), models=("bm25", str(tiny)), query_langs=("th",)))
    assert ws.default_direction == ("th", "en") and len(ws.doc_langs) == 12
    ws = Workspace(WorkspaceConfig(str(xquad_dir), models=("bm25", str(tiny)), doc_langs=("de",)))
    assert ws.default_direction == ("th", "de")
