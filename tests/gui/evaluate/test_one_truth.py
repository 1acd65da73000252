"""One truth: the same weights give the same numbers on every path.

multilingual-e5-small's weights are opened as ``me5-small=DIR`` on the command line, as a
bare folder bound to the preset in the start dialog, and as a snapshot in a Hugging Face
cache layout (``models--intfloat--multilingual-e5-small/snapshots/…``); the dashboard's
metrics and p-values equal ``clirlens eval``'s exactly on all of them, and a bare folder the
user does not bind runs with other (guessed) conventions, and says so."""

from __future__ import annotations

import dataclasses
import json

import pytest

from clirlens.core.cli.main import main as cli
from clirlens.gui.start.conventions import ConventionsPanel
from clirlens.gui.start.dialog import StartDialog

from ..conftest import SUBSET
from ..helpers import wait_prepared

pytestmark = [pytest.mark.models, pytest.mark.xquad, pytest.mark.slow]
MEASURES = ("nDCG@10", "RR@10", "R@1", "R@5", "R@100")


def _hf_snapshot(tmp_path, model_dir):
    """The model's files in a Hugging Face cache layout (files are links, as the hub's)."""
    snap = tmp_path / "hub" / "models--intfloat--multilingual-e5-small" / "snapshots" / "0c1d2e3"
    snap.mkdir(parents=True)
    for f in model_dir.iterdir():
        (snap / f.name).symlink_to(f)
    return snap


def _dashboard(window, config, qtbot):
    c = window.controller
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    dash = window.views["evaluate"]
    window.show_view("evaluate")
    dash.alignment_check.setChecked(False)
    dash.evaluate()
    qtbot.waitUntil(lambda: dash.report is not None and not c.jobs.busy, timeout=240_000)
    report, dash.report = dash.report, None
    return report


def _figures(report):
    values = {
        (d.label, m, model): ev.aggregate[m]
        for d in report.directions
        if d.source == "gold"
        for model, ev in d.evaluations.items()
        for m in MEASURES
    }
    tests = {
        (c.label, c.measure): (c.p_permutation, c.p_ttest, c.p_permutation_holm, c.ci_low)
        for s, c in report.comparisons
        if s == "gold"
    }
    return values, tests


def _cli_figures(tmp_path, xquad_dir, me5_arg, minilm_dir, fast_dtype):
    out = tmp_path / "cli-out"
    argv = ["eval", "--model", me5_arg, "--model", str(minilm_dir), "--xquad", str(xquad_dir)]
    argv += ["--query-langs", "th,hi", "--doc-langs", "en", "--subset", str(SUBSET)]
    argv += ["--dtype", fast_dtype, "--out", str(out), "-q"]
    assert cli(argv) == 0
    records = json.loads((out / "metrics.json").read_text())
    values = {
        (f"{r['query_lang']}-{r['doc_lang']}", r["measure"], r["model"]): r["value"]
        for r in records
        if r["qrels"] == "gold"
    }
    tests = {
        (c["direction"], c["measure"]): (
            c["p_permutation"],
            c["p_ttest"],
            c["p_permutation_holm"],
            c["ci95_low"],
        )
        for c in json.loads((out / "comparisons.json").read_text())
        if c["qrels"] == "gold"
    }
    return values, tests


def test_every_path_to_the_same_weights_gives_the_same_figures(
    window, config, qtbot, tmp_path, me5_dir, minilm_dir, xquad_dir, fast_dtype, capsys
):
    want = _cli_figures(tmp_path, xquad_dir, f"me5-small={me5_dir}", minilm_dir, fast_dtype)
    assert len(want[0]) == 2 * 2 * len(MEASURES) and len(want[1]) == 2 * len(MEASURES)

    # 1. the preset bound to the folder, as the command line names it
    assert _figures(_dashboard(window, config, qtbot)) == want

    # 2. the bare folder, added and bound to the preset in the start dialog
    dialog = StartDialog(choices=[], offline=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.picker.add_folder(str(me5_dir))
    panel: ConventionsPanel = dialog.conventions
    assert panel.arg == str(me5_dir.resolve()) and panel.note.isVisible()  # a guess, said so
    assert "guesses" in panel.note.text()
    panel.binding.setCurrentIndex(panel.binding.findData("me5-small"))
    panel.binding.activated.emit(panel.binding.currentIndex())
    assert "query: " in panel.text.text() and "preset me5-small" in panel.text.text()
    dialog.picker.hub_edit.setText(str(minilm_dir))  # the second model, typed as a path
    dialog.picker.add_hub_button.click()
    models = tuple(dialog.picker.selected())
    assert models == (f"me5-small={me5_dir.resolve()}", str(minilm_dir))
    bound = dataclasses.replace(config, models=models)
    assert _figures(_dashboard(window, bound, qtbot)) == want

    # 3. a snapshot in a Hugging Face cache layout, opened as a plain folder
    snap = _hf_snapshot(tmp_path, me5_dir)
    cached = dataclasses.replace(config, models=(str(snap), str(minilm_dir)))
    assert _figures(_dashboard(window, cached, qtbot)) == want
    capsys.readouterr()
    assert (
        cli(
            [
                "eval",
                "--model",
                str(snap),
                "--model",
                str(minilm_dir),
                "--xquad",
                str(xquad_dir),
                "--query-langs",
                "th,hi",
                "--doc-langs",
                "en",
                "--subset",
                str(SUBSET),
                "--dtype",
                fast_dtype,
                "-q",
                "--json",
            ]
        )
        == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert {
        (f"{r['query_lang']}-{r['doc_lang']}", r["measure"], r["model"]): r["value"]
        for r in records
    } == want[0]

    # and the bare folder left unbound runs with guessed conventions, and says so once
    bare = dataclasses.replace(config, models=(str(me5_dir), str(minilm_dir)))
    assert _figures(_dashboard(window, bare, qtbot))[0] != want[0]  # no "query: " prefixes
    assert "guesses" in window.message_bar.message
    assert (
        cli(
            [
                "eval",
                "--model",
                str(me5_dir),
                "--xquad",
                str(xquad_dir),
                "--query-langs",
                "th",
                "--doc-langs",
                "en",
                "--subset",
                str(SUBSET),
                "--dtype",
                fast_dtype,
                "-q",
                "--json",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    notes = [line for line in captured.err.splitlines() if "guesses" in line]
    assert len(notes) == 1 and notes[0].startswith("clirlens: note: ")
