"""The evaluation dashboard over a real workspace (XQuAD subset, real small models): its
numbers are core's evaluation of the same runs (gold and human qrels), its marks core's
paired tests, its OT column core's alignment scores; exports parse back; screenshot."""

from __future__ import annotations

import csv
import dataclasses
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QImage

from clirlens.core.evaluation.metrics import DEFAULT_MEASURES, evaluate
from clirlens.core.evaluation.report import stars
from clirlens.core.evaluation.significance import compare_directions
from clirlens.core.ot.problem import ScoringOptions
from clirlens.core.progress import run as drive
from clirlens.core.workspace.judging_plan import plan_campaign
from clirlens.core.workspace.pipeline import human_qrels
from clirlens.gui.shell import entry
from clirlens.gui.shell.app import SCREENSHOT_SIZE
from clirlens.gui.widgets.charts import EXPORT_WIDTH
from clirlens.storage.judging import human_qrels_by_direction

from ..conftest import SUBSET
from ..helpers import wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]
DIRECTIONS = [("th", "en"), ("hi", "en")]
# OT scores on the first 20 parallel questions only (token states are the slow part)
ALIGNMENT = ScoringOptions(n=20, cost_pairs=20, pick="first")


@pytest.fixture(autouse=True)
def _small_alignment(monkeypatch):
    from clirlens.gui.widgets import ot_options

    monkeypatch.setattr(ot_options, "DEFAULT_SCORING", ALIGNMENT)


def _judge_like_gold(repo, comparison, name: str) -> None:
    """A campaign on th→en whose annotator grades as the dataset's gold does, except that
    every third gold passage is only "related" (1): human qrels then differ from gold."""
    plan = plan_campaign(comparison, mode="all", n=12, dataset="xquad")
    campaign = repo.create_campaign(
        name, plan.runs, plan.queries, plan.passages, depth=3, directions=[plan.direction]
    )
    qrels = comparison.task.qrels
    for k, item in enumerate(repo.items(campaign.name)):
        gold = item.passage_id in qrels.relevant(item.query.id)
        repo.judge(item.id, "alice", (1 if k % 3 == 0 else 3) if gold else 0)


