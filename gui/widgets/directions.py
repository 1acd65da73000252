"""Choosing directions (query language → passage language): one searchable, grouped list.

:func:`direction_groups` sorts a workspace's directions into groups a researcher thinks in
(low-resource → English first); :class:`DirectionList` shows them with a filter box, either
to pick one (activating a line) or to tick several (a group's box ticks its members);
:class:`DirectionPicker` is the button that shows the current direction and opens the list,
changing nothing until a direction is chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from clirlens.core.data.xquad import LOW_RESOURCE
from clirlens.core.types import Direction

ROLE = Qt.ItemDataRole.UserRole


def direction_groups(
    query_langs: Sequence[str], doc_langs: Sequence[str]
) -> list[tuple[str, list[Direction]]]:
    """The directions in groups, each direction in the first group it belongs to."""
    rules = (
        ("Low-resource → English", lambda q, d: q in LOW_RESOURCE and d == "en"),
        ("Into English", lambda q, d: q != d and d == "en"),
        ("Same language", lambda q, d: q == d),
        ("From English", lambda q, d: q == "en"),
        ("Other cross-language", lambda q, d: True),
    )
    groups: dict[str, list[Direction]] = {name: [] for name, _ in rules}
    for q in query_langs:
        for d in doc_langs:
            name = next(n for n, rule in rules if rule(q, d))
            groups[name].append(Direction(q, d))
    return [(name, dirs) for name, dirs in groups.items() if dirs]


class DirectionList(QWidget):
    """A filter box and the grouped directions; ``checkable`` lists tick several."""

    chosen = Signal(object)  # a Direction, activated (single choice)
    checkedChanged = Signal()

    def __init__(self, checkable: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checkable = checkable
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter, e.g. th or → en")
        self.filter.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setMinimumSize(240, 300)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.itemClicked.connect(self._on_activated if not checkable else lambda *_: None)
        self.tree.itemChanged.connect(self._on_item_changed)
        self._updating = False

    def set_directions(
        self, query_langs: Sequence[str], doc_langs: Sequence[str], marked: Iterable = ()
    ) -> None:
        """List every direction; ``marked`` are ticked (checkable) or shown as current."""
        marked = {Direction(*d) for d in marked}
        self._updating = True
        self.tree.clear()
        for name, dirs in direction_groups(query_langs, doc_langs):
            group = QTreeWidgetItem([f"{name} ({len(dirs)})"])
            group.setFlags(group.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            if self.checkable:
                group.setFlags(
                    group.flags() | Qt.ItemFlag.ItemIsAutoTristate | Qt.ItemFlag.ItemIsUserCheckable
                )
            self.tree.addTopLevelItem(group)
            for d in dirs:
                item = QTreeWidgetItem([d.arrow])
                item.setData(0, ROLE, d)
                if self.checkable:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(
                        0, Qt.CheckState.Checked if d in marked else Qt.CheckState.Unchecked
                    )
                elif d in marked:
                    font = item.font(0)
                    font.setBold(True)
                    item.setFont(0, font)
                    self.tree.setCurrentItem(item)
                group.addChild(item)
            group.setExpanded(True)
        self._updating = False
        self._apply_filter(self.filter.text())

    def _items(self):
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            for i in range(group.childCount()):
                yield group.child(i)

    def directions(self) -> list[Direction]:
        return [item.data(0, ROLE) for item in self._items()]

    def checked(self) -> list[Direction]:
        return [
            item.data(0, ROLE)
            for item in self._items()
            if item.checkState(0) == Qt.CheckState.Checked
        ]

    def set_checked(self, directions: Iterable) -> None:
        wanted = {Direction(*d) for d in directions}
        self._updating = True
        for item in self._items():
            state = (
                Qt.CheckState.Checked if item.data(0, ROLE) in wanted else Qt.CheckState.Unchecked
            )
            item.setCheckState(0, state)
        self._updating = False
        self.checkedChanged.emit()

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower().replace("->", "→")
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            shown = 0
            for i in range(group.childCount()):
                item = group.child(i)
                hit = (
                    not needle or needle in item.text(0).lower() or needle in group.text(0).lower()
                )
                item.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)

    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        d = item.data(0, ROLE)
        if d is not None and not self.checkable:
            self.chosen.emit(d)

    def _on_item_changed(self, *_: object) -> None:
        if not self._updating:
            self.checkedChanged.emit()


class DirectionPicker(QToolButton):
    """The current direction; its menu is a :class:`DirectionList` to choose another."""

    directionChosen = Signal(object)  # Direction

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setToolTip("queries → passages: choose the direction to compare")
        self.list = DirectionList()
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.list)
        menu.addAction(action)
        menu.aboutToShow.connect(lambda: self.list.filter.setFocus())
        self.setMenu(menu)
        self.list.chosen.connect(self._on_chosen)
        self.current: Direction | None = None
        self.set_directions((), ())

    def set_directions(
        self, query_langs: Sequence[str], doc_langs: Sequence[str], current=None
    ) -> None:
        self.current = Direction(*current) if current else None
        self.list.set_directions(query_langs, doc_langs, [current] if current else [])
        self.setEnabled(len(self.list.directions()) > 1)
        self.setText(self.current.arrow if self.current else "—")

    def show_current(self, current, pending=None) -> None:
        """``current`` is shown; ``pending`` (being prepared) is said beside it."""
        self.current = Direction(*current) if current else None
        text = self.current.arrow if self.current else "—"
        if pending is not None and Direction(*pending) != self.current:
            text += f"  (preparing {Direction(*pending).arrow}…)"
        self.setText(text)

    def choose(self, direction) -> None:
        """What choosing ``direction`` from the list does (for keyboard and tests)."""
        self._on_chosen(Direction(*direction))

    def _on_chosen(self, direction: Direction) -> None:
        self.menu().hide()
        if direction != self.current:
            self.directionChosen.emit(direction)


class PrepareDirectionsDialog(QDialog):
    """Tick directions to prepare ahead (encoded, searched and compared in one job)."""

    def __init__(
        self,
        query_langs: Sequence[str],
        doc_langs: Sequence[str],
        prepared: Iterable = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prepare directions")
        self.list = DirectionList(checkable=True)
        self.list.set_directions(query_langs, doc_langs, prepared)
        note = QLabel(
            "Ticked directions are prepared in one job (embeddings go to the cache); "
            "the one on screen stays until you choose another."
        )
        note.setWordWrap(True)
        note.setObjectName("hint")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Prepare")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)

    def chosen(self) -> list[Direction]:
        return self.list.checked()
