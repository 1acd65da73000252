"""Exports of the alignment view: the view as PNG or SVG, a model's plan as CSV (labelled:
a header of target tokens, one row per source token) and both models' alignments as JSON
(:meth:`~clirlens.core.ot.alignment.Alignment.to_json` per model)."""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QMenu, QToolButton, QWidget

from clirlens.gui.widgets.labels import model_letter


def export_png(view: QWidget, path: str | Path) -> bool:
    return view.grab().save(str(path), "PNG")


def export_svg(view: QWidget, path: str | Path) -> bool:
    """The whole view (both plots, controls and texts) drawn into an SVG file."""
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(view.width(), view.height()))
    gen.setViewBox(QRect(0, 0, view.width(), view.height()))
    gen.setTitle("clirlens alignment")
    painter = QPainter()
    if not painter.begin(gen):
        return False
    try:
        view.render(painter, QPoint(0, 0))
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


def _ask(view: Any, what: str, suffix: str, write) -> None:
    path, _ = QFileDialog.getSaveFileName(view, f"Export {what}", f"alignment{suffix}")
    if path:
        if not path.endswith(suffix):
            path += suffix
        ok = write(path)
        view.status.setText(f"exported {path}" if ok else f"nothing to export to {path}")


def add_menu(view: Any, button: QToolButton) -> QMenu:
    menu = QMenu(button)
    menu.addAction("View as PNG…", partial(_ask, view, "PNG", ".png", partial(export_png, view)))
    menu.addAction("View as SVG…", partial(_ask, view, "SVG", ".svg", partial(export_svg, view)))
    for k in range(2):

        def csv_for(path: str, k: int = k) -> bool:
            return export_csv(view, path, k)

        menu.addAction(
            f"Plan of model {model_letter(k)} as CSV…",
            partial(_ask, view, "CSV", ".csv", csv_for),
        )
    menu.addAction(
        "Alignments as JSON…", partial(_ask, view, "JSON", ".json", partial(export_json, view))
    )
    button.setMenu(menu)
    return menu
