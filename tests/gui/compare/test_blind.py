"""A blind judging campaign hides, in every view, what would tell the annotator which model
found a passage or which passage is gold; the query list can show the campaign's queries."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from clirlens.core.workspace.judging_plan import plan_campaign

from ..helpers import wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]


def _visible_text(widget) -> str:
    return " ".join(
        w.text() for w in widget.findChildren(QLabel) if w.isVisibleTo(widget) and w.text()
    )


def _create_campaign(window, n: int, blind: bool) -> tuple[str, list[str]]:
    c = window.controller
    ws = c.workspace
    plan = plan_campaign(
        ws.comparison(*c.direction), mode="sample", n=n, dataset=str(Path(ws.config.dataset))
    )
    repo = window.context.judgments.repository()
    campaign = repo.create_campaign(
        "blind round",
        plan.runs,
        plan.queries,
        plan.passages,
        depth=3,
        blind=blind,
        dataset=plan.dataset,
        directions=[plan.direction],
    )
    return campaign.name, [q.id for q in plan.queries]


def test_a_blind_campaign_hides_gold_ranks_models_and_spans_in_every_view(
    window, config, tmp_path, qtbot
):
    c = window.controller
    config = dataclasses.replace(config, db=str(tmp_path / "j.sqlite"), query_langs=("th",))
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    window.show_view("compare")
    compare = window.views["compare"]
    # a query whose gold passage model A shows, answer span highlighted
    row = next(r for r in c.rows if r.ranks[0] is not None and r.ranks[0] <= 3)
    c.select_query(row.query.id)
    gold = next(card for card in compare.lists[0].cards if card.hit.gold)
    assert "GOLD" in _visible_text(gold) and "background" in gold.body.text()
    assert c.models[0] in compare.titles[0].text()

    name, queries = _create_campaign(window, 4, blind=True)
    assert window.context.judgments.open_session(name) is not None
    assert c.blind and window.blind_bar.isVisible() and name in window.blind_bar.text.text()
    # compare: no gold badge, rank, score, other-model rank, model name or answer span
    c.select_query(row.query.id, force=True)
    for pane in compare.lists:
        assert pane.cards
        for card in pane.cards:
            text = _visible_text(card)
            assert "GOLD" not in text and not re.search(r"#\d|\d\.\d{3}", text), text
            assert not card.property("gold") and "background" not in card.body.text()
    for m, title in enumerate(compare.titles):
        assert title.text() == f"List {m + 1}"
    # hiding a card's labels opened no stray top-level windows (the main window stays active)
    stray = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w is not window]
    assert stray == [] and window.isActiveWindow()
    assert not compare.agreement_label.isVisibleTo(compare)
    # the query list: the campaign's queries, in dataset order, per-model columns hidden
    browser = window.browser
    assert browser.campaign_check.isVisibleTo(browser) and browser.campaign_check.isChecked()
    order = [q.id for q in c.comparison.task.queries]
    assert [r.query.id for r in c.rows] == sorted(queries, key=order.index)
    assert all(browser.table.isColumnHidden(k) for k in range(1, browser.model.columnCount()))
    browser.campaign_check.setChecked(False)  # the user's choice: every query
    assert len(c.rows) == len(order)
    browser.campaign_check.setChecked(True)
    assert len(c.rows) == len(queries)
    # align: the plots are List 1 / List 2
    c.select_query(queries[0])
    window.show_view("align")
    align = window.views["align"]
    assert align.wait_ready(120)
    assert align.model_names == ("List 1", "List 2")
    assert all(m not in p.title.text() for m in c.models for p in align.plots)
    # evaluate: per-model figures wait until the campaign is closed
    window.show_view("evaluate")
    evaluate = window.views["evaluate"]
    assert not evaluate.splitter.isVisibleTo(evaluate)
    assert not evaluate.evaluate_button.isEnabled() and "blind" in evaluate.status.text()

    # closed from the banner: everything shows again
    qtbot.mouseClick(window.blind_bar.close_button, Qt.MouseButton.LeftButton)
    assert window.context.judgments.session is None
    assert not c.blind and not window.blind_bar.isVisible()
    assert evaluate.splitter.isVisibleTo(evaluate) and evaluate.evaluate_button.isEnabled()
    assert not browser.campaign_check.isVisibleTo(browser) and len(c.rows) == len(order)
    window.show_view("compare")
    c.select_query(row.query.id, force=True)
    assert any("GOLD" in _visible_text(card) for card in compare.lists[0].cards)
    assert c.models[0] in compare.titles[0].text()


def test_an_open_campaign_that_is_not_blind_hides_nothing(window, config, tmp_path, qtbot):
    c = window.controller
    config = dataclasses.replace(config, db=str(tmp_path / "j.sqlite"), query_langs=("th",))
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    name, queries = _create_campaign(window, 3, blind=False)
    assert window.context.judgments.open_session(name) is not None
    assert not c.blind and not window.blind_bar.isVisible()
    browser = window.browser
    assert browser.campaign_check.isVisibleTo(browser) and not browser.campaign_check.isChecked()
    browser.campaign_check.setChecked(True)
    assert {r.query.id for r in c.rows} == set(queries)
