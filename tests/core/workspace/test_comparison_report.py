"""The shareable comparison page: what it holds equals the compare and align views' figures,
and it loads in a real browser (headless Chromium) without errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from clirlens.core.errors import UserError
from clirlens.core.ot.alignment import align_texts
from clirlens.core.ot.problem import DEFAULT_OT
from clirlens.core.ot.session import model_encoder
from clirlens.core.progress import run
from clirlens.core.retrieval.cache import Cache
from clirlens.core.types import Qrels
from clirlens.core.workspace.comparison_html import render_html
from clirlens.core.workspace.comparison_report import (
    build_report,
    check_page_out,
    choose_queries,
    write_page,
)
from clirlens.core.workspace.config import WorkspaceConfig
from clirlens.core.workspace.judging_plan import select_queries
from clirlens.core.workspace.workspace import Workspace

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]


class Page(HTMLParser):
    """Counts of the page's elements by tag and class."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def count(self, tag: str, cls: str = "") -> int:
        return sum(
            1 for t, a in self.found if t == tag and (not cls or cls in a.get("class", "").split())
        )


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


@pytest.fixture(scope="module")
def workspace(xquad_dir, me5_dir, minilm_dir, fast_dtype, tmp_path_factory):
    config = WorkspaceConfig(
        str(xquad_dir),
        models=(f"me5-small={me5_dir}", str(minilm_dir)),
        query_langs=("th",),
        doc_langs=("en",),
        subset=2,
        dtype=fast_dtype,
    )
    ws = Workspace(config, cache=Cache(tmp_path_factory.mktemp("cache")))
    run(ws.prepare("th", "en"))
    return ws


@pytest.fixture(scope="module")
def report(workspace):
    return run(build_report(workspace, ("th", "en"), top=4, shown=5))


def test_the_page_holds_the_most_disagreeing_queries_with_both_lists_and_plans(workspace, report):
    comparison = workspace.comparison("th", "en")
    want = [q.id for q in select_queries(comparison, "disagreement", 4)]
    assert [rq.view.query.id for rq in report.queries] == want
    assert "disagree most" in report.selection
    page = render_html(report, "now")
    doc = parse(page)
    assert doc.count("section", "query") == 4
    hits = sum(len(lst) for rq in report.queries for lst in rq.view.lists)
    assert doc.count("li", "hit") == hits and hits >= 4 * 2 * 5
    golds = sum(h.gold for rq in report.queries for lst in rq.view.lists for h in lst)
    assert page.count('class="badge gold"') == golds > 0
    assert doc.count("svg", "heatmap") == 4 * 2  # one plan per model and query
    # the lists are the compare view's; the plans are the align view's (query vs parallel)
    first = report.queries[0]
    view = comparison.view(first.view.query.id, shown=5)
    assert [[h.passage.id for h in lst] for lst in first.view.lists] == [
        [h.passage.id for h in lst] for lst in view.lists
    ]
    assert first.target_text == view.parallel.text and "parallel" in first.target_label
    for m in (0, 1):
        enc = model_encoder(workspace, m, "en")
        ref = run(align_texts(view.query.text, view.parallel.text, enc, eps=DEFAULT_OT.eps))
        np.testing.assert_allclose(first.alignments[m].plan, ref.plan, atol=1e-12)
        assert f"{first.alignments[m].total_cost:.4f}" in page
    # self-contained: no external resource
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)


def test_chosen_queries_judgments_and_no_plans(workspace):
    comparison = workspace.comparison("th", "en")
    ids = [comparison.task.queries[3].id, comparison.task.queries[1].id]
    gold = sorted(comparison.task.qrels.relevant(ids[0]))[0]
    top = comparison.view(ids[0], shown=3).lists[1][0].passage.id
    judged = Qrels({ids[0]: {gold: 3, top: 0}})
    rep = run(
        build_report(
            workspace, ("th", "en"), query_ids=ids, shown=3, judgments=judged,
            judgments_source="campaign 'x'", ot=None,
        )
    )  # fmt: skip
    assert [rq.view.query.id for rq in rep.queries] == ids and rep.selection == "2 chosen queries"
    page = render_html(rep)
    assert parse(page).count("svg", "heatmap") == 0 and "campaign &#x27;x&#x27;" in page
    grades = {(h.passage.id, h.judged) for lst in rep.queries[0].view.lists for h in lst}
    assert (top, 0) in grades
    assert 'class="badge judged">judged 0' in page
    with pytest.raises(UserError, match="query 'nope' is not in xquad/th-en"):
        choose_queries(comparison, ["nope"], 5, (0, 1))


def test_page_output_is_checked_before_work_and_written_atomically(tmp_path):
    with pytest.raises(UserError, match="is a folder"):
        check_page_out(tmp_path)
    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UserError, match="exists: choose another name, or add --force"):
        check_page_out(target)
    assert check_page_out(target, force=True) == target
    write_page(target, "<html></html>\n")
    assert target.read_text(encoding="utf-8") == "<html></html>\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary left


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def dump_dom(page: Path, fragment: str = "") -> str:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt install chromium)")
        pytest.skip("Chromium is not installed (apt install chromium)")
    out = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--disable-extensions", "--virtual-time-budget=3000",
            "--dump-dom", page.as_uri() + fragment,
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return out.stdout


def test_the_page_loads_in_a_real_browser_without_errors(report, tmp_path):
    page = write_page(tmp_path / "report.html", render_html(report, "2026-12-01 10:00 UTC"))
    dom = dump_dom(page)
    doc = parse(dom)
    body = next(a for t, a in doc.found if t == "body")
    html_tag = next(a for t, a in doc.found if t == "html")
    assert body.get("data-ready") == "1" and "data-error" not in html_tag  # the script ran
    assert doc.count("section", "query") == len(report.queries) == 4
    assert doc.count("li", "hit") == sum(len(lst) for rq in report.queries for lst in rq.view.lists)
    assert f"{len(report.queries)} of {len(report.queries)} queries" in dom
    # a shared link can open the page filtered
    qid = report.queries[1].view.query.id
    filtered = dump_dom(page, f"#filter={qid}")
    assert "1 of 4 queries" in filtered
    shown = [a for t, a in parse(filtered).found if t == "section" and "hidden" not in a]
    assert [a["data-query"] for a in shown] == [qid]
