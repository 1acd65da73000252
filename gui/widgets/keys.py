"""Keyboard shortcuts that say what they do, so Help → Keyboard shortcuts can list them all.

:func:`shortcut` makes a :class:`QShortcut` carrying its description and group (the
dialog reads them back with :func:`described`); keys handled in a widget's own
``keyPressEvent`` or event filter are declared beside the handler as ``KEYS`` tables of
``(keys, description)``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

HELP, GROUP = "clirlensHelp", "clirlensGroup"


def shortcut(
    parent: QWidget,
    keys: str | QKeySequence,
    slot: Callable[[], object],
    help: str,
    group: str,
    context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut,
) -> QShortcut:
    """A shortcut on ``parent`` running ``slot``, described as ``help`` under ``group``."""
    sc = QShortcut(QKeySequence(keys), parent)
    sc.setContext(context)
    sc.activated.connect(slot)
    sc.setProperty(HELP, help)
    sc.setProperty(GROUP, group)
    return sc


def described(sc: QObject) -> tuple[str, str] | None:
    """``(group, help)`` of a shortcut made by :func:`shortcut`, None for others."""
    help, group = sc.property(HELP), sc.property(GROUP)
    return (str(group), str(help)) if help else None
