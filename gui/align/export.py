"""Exports of the alignment view: a model's plot alone as a figure (PNG at a chosen DPI, or
SVG: title with model, layer, solver and ε, token axes, colour bar; named after model, query
and layer), its plan as CSV (labelled: a header of target tokens, one row per source token)
and both models' alignments as JSON
(:meth:`~clirlens.core.ot.alignment.Alignment.to_json` per model)."""

from __future__ import annotations

import csv
import json
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, QRectF, QSize
from PySide6.QtGui import QColor, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QToolButton

from clirlens.gui.widgets.labels import model_letter

SCREEN_DPI = 96  # Qt's logical dots per inch: a figure of N points is N * dpi / 96 pixels


def figure_item(view: Any, model: int = 0) -> Any:
    """The scene item of model ``model``'s plot alone (title, axes, colour bar, marginal
    bars; not the view's controls or hover line)."""
    plot = view.plots[model]
    return plot.lines.plotItem if plot.mode == "lines" else plot.heatmap.ci


@contextmanager
def titled(view: Any, model: int):
    """Model ``model``'s plot with its figure title shown (exports only)."""
    heatmap = view.plots[model].heatmap
    heatmap.show_figure_title(True)
    try:
        yield
    finally:
        heatmap.show_figure_title(False)


def default_name(view: Any, model: int, suffix: str) -> str:
    """``alignment-MODEL-QUERY-layerL.png``: what the figure shows, in its name."""
    c = view.controller
    name = c.models[c.pair[model]] if model < len(c.pair) else "model"
    query = c.current_query or "free-text"
    al = view.alignments[model] if model < len(view.alignments) else None
    layer = "last" if al is None or al.layer == -1 else str(al.layer)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in f"{name}-{query}")
    return f"alignment-{safe}-layer{layer}{suffix}"


def export_png(view: Any, path: str | Path, model: int = 0, dpi: int = 200) -> bool:
    """Model ``model``'s plot as a PNG at ``dpi`` (pyqtgraph's image exporter)."""
    from pyqtgraph.exporters import ImageExporter

    if model >= len(view.alignments):
        return False
    item = figure_item(view, model)
    with titled(view, model):
        exporter = ImageExporter(item)
        width = max(1, round(item.sceneBoundingRect().width() * dpi / SCREEN_DPI))
        exporter.parameters()["width"] = width
        exporter.parameters()["background"] = "w"
        exporter.export(str(path))
    return Path(path).is_file()


def export_svg(view: Any, path: str | Path, model: int = 0) -> bool:
    """Model ``model``'s plot as SVG: the scene's region of the plot drawn into an SVG
    generator (pyqtgraph's own SVG exporter fails on PySide6's path strings)."""
    if model >= len(view.alignments):
        return False
    with titled(view, model):
        return _render_svg(view, path, model)


def _render_svg(view: Any, path: str | Path, model: int) -> bool:
    item = figure_item(view, model)
    source = item.sceneBoundingRect()
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(round(source.width()), round(source.height())))
    gen.setViewBox(QRect(0, 0, round(source.width()), round(source.height())))
    gen.setTitle(default_name(view, model, ""))
    painter = QPainter()
    if not painter.begin(gen):
        return False
    try:
        painter.fillRect(QRectF(0, 0, source.width(), source.height()), QColor("white"))
        item.scene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()
    return Path(path).is_file()


def export_csv(view: Any, path: str | Path, model: int = 0) -> bool:
    """Model ``model``'s plan (0: A, 1: B): n rows of m values, labelled by tokens."""
    if model >= len(view.alignments):
        return False
    al = view.alignments[model]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["source \\ target", *al.target_tokens])
        for tok, row in zip(al.source_tokens, al.plan, strict=True):
            w.writerow([tok, *(repr(float(x)) for x in row)])
    return True


def export_json(view: Any, path: str | Path) -> bool:
    """The pair and each model's full alignment (plan, cost, tokens, offsets, marginals)."""
    if not view.alignments:
        return False
    pair = view.pair
    c = view.controller
    data = {
        "source": {"label": pair.source_label, "text": pair.source, "role": pair.source_role},
        "target": {"label": pair.target_label, "text": pair.target, "role": pair.target_role},
        "models": [c.models[k] for k in c.pair][: len(view.alignments)],
        "alignments": [al.to_json() for al in view.alignments],
    }
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return True


def _ask(view: Any, what: str, suffix: str, write, model: int | None = None) -> None:
    name = default_name(view, model, suffix) if model is not None else f"alignment{suffix}"
    path, _ = QFileDialog.getSaveFileName(view, f"Export {what}", name)
    if not path:
        return
    if not path.endswith(suffix):
        path += suffix
    ok = write(path)
    view.status.setText(f"exported {path}" if ok else f"nothing to export to {path}")


def _png(view: Any, model: int, path: str) -> bool:
    dpi, ok = QInputDialog.getInt(view, "PNG resolution", "dots per inch", 200, 72, 1200)
    return ok and export_png(view, path, model, dpi)


def add_menu(view: Any, button: QToolButton) -> QMenu:
    menu = QMenu(button)
    for k in range(2):
        letter = model_letter(k)
        menu.addAction(
            f"Plot of model {letter} as PNG…",
            partial(_ask, view, "PNG", ".png", partial(_png, view, k), k),
        )
        menu.addAction(
            f"Plot of model {letter} as SVG…",
            partial(_ask, view, "SVG", ".svg", partial(export_svg, view, model=k), k),
        )

        def csv_for(path: str, k: int = k) -> bool:
            return export_csv(view, path, k)

        menu.addAction(
            f"Plan of model {letter} as CSV…", partial(_ask, view, "CSV", ".csv", csv_for, k)
        )
    menu.addAction(
        "Alignments as JSON…", partial(_ask, view, "JSON", ".json", partial(export_json, view))
    )
    button.setMenu(menu)
    return menu
