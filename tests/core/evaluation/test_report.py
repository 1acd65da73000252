"""The dashboard's table (core.report), human qrels (core.dashboard) and campaign query
selection (core.judging_plan) on small hand-made data: numbers, marks, averages, exports."""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime

import pytest

from clirlens.core.errors import UserError
from clirlens.core.evaluation.metrics import evaluate
from clirlens.core.evaluation.report import AlignmentScore, DirectionEvaluation, Report, stars
from clirlens.core.evaluation.significance import compare_directions
from clirlens.core.evaluation.tables import tex_escape, to_csv, to_latex
from clirlens.core.progress import run
from clirlens.core.types import Passage, Qrels, Query, RetrievalTask, Run
from clirlens.core.workspace.comparison import compare
from clirlens.core.workspace.judging_plan import (
    default_campaign_name,
    plan_campaign,
    select_queries,
)
from clirlens.core.workspace.pipeline import human_qrels

MEASURES = ("RR@10", "R@1")
N_Q, N_P = 40, 20


def _task(lang: str) -> RetrievalTask:
    queries = tuple(Query(f"q{i:02d}", f"question {i} {lang}", lang) for i in range(N_Q))
    corpus = tuple(Passage(f"p{j:02d}", f"passage {j}", "en") for j in range(N_P))
    qrels = Qrels({q.id: {f"p{i % N_P:02d}": 1} for i, q in enumerate(queries)})
    return RetrievalTask(f"toy/{lang}-en", lang, "en", queries, corpus, qrels)


def _run(name: str, task: RetrievalTask, hit_rate: float, seed: int) -> Run:
    """The gold passage first for about ``hit_rate`` of the queries, else third."""
    rng = random.Random(seed)
    scores = {}
    for q in task.queries:
        (gold,) = task.qrels.relevant(q.id)
        others = [p.id for p in task.corpus if p.id != gold]
        rng.shuffle(others)
        order = [gold, *others] if rng.random() < hit_rate else [*others[:2], gold, *others[2:]]
        scores[q.id] = {pid: float(len(order) - r) for r, pid in enumerate(order)}
    return Run.from_scores(name, scores)


@pytest.fixture(scope="module")
def report() -> Report:
    directions = []
    for k, lang in enumerate(("th", "hi", "de")):
        task = _task(lang)
        runs = [_run("good", task, 0.9, k), _run("weak_model", task, 0.3, 10 + k)]
        evals = {r.name: evaluate(r, task.qrels, MEASURES) for r in runs}
        directions.append(DirectionEvaluation("gold", lang, "en", evals))
    pairs = {d.label: (d.evaluations["good"], d.evaluations["weak_model"]) for d in directions}
    comparisons = compare_directions(pairs, MEASURES, n_resamples=2000)
    alignment = (
        AlignmentScore("good", "th", 0.2, 0.9, 40),
        AlignmentScore("good", "hi", 0.3, 0.8, 40),
        AlignmentScore("weak_model", "th", 0.9, 0.1, 40),
    )
    return Report(
        models=("good", "weak_model"),
        measures=MEASURES,
        directions=tuple(directions),
        pair=("good", "weak_model"),
        comparisons=tuple(("gold", c) for c in comparisons),
        alignment=alignment,
    )


def test_rows_carry_cores_numbers_and_marks(report: Report) -> None:
    rows = report.rows()
    plain = [r for r in rows if not r.average]
    assert [(r.label, r.model) for r in plain] == [
        (f"{lang}-en", m) for lang in ("th", "hi", "de") for m in ("good", "weak_model")
    ]
    for r in plain:
        d = next(d for d in report.directions if d.label == r.label)
        assert r.values == dict(d.evaluations[r.model].aggregate)
        assert r.n == N_Q
        for m in MEASURES:
            c = report.comparison("gold", r.label, m)
            assert r.p[m] == c.p_permutation_holm
            better = (c.mean_a > c.mean_b) == (r.model == "good")
            assert r.marks[m] == (stars(c.p_permutation_holm) if better else "")
    assert any(r.marks["R@1"] for r in plain if r.model == "good")
    assert not any(r.marks["R@1"] for r in plain if r.model == "weak_model")
    th_good = next(r for r in plain if r.label == "th-en" and r.model == "good")
    assert (th_good.ot_cost, th_good.ot_accuracy) == (0.2, 0.9)
    de_good = next(r for r in plain if r.label == "de-en" and r.model == "good")
    assert de_good.ot_cost is None


def test_low_resource_average_is_the_mean_of_the_low_resource_directions(report: Report) -> None:
    averages = [r for r in report.rows() if r.average]
    assert [r.model for r in averages] == ["good", "weak_model"]
    for r in averages:
        assert r.langs == ("th", "hi") and r.doc_lang == "en"  # de is not low-resource
        assert r.n == 2 * N_Q and not r.marks
        for m in MEASURES:
            want = (
                report.value("gold", "th-en", r.model, m)
                + report.value("gold", "hi-en", r.model, m)
            ) / 2
            assert r.values[m] == pytest.approx(want)
    assert averages[0].ot_cost == pytest.approx(0.25)
    assert averages[1].ot_cost == pytest.approx(0.9)  # only th has a score


