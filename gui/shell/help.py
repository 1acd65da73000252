"""The Help menu: Keyboard shortcuts (F1) and About.

:class:`ShortcutsDialog` lists every shortcut the window has, read from the live objects:
the menus' actions (grouped by menu), the shortcuts made with
:func:`clirlens.gui.widgets.keys.shortcut` (grouped as they say), and the ``KEYS`` tables of
the widgets that handle keys themselves. A filter box narrows the list.
"""

from __future__ import annotations

import platform

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.version import version
from clirlens.gui.widgets.keys import described
from clirlens.gui.widgets.query_browser import QueryBrowser
from clirlens.gui.widgets.ranked_list import RankedList

ABOUT = """<h3>clirlens {version}</h3>
<p>A workbench for cross-lingual information retrieval research: dense retrievers side by
side on XQuAD and BEIR-style corpora, where they disagree and why (OT token alignments), and
graded relevance judgments.</p>
<p>Everything shown here can be run headless: <code>clirlens --help</code>.</p>
<p>XQuAD: Artetxe et al. 2020, CC BY-SA 4.0.</p>
<p style="color:#666">Python {python} · Qt {qt} · PySide6 {pyside}</p>"""

Row = tuple[str, str, str]  # group, keys, what it does


def _native(seq: QKeySequence) -> str:
    return seq.toString(QKeySequence.SequenceFormat.NativeText)


def shortcut_rows(window: QMainWindow) -> list[Row]:
    """Every shortcut of ``window``: ``(group, keys, description)``, menus first."""
    rows: list[Row] = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        group = menu.title().replace("&", "")
        for action in menu.actions():
            keys = ", ".join(_native(s) for s in action.shortcuts())
            if keys:
                rows.append((group, keys, action.text().replace("&", "").rstrip("…")))
    found: dict[tuple[str, str, str], None] = {}
    for sc in window.findChildren(QShortcut):
        what = described(sc)
        if what is not None:
            found[(what[0], _native(sc.key()), what[1])] = None
    rows.extend(sorted(found, key=lambda r: r[0]))
    for group, table in (("Query list", QueryBrowser.KEYS), ("Ranked lists", RankedList.KEYS)):
        rows.extend((group, keys, text) for keys, text in table)
    return rows


def undescribed_shortcuts(window: QMainWindow) -> list[str]:
    """Keys of shortcuts the dialog cannot describe (made without ``keys.shortcut``)."""
    return [_native(sc.key()) for sc in window.findChildren(QShortcut) if described(sc) is None]


class ShortcutsDialog(QDialog):
    """Help → Keyboard shortcuts: every shortcut, grouped, with a filter."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.setModal(False)
        self.resize(560, 620)
        self.rows = shortcut_rows(window)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by key or action…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._fill)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents
        )
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self._fill("")

    def shown_rows(self) -> list[tuple[str, str]]:
        """``(keys, action)`` of the rows shown (group headers left out)."""
        out = []
        for r in range(self.table.rowCount()):
            if self.table.columnSpan(r, 0) == 1:
                out.append((self.table.item(r, 0).text(), self.table.item(r, 1).text()))
        return out

    def _fill(self, text: str) -> None:
        needle = text.strip().lower()
        self.table.clearSpans()
        self.table.setRowCount(0)
        bold = QFont(self.font())
        bold.setBold(True)
        group = None
        for g, keys, what in self.rows:
            if needle and needle not in f"{g} {keys} {what}".lower():
                continue
            if g != group:
                group = g
                r = self.table.rowCount()
                self.table.insertRow(r)
                head = QTableWidgetItem(g)
                head.setFont(bold)
                self.table.setItem(r, 0, head)
                self.table.setSpan(r, 0, 1, 2)
            r = self.table.rowCount()
            self.table.insertRow(r)
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(what))
        self.table.resizeRowsToContents()


def build_help_menu(window: QMainWindow) -> None:
    """Add the Help menu to ``window`` (the dialogs are kept on ``window.help_dialogs``)."""
    menu = window.menuBar().addMenu("&Help")
    window.help_dialogs = {}
    shortcuts = QAction("&Keyboard shortcuts", window)
    shortcuts.setShortcut(QKeySequence("F1"))
    shortcuts.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    shortcuts.triggered.connect(lambda: show_shortcuts(window))
    menu.addAction(shortcuts)
    about = QAction("&About clirlens", window)
    about.triggered.connect(lambda: show_about(window))
    menu.addAction(about)


def show_shortcuts(window: QMainWindow) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)  # built anew: it lists the shortcuts of the moment
    old = window.help_dialogs.get("shortcuts")
    if old is not None:
        old.close()
    window.help_dialogs["shortcuts"] = dialog
    dialog.show()
    dialog.filter_edit.setFocus()
    return dialog


def about_text() -> str:
    return ABOUT.format(
        version=version(),
        python=platform.python_version(),
        qt=qVersion(),
        pyside=PySide6.__version__,
    )


def show_about(window: QWidget) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.NoIcon,
        "About clirlens",
        about_text(),
        QMessageBox.StandardButton.Close,
        window,
    )
    box.setIconPixmap(window.windowIcon().pixmap(64, 64))
    box.setModal(False)
    box.show()
    window.help_dialogs["about"] = box
    return box
