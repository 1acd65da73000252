"""The dashboard's language-preference picture: XQuAD-R scored in a worker for models A and
B, the same numbers as ``clirlens eval --task xquad-r``, heatmaps whose rows sum to 1, and
its exports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clirlens.core.cli.main import main
from clirlens.core.evaluation.lareqa import preference_csv

from ..helpers import wait_prepared

pytestmark = pytest.mark.xquad
LANGS = "en,th,hi"


def test_preference_panel_equals_the_cli_and_exports(window, config, qtbot, tmp_path, capsys):
    c = window.controller
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    window.show_view("evaluate")
    dash = window.views["evaluate"]
    dash.lower.setCurrentWidget(dash.preference)
    panel = dash.preference
    assert "en" in panel.langs_edit.text().split(",")  # LAReQA's languages the folder has
    panel.langs_edit.setText(LANGS)
    panel.k_spin.setValue(5)
    panel.compute()
    qtbot.waitUntil(lambda: len(panel.results) == 2 and not c.jobs.busy, timeout=300_000)
    a, b = panel.results
    assert (a.model, b.model) == tuple(c.models[i] for i in c.pair)
    for r, image in zip(panel.results, panel.images, strict=True):
        shares = np.array([[r.shares[q][x] for x in r.langs] for q in r.langs])
        np.testing.assert_allclose(shares.sum(axis=1), 1.0)
        np.testing.assert_array_equal(image.image, shares.T)
    assert f"mAP@20 {a.mean_map20:.3f}" in panel.plots[0].getPlotItem().titleLabel.text

    out = tmp_path / "cli"
    argv = ["eval", "--task", "xquad-r", "--xquad", config.dataset, "--query-langs", LANGS,
            "--subset", str(config.subset), "--top-k", "5", "--dtype", config.dtype,
            "--out", str(out), "-q"]  # fmt: skip
    for m in config.models:
        argv += ["--model", m]
    assert main(argv) == 0
    record = json.loads((out / "xquad_r.json").read_text())
    for r in panel.results:  # one truth: the dashboard's figures are the command's
        assert record["models"][r.model]["map@20"] == pytest.approx(dict(r.map20), abs=1e-9)
        assert record["models"][r.model]["same_language_gap"] == pytest.approx(dict(r.gap))
    assert (out / "preference.csv").read_text() == preference_csv(panel.results)

    written = panel.export_csv(tmp_path / "pref.csv") + panel.export_png(tmp_path / "pref.png")
    assert written[0].read_text() == preference_csv(panel.results)
    assert [p.name for p in written[1:]] == ["pref-A.png", "pref-B.png"]
    assert all(p.stat().st_size > 1000 for p in written[1:])
    window.grab().save(str(tmp_path / "preference.png"))  # looked at by hand