def test_dashboard_figures_are_cores(window, config, tmp_path, qtbot):
    config = dataclasses.replace(config, db=str(tmp_path / "judgments.sqlite"))
    c = window.controller
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    dash = window.views["evaluate"]
    window.show_view("evaluate")
    assert dash.directions() == DIRECTIONS  # few directions: all of them by default
    repo = dash.service.repository()
    _judge_like_gold(repo, c.comparison, "th pilot")
    dash._fill_campaigns()
    dash.qrels_combo.setCurrentIndex(dash.qrels_combo.findData("both"))
    assert dash.campaign_combo.currentText() == "th pilot"
    dash.evaluate()
    qtbot.waitUntil(lambda: dash.report is not None and not c.jobs.busy, timeout=240_000)
    report = dash.report
    ws = c.workspace

    # gold: every direction and model equals core's evaluation of the workspace's runs
    table = {
        (dash.table.item(i, 1).text(), dash.table.item(i, 2).text()): i
        for i in range(dash.table.rowCount())
        if dash.table.item(i, 0).text() == "gold qrels"
    }
    col = {dash.table.horizontalHeaderItem(k).text(): k for k in range(dash.table.columnCount())}
    evals = {}
    for q, d in DIRECTIONS:
        task, runs = drive(ws.runs(q, d))  # the runs the evaluation used (computed once)
        for run in runs:
            ev = evals[(f"{q}-{d}", run.name)] = evaluate(run, task.qrels)
            row = table[(f"{q}-{d}", run.name)]
            for m in DEFAULT_MEASURES:
                assert report.value("gold", f"{q}-{d}", run.name, m) == ev.aggregate[m]
                assert dash.table.item(row, col[m]).text().startswith(f"{ev.aggregate[m]:.3f}")
            saw = dash.table.item(row, col["fine-tuning saw"]).text()
            assert saw == report.saw(run.name, q, d) and saw
            assert dash.charts.bar_heights[("gold", f"{q}-{d}", run.name)] == ev.aggregate["R@1"]
    a, b = c.models
    cmp = compare_directions(
        {f"{q}-{d}": (evals[(f"{q}-{d}", a)], evals[(f"{q}-{d}", b)]) for q, d in DIRECTIONS}
    )
    for comp in cmp:
        winner = a if comp.mean_a > comp.mean_b else b
        row = next(
            r for r in report.rows() if (r.source, r.label, r.model) == ("gold", comp.label, winner)
        )
        assert row.marks[comp.measure] == stars(comp.p_permutation_holm)
        assert row.p[comp.measure] == comp.p_permutation_holm
    lr = [r for r in report.rows() if r.average and r.source == "gold"]
    assert {r.model for r in lr} == {a, b} and all(r.langs == ("th", "hi") for r in lr)
    for r in lr:
        want = (
            evals[("th-en", r.model)].aggregate["R@1"] + evals[("hi-en", r.model)].aggregate["R@1"]
        ) / 2
        assert r.values["R@1"] == pytest.approx(want)

    # human: th→en only, from the campaign's judgments (grade >= 2 relevant)
    judged = human_qrels(human_qrels_by_direction(repo, "th pilot")[("th", "en")])
    assert 0 < len(judged.query_ids) < 12  # the "related" gold passages drop their queries
    human = [d for d in report.directions if d.source == "human"]
    assert [d.label for d in human] == ["th-en"]
    for run in drive(ws.runs("th", "en"))[1]:
        assert dict(human[0].evaluations[run.name].aggregate) == dict(
            evaluate(run, judged).aggregate
        )

    # OT alignment: one score per model and query language, in the table and the scatter
    assert {(s.model, s.lang) for s in report.alignment} == {
        (m, x) for m in c.models for x in ("th", "hi")
    }
    for s in report.alignment:
        assert 0 < s.mean_cost < 2 and s.pairs == 20
        row = next(
            r
            for r in report.rows()
            if (r.source, r.label, r.model) == ("gold", f"{s.lang}-en", s.model)
        )
        assert row.ot_cost == s.mean_cost
        assert dash.charts.points[(s.model, s.lang)] == (s.mean_cost, row.values["R@1"])
    assert ("me5-small", "th") in dash.charts.points

    # exports parse back
    paths = dash.export_csv(tmp_path / "table.csv")
    lines = list(csv.DictReader(paths[0].open(encoding="utf-8")))
    assert len(lines) == len(report.rows())
    for line in lines:
        if line["source"] == "gold" and line["query_lang"]:
            ev = evals[(line["direction"], line["model"])]
            assert float(line["R@1"]) == pytest.approx(ev.aggregate["R@1"], abs=1e-6)
    tex = dash.export_latex(tmp_path / "table.tex")[0].read_text(encoding="utf-8")
    for ev in evals.values():
        assert f"{ev.aggregate['nDCG@10']:.3f}" in tex
    assert "\\begin{tabular}" in tex and "\\emph{human judgments}" in tex
    pngs = dash.export_charts(tmp_path / "charts.png")
    assert [p.name for p in pngs] == ["charts.png", "charts-alignment.png"]
    for p in pngs:
        image = QImage(str(p))
        assert not image.isNull() and image.width() == EXPORT_WIDTH
    svgs = dash.export_charts(tmp_path / "charts.svg")
    for p in svgs:
        root = ET.parse(p).getroot()
        assert root.tag.endswith("svg") and len(list(root.iter())) > 20
    assert "R@1" in svgs[0].read_text(encoding="utf-8")
    dash.service.close()


def test_evaluate_screenshot(xquad_dir, model_args, tmp_path, use_shared_cache, fast_dtype):
    png = tmp_path / "evaluate.png"
    argv = ["--xquad", str(xquad_dir), "--model", model_args[0], "--model", model_args[1]]
    argv += ["--query-langs", "th,hi", "--doc-langs", "en", "--subset", str(SUBSET)]
    argv += ["--dtype", fast_dtype, "--screenshot", str(png), "--view", "evaluate"]
    assert entry.main(argv) == 0
    image = QImage(str(png))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, 900, 7)}
    assert len(colours) > 50
