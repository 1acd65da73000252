"""Exports of the dashboard: the report folder ``clirlens eval --out`` writes (the same file
names), the table as CSV or LaTeX, the charts as PNG or SVG; and the menu and file dialogs
that ask where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from clirlens.core.errors import UserError
from clirlens.core.evaluation.report import Report
from clirlens.core.evaluation.tables import to_csv, to_latex


def table_csv(report: Report, path: str | Path) -> list[Path]:
    Path(path).write_text(to_csv(report), encoding="utf-8")
    return [Path(path)]


def table_latex(report: Report, path: str | Path) -> list[Path]:
    Path(path).write_text(to_latex(report), encoding="utf-8")
    return [Path(path)]


def report_folder(report: Report, workspace: Any, folder: str | Path) -> list[Path]:
    from clirlens.core.workspace.results import save_report

    config = {"command": "dashboard", **(workspace.config.to_dict() if workspace else {})}
    return save_report(report, folder, config)


def menu(view: Any) -> QMenu:
    """The Export button's menu (``view`` is the dashboard)."""
    m = QMenu(view)
    m.addAction("Report folder (as clirlens eval --out)…", lambda: _folder_dialog(view))
    m.addSeparator()
    for text, suffix, slot in (
        ("Table as CSV…", "csv", view.export_csv),
        ("Table as LaTeX…", "tex", view.export_latex),
        ("Charts as PNG…", "png", view.export_charts),
        ("Charts as SVG…", "svg", view.export_charts),
    ):
        m.addAction(text, lambda s=suffix, f=slot: _file_dialog(view, s, f))
    return m


def _done(view: Any, export: Callable[[], list[Path]], where: str) -> None:
    try:
        written = export()
    except (UserError, OSError) as exc:
        view.controller.report("Exporting", exc)
        return
    view.controller.statusChanged.emit(f"wrote {len(written)} file(s) into {where}")


def _folder_dialog(view: QWidget) -> None:
    folder = QFileDialog.getExistingDirectory(view, "Export the report into")
    if folder:
        _done(view, lambda: view.export_folder(folder), folder)


def _file_dialog(view: QWidget, suffix: str, export: Callable[[str], list[Path]]) -> None:
    path, _ = QFileDialog.getSaveFileName(
        view, "Export", f"clirlens-evaluation.{suffix}", f"*.{suffix}"
    )
    if not path:
        return
    if not path.lower().endswith(f".{suffix}"):
        path += f".{suffix}"
    _done(view, lambda: export(path), path)