def test_csv_parses_back_to_the_same_numbers(report: Report) -> None:
    rows = report.rows()
    parsed = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert len(parsed) == len(rows)
    for line, r in zip(parsed, rows, strict=True):
        assert (line["direction"], line["model"], int(line["queries"])) == (r.label, r.model, r.n)
        for m in MEASURES:
            assert float(line[m]) == pytest.approx(r.values[m], abs=1e-6)
            assert line[f"{m} sig"] == r.marks.get(m, "")
            if m in r.p:
                assert float(line[f"{m} p_holm"]) == pytest.approx(r.p[m], rel=1e-5)
        assert (line["ot_mean_cost"] == "") == (r.ot_cost is None)


def test_latex_has_every_number_bold_best_and_marks(report: Report) -> None:
    tex = to_latex(report)
    assert tex.startswith("\\begin{table}") and "\\toprule" in tex and "\\bottomrule" in tex
    assert "weak\\_model" in tex and "th$\\rightarrow$en" in tex and "LR avg" in tex
    for r in report.rows():
        for m in MEASURES:
            assert f"{r.values[m]:.3f}" in tex
    good_th = report.value("gold", "th-en", "good", "R@1")
    assert f"\\textbf{{{good_th:.3f}}}" in tex
    assert "$^{**}$" in tex or "$^{*}$" in tex
    assert tex_escape("a_b & 50% #1") == "a\\_b \\& 50\\% \\#1"


def test_two_sources_get_their_own_blocks(report: Report) -> None:
    extra = DirectionEvaluation("human", "th", "en", report.directions[0].evaluations)
    both = Report(report.models, report.measures, (*report.directions, extra))
    rows = both.rows()
    assert [r.source for r in rows][-3:] == ["human"] * 3  # 2 models + 1 LR average (th)
    tex = to_latex(both)
    assert "\\emph{gold qrels}" in tex and "\\emph{human judgments}" in tex


def test_human_qrels_threshold_and_dropped_queries() -> None:
    judged = Qrels({"q1": {"a": 3, "b": 1, "c": 0}, "q2": {"a": 1}, "q3": {"x": 2}})
    q = human_qrels(judged, min_grade=2)
    assert dict(q.data) == {"q1": {"a": 3, "b": 0, "c": 0}, "q3": {"x": 2}}
    assert human_qrels(judged, min_grade=1).query_ids == ("q1", "q2", "q3")


# ---------------------------------------------------------------------------- campaign plans


@pytest.fixture(scope="module")
def comparison():
    task = _task("th")
    runs = [_run("A", task, 0.8, 1), _run("B", task, 0.2, 2)]
    return run(compare(task, runs, k=10))


def test_select_queries_modes(comparison) -> None:
    queries = comparison.task.queries
    assert select_queries(comparison, "all") == queries
    assert select_queries(comparison, "all", 5) == queries[:5]
    sample = select_queries(comparison, "sample", 7, seed=3)
    assert len(sample) == 7 and sample == select_queries(comparison, "sample", 7, seed=3)
    assert sample != select_queries(comparison, "sample", 7, seed=4)
    index = {q.id: i for i, q in enumerate(queries)}
    assert [index[q.id] for q in sample] == sorted(index[q.id] for q in sample)
    worst = select_queries(comparison, "disagreement", 6)
    rows = comparison.browse("", "disagreement", (0, 1))
    assert [q.id for q in worst] == [r.query.id for r in rows[:6]]
    gaps = [comparison.row(q.id).disagreement for q in worst]
    assert gaps == sorted(gaps, reverse=True) and gaps[0] > 0
    with pytest.raises(UserError, match="needs a number"):
        select_queries(comparison, "sample")
    with pytest.raises(UserError, match="unknown query selection"):
        select_queries(comparison, "everything")


def test_plan_campaign(comparison) -> None:
    plan = plan_campaign(comparison, models=["B"], mode="disagreement", n=3, dataset="/x")
    assert [r.name for r in plan.runs] == ["B"] and len(plan.queries) == 3
    assert plan.direction == "th-en" and set(plan.passages) == {
        p.id for p in comparison.task.corpus
    }
    with pytest.raises(UserError, match="has no run"):
        plan_campaign(comparison, models=["C"])
    when = datetime(2025, 11, 24)
    assert default_campaign_name("th", "en", (), when) == "th-en 2025-11-24"
    taken = ["th-en 2025-11-24", "th-en 2025-11-24 (2)"]
    assert default_campaign_name("th", "en", taken, when) == "th-en 2025-11-24 (3)"
