"""File → Export comparison… writes the page ``clirlens report`` writes for the same
choices (one truth: byte for byte, apart from the time it was made), judgments included."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from clirlens.core.cli.main import main
from clirlens.core.workspace.judging_plan import plan_campaign
from clirlens.gui.compare.export import ExportComparisonDialog, export_comparison
from clirlens.storage.cli import add_parsers as storage_commands

from ..conftest import SUBSET
from ..helpers import wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]
STAMP = re.compile(r'<span id="generated">[^<]*</span>')


def test_export_equals_clirlens_report(window, config, model_args, fast_dtype, tmp_path, qtbot):
    c = window.controller
    db = tmp_path / "j.sqlite"
    config = dataclasses.replace(config, db=str(db))
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    assert c.direction == ("th", "en")
    # a campaign with a few grades, shown on both pages
    plan = plan_campaign(c.comparison, mode="disagreement", n=2, dataset=config.dataset)
    repo = window.context.judgments.repository()
    campaign = repo.create_campaign(
        "round 1", plan.runs, plan.queries, plan.passages, depth=2, blind=False,
        dataset=plan.dataset, directions=[plan.direction],
    )  # fmt: skip
    items = repo.items(campaign.name, "alice")
    for item, grade in zip(items[:3], (3, 0, 2), strict=False):
        repo.judge(item.id, "alice", grade)

    dialog = ExportComparisonDialog(window.context, window)
    dialog.top_radio.setChecked(True)
    dialog.top_spin.setValue(3)
    dialog.shown_spin.setValue(4)
    dialog.campaign_combo.setCurrentIndex(dialog.campaign_combo.findData("round 1"))
    dialog.open_check.setChecked(False)
    gui_page = tmp_path / "gui.html"
    dialog.path_edit.setText(str(gui_page))
    dialog.accept()
    assert dialog.error_label.text() == ""
    qtbot.waitUntil(lambda: gui_page.exists() and not c.jobs.busy, timeout=180_000)
    assert "wrote" in window.statusBar().currentMessage()

    cli_page = tmp_path / "cli.html"
    argv = ["report", "--xquad", config.dataset, "--model", model_args[0]]
    argv += ["--model", model_args[1], "--query-langs", "th", "--subset", str(SUBSET)]
    argv += ["--dtype", fast_dtype, "--top", "3", "--shown", "4", "--campaign", "round 1"]
    argv += ["--db", str(db), "--out", str(cli_page), "-q"]
    assert main(argv, registrars=[storage_commands]) == 0
    a = STAMP.sub("", gui_page.read_text(encoding="utf-8"))
    b = STAMP.sub("", cli_page.read_text(encoding="utf-8"))
    assert a == b
    assert a.count('class="query"') == 3 and "judged 3" in a and "round 1" in a

    # an existing file is replaced only after a second Save
    again = ExportComparisonDialog(window.context, window)
    again.path_edit.setText(str(gui_page))
    again.open_check.setChecked(False)
    again.accept()
    assert "exists: press Save again" in again.error_label.text()
    before = gui_page.stat().st_mtime_ns
    again.accept()
    qtbot.waitUntil(
        lambda: gui_page.stat().st_mtime_ns != before and not c.jobs.busy, timeout=180_000
    )


def test_export_is_refused_during_a_blind_campaign(window, config, tmp_path, qtbot):
    c = window.controller
    assert window.open_workspace(dataclasses.replace(config, db=str(tmp_path / "j.sqlite")))
    wait_prepared(qtbot, c)
    c.set_campaign(frozenset({c.rows[0].query.id}), blind=True)
    assert not export_comparison(window.context, window)
    assert "blind judging campaign is open" in window.message_bar.message
    c.set_campaign(None, blind=False)


def test_page_path_errors_stay_in_the_dialog(window, config, tmp_path, qtbot):
    c = window.controller
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    dialog = ExportComparisonDialog(window.context, window)
    dialog.path_edit.setText(str(tmp_path))  # a folder
    dialog.accept()
    assert "is a folder" in dialog.error_label.text() and not c.jobs.busy
    assert not Path(tmp_path / "comparison.html").exists()
