"""The alignment view over a real workspace (Thai queries, English passages, two models)."""

from __future__ import annotations

import csv
import dataclasses
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage

from clirlens.core.ot.alignment import align_texts
from clirlens.core.ot.session import model_encoder
from clirlens.core.progress import run
from clirlens.core.text.labels import labels, short
from clirlens.gui.align import export as align_export

from ..helpers import wait_prepared


@pytest.fixture()
def small_config(config):
    """The first XQuAD article only (5 passages), Thai queries: quick to prepare."""
    return dataclasses.replace(config, subset=1, query_langs=("th",))


def open_align(window, config, qtbot):
    controller = window.controller
    window.open_workspace(config)
    wait_prepared(qtbot, controller)
    window.show_view("align")
    view = window.views["align"]
    assert view.wait_ready(120)
    return controller, view


def test_align_view(window, small_config, qtbot, tmp_path):
    controller, view = open_align(window, small_config, qtbot)
    qv = controller.query_view
    assert view.pair.source == qv.query.text and view.pair.target == qv.parallel.text
    # the gold passage of the first query: a non-square pair (query rows, passage columns)
    gold = sorted(qv.gold)[0]
    controller.select_passage(gold)
    qtbot.waitUntil(lambda: view.alignments and view.pair.target_label == gold, timeout=60_000)
    al = view.alignments[0]
    n, m = al.shape
    assert n < m
    passage = controller.comparison.passage(gold)
    enc = model_encoder(controller.workspace, 0)
    ref = run(align_texts(qv.query.text, passage.text, enc, target_role="passage", eps=0.05))
    np.testing.assert_allclose(al.plan, ref.plan, atol=1e-10)
    heat = view.plots[0].heatmap
    img = heat.image.image
    assert img.shape == (n, m)
    np.testing.assert_array_equal(img, al.plan)
    assert (heat.image.width(), heat.image.height()) == (m, n)  # x = target, y = source
    assert heat.left_axis.tokens == tuple(
        short(t) for t in labels(al.source_text, al.source_tokens, al.source_offsets)
    )
    assert heat.bottom_axis.tokens == tuple(
        short(t) for t in labels(al.target_text, al.target_tokens, al.target_offsets)
    )
    assert labels(al.target_text, al.target_tokens, al.target_offsets)[0] in passage.text
    # model B is shown beside it, with its total cost
    assert len(view.alignments) == 2 and view.alignments[1].source_model != al.source_model
    assert f"{view.alignments[1].total_cost:.4f}" in view.plots[1].title.text()
    # the cost matrix toggle shows C
    view.mode_box.setCurrentIndex(1)
    np.testing.assert_array_equal(heat.image.image, al.cost)
    view.mode_box.setCurrentIndex(0)

    # hover shows both tokens, P and C; a click highlights the row, column and spans
    i, j = 0, int(al.source_best[0])
    view._on_hover(0, i, j)
    assert f"{al.plan[i, j]:.3e}" in view.hover_label.text()
    assert f"{al.cost[i, j]:.4f}" in view.hover_label.text()
    view.select_token(0, i, j)
    assert heat.row_box.isVisible() and heat.col_box.isVisible()
    a, b = al.target_offsets[j]
    assert "#ffd60a" in view.texts.toHtml()
    assert passage.text[a:b] in view.texts.toPlainText()

    # windowing a long passage to its heaviest 64 tokens
    if m > 64:
        view.window_box.setChecked(True)
        assert heat.image.image.shape == (n, 64)
        view.window_box.setChecked(False)

    # exports: the plot alone (not the view's controls), at the DPI asked for, named after
    # what it shows, its title saying model, layer, solver and ε
    assert view.export_png_to(tmp_path / "a.png", 0, dpi=192)
    figure = QImage(str(tmp_path / "a.png"))
    item = align_export.figure_item(view, 0)
    assert figure.width() == round(item.sceneBoundingRect().width() * 2)
    assert figure.height() < view.height() * 2  # no tool bar, no texts below
    assert view.export_svg_to(tmp_path / "a.svg", 1)
    svg = (tmp_path / "a.svg").read_text(encoding="utf-8")
    assert ET.parse(tmp_path / "a.svg").getroot().tag.endswith("svg")
    title = view.plots[0].heatmap.figure_title
    assert view.plots[0].heatmap.title.text == ""  # on screen the view's title line says it
    assert "last layer" in title and "sinkhorn ε=0.05" in title and view.model_names[0] in title
    name = align_export.default_name(view, 0, ".png")
    assert controller.current_query in name and name.endswith("layerlast.png")
    assert "last layer" in svg and "total cost" in svg  # the figure title, in the export
    assert view.export_csv_to(tmp_path / "a.csv", 0)
    with open(tmp_path / "a.csv", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    values = np.array([[float(x) for x in r[1:]] for r in rows[1:]])
    assert values.shape == (n, m)
    np.testing.assert_allclose(values, al.plan, rtol=1e-15)
    assert tuple(rows[0][1:]) == al.target_tokens
    assert view.export_json_to(tmp_path / "a.json")
    data = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert {"source", "target", "models", "alignments"} <= set(data)
    assert np.array(data["alignments"][0]["plan"]).shape == (n, m)
    assert data["alignments"][0]["epsilon"] == al.epsilon

    # back to the query and its English parallel: moving the ε slider recomputes
    controller.select_passage(gold)  # selecting it again clears the selection
    qtbot.waitUntil(lambda: view.alignments[0].target_text == qv.parallel.text, timeout=30_000)
    before = view.alignments[0]
    old = view.plots[0].heatmap.image.image.copy()
    encoded = view.session.encoded
    view.eps_slider.setValue(-2.0)
    qtbot.waitUntil(
        lambda: view.alignments and abs(view.alignments[0].epsilon - 0.01) < 1e-9, timeout=30_000
    )
    assert before.epsilon == 0.05
    assert view.session.encoded == encoded  # token states came from the cache
    assert not np.allclose(view.plots[0].heatmap.image.image, old)
    np.testing.assert_array_equal(view.plots[0].heatmap.image.image, view.alignments[0].plan)
    # EMD and the argmax lines
    view.solver_box.setCurrentIndex(2)
    qtbot.waitUntil(lambda: view.alignments[0].solver == "emd", timeout=30_000)
    view.mode_box.setCurrentIndex(2)
    assert view.plots[0].stack.currentWidget() is view.plots[0].lines
    # a screenshot with Thai labels: rendered, not blank
    view.mode_box.setCurrentIndex(0)
    view.eps_slider.setValue(np.log10(0.05))
    view.solver_box.setCurrentIndex(0)
    qtbot.waitUntil(lambda: view.alignments[0].solver == "sinkhorn", timeout=30_000)
    path = tmp_path / "align.png"
    assert window.grab().save(str(path))
    img = QImage(str(path))
    assert img.width() > 800 and img.height() > 500


def test_layer_limits_stale_marks_and_errors_that_clear(window, small_config, qtbot):
    """The layer control offers the models' layers only; while a new alignment computes the
    old plots are marked; a failure's message goes away once the alignment works again."""
    controller, view = open_align(window, small_config, qtbot)
    layers = min(model_encoder(controller.workspace, k).num_layers for k in controller.pair)
    assert view.layer_box.maximum() == layers and view.layer_box.minimum() == -(layers + 1)
    view.layer_box.setValue(layers + 3)
    assert view.layer_box.value() == layers  # out of range cannot be asked for
    qtbot.waitUntil(lambda: view.alignments and view.alignments[0].layer == layers, timeout=60_000)
    assert f"layer {layers}" in view.plots[0].heatmap.figure_title
    # a failure (here: an encoder that fails), shown, then gone when it works again
    from clirlens.core.errors import ModelError

    real = view.session.compute

    def failing(*args, **kwargs):
        raise ModelError("the encoder failed on purpose")
        yield  # pragma: no cover

    view.session.compute = failing
    view.eps_slider.setValue(-1.5)
    qtbot.waitUntil(lambda: "on purpose" in window.message_bar.message, timeout=30_000)
    assert "failed" in view.plots[0].title.text()  # the old plot is marked, not passed off
    view.session.compute = real
    view.eps_slider.setValue(-1.3)
    qtbot.waitUntil(lambda: not window.message_bar.isVisible(), timeout=60_000)
    assert "failed" not in view.plots[0].title.text()


def test_words_mode_gives_both_models_the_same_thai_words(window, small_config, qtbot):
    controller, view = open_align(window, small_config, qtbot)
    view.words_box.setChecked(True)
    qtbot.waitUntil(
        lambda: len(view.alignments) == 2 and all(a.words for a in view.alignments),
        timeout=60_000,
    )
    a, b = view.alignments
    assert a.source_model != b.source_model
    assert a.source_tokens == b.source_tokens and a.target_tokens == b.target_tokens
    assert a.plan.shape == b.plan.shape
    # a Thai question is several words, not one run between spaces
    thai = controller.query_view.query.text
    assert len(a.source_tokens) > len(thai.split()) + 1
    assert "".join(a.source_tokens) == "".join(thai.split())
    axis = view.plots[1].heatmap.left_axis.tokens
    assert len(axis) == len(a.source_tokens)
