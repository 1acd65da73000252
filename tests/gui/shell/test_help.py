"""Help → Keyboard shortcuts (F1) lists every shortcut; About shows the version."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from clirlens.core.version import version
from clirlens.gui.shell.help import about_text, shortcut_rows, undescribed_shortcuts


def test_f1_lists_every_shortcut_grouped_and_filterable(window, qtbot):
    assert undescribed_shortcuts(window) == []  # every QShortcut says what it does
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.help_dialogs.get("shortcuts")
    assert dialog is not None and dialog.isVisible()
    shown = dialog.shown_rows()
    keys = {k for k, _ in shown}
    native = QKeySequence.SequenceFormat.NativeText
    # menus (views, undo, open), view shortcuts (judging grades, align) and widget keys
    for seq in ("Ctrl+1", "Ctrl+Z", "Ctrl+O", "Ctrl+Shift+A", "Ctrl+F", "F1"):
        assert QKeySequence(seq).toString(native) in keys, seq
    assert {"0", "1", "2", "3", "N", "S"} <= keys
    assert any("answers the question" in what for _, what in shown)
    assert ("J, K", "next / previous query (the query list has the focus)") in shown
    assert len(shown) == len(shortcut_rows(window))
    # group headers separate the menus and the views
    groups = [
        dialog.table.item(r, 0).text()
        for r in range(dialog.table.rowCount())
        if dialog.table.columnSpan(r, 0) == 2
    ]
    assert {"File", "Edit", "View", "Annotate", "Compare"} <= set(groups)
    dialog.filter_edit.setText("grade")
    assert {k for k, _ in dialog.shown_rows()} == {"0", "1", "2", "3"}
    dialog.filter_edit.setText("no such shortcut")
    assert dialog.shown_rows() == [] and dialog.table.rowCount() == 0


def test_about_shows_the_version(window):
    text = about_text()
    assert f"clirlens {version()}" in text and "Qt " in text
    help_menu = window.menuBar().actions()[-1].menu()
    about = next(a for a in help_menu.actions() if "About" in a.text())
    about.trigger()
    box = window.help_dialogs["about"]
    assert box.isVisible() and version() in box.text()
