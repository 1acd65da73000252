"""The query browser (left dock): direction selectors, a filter, the sort order, the
queries with each model's gold rank, disagreement and RBO, and a free-text query box.

Rows, their order and every number come from the controller (core computes them); the
table model only formats. While a judging campaign is open the list can show its queries
only (on by default for a blind one, whose per-model columns and sorts are hidden). The
free-text query's language is chosen beside its box. Keyboard: ↑/↓ or j/k move through the queries, Ctrl+F focuses
the filter, Ctrl+L the free-text box (Enter searches, Esc returns to the dataset query).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    Qt,
)
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.data.xquad import XQUAD_LANGS
from clirlens.core.workspace.comparison import SORT_KEYS
from clirlens.gui.widgets.directions import DirectionPicker
from clirlens.gui.widgets.labels import model_letter

GOOD, MISS = QColor("#1f7a3a"), QColor("#b3261e")


class QueryTableModel(QAbstractTableModel):
    """The controller's rows as a table: query, one gold-rank column per model, Δ, RBO."""

    def __init__(self, controller, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        controller.rowsChanged.connect(self._on_rows_changed)
        controller.workspaceChanged.connect(self._on_rows_changed)

    def _on_rows_changed(self) -> None:
        self.beginResetModel()
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.controller.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3 + len(self.controller.models)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        models = self.controller.models
        n = len(models)
        if role == Qt.ItemDataRole.DisplayRole:
            if section == 0:
                return "Query"
            if section <= n:
                return model_letter(section - 1)
            return "Δ" if section == n + 1 else "RBO"
        if role == Qt.ItemDataRole.ToolTipRole:
            a, b = (model_letter(m) for m in self.controller.pair)
            if 1 <= section <= n:
                m = section - 1
                return (
                    f"{model_letter(m)} = {models[m]}: rank of the gold passage "
                    "(— = not in the top k)"
                )
            if section == n + 1:
                return f"disagreement |rank {a} − rank {b}| of the gold passage"
            if section == n + 2:
                return f"rank-biased overlap of the top-10 lists of {a} and {b}"
        return None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.controller.rows[index.row()]
        col = index.column()
        n = len(row.ranks)
        k = self.controller.comparison.k if self.controller.comparison else 0
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.query.text
            if col <= n:
                r = row.ranks[col - 1]
                return "·" if r is None else ("—" if r > k else str(r))
            if col == n + 1:
                return str(row.disagreement)
            rbo = row.agreement.rbo
            return "n/a" if math.isnan(rbo) else f"{rbo:.2f}"
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            parallel = (
                f"\n{row.parallel}" if row.parallel and row.parallel != row.query.text else ""
            )
            return f"{row.query.text}{parallel}\n({row.query.id})"
        if role == Qt.ItemDataRole.ForegroundRole and 1 <= col <= n:
            r = row.ranks[col - 1]
            if r == 1:
                return GOOD
            if r is not None and r > k:
                return MISS
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return row.query.id
        return None


class QueryBrowser(QWidget):
    def __init__(self, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._direction_lang = ""
        self.setObjectName("queryBrowser")
        self.directions = DirectionPicker()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter queries (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.sort_combo = QComboBox()
        self.sort_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.sort_combo.setMinimumContentsLength(16)  # long names elide: the dock stays narrow
        for key, text in SORT_KEYS.items():
            self.sort_combo.addItem(text, key)
        self.pair_a, self.pair_b = QComboBox(), QComboBox()
        self.pair_row = QWidget()
        pr = QHBoxLayout(self.pair_row)
        pr.setContentsMargins(0, 0, 0, 0)
        pr.addWidget(QLabel("A"))
        pr.addWidget(self.pair_a, 1)
        pr.addWidget(QLabel("B"))
        pr.addWidget(self.pair_b, 1)

        self.model = QueryTableModel(controller, self)
        self.table = QTableView()
        self.table.setObjectName("queryTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)  # Tab moves between panes, not cells
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.installEventFilter(self)

        self.free_text = QLineEdit()
        self.free_text.setObjectName("freeText")
        self.free_text.setPlaceholderText("Your own query… (Ctrl+L, Enter to search)")
        self.free_text.setClearButtonEnabled(True)
        self.free_text.installEventFilter(self)
        self.lang_combo = QComboBox()  # the free-text query's language
        self.lang_combo.setEditable(True)
        self.lang_combo.setMinimumContentsLength(4)
        self.lang_combo.setToolTip(
            "language of your query (BM25 stems by it; the compare view labels it); "
            "follows the direction's query language until you choose another"
        )
        self.campaign_check = QCheckBox("Campaign queries only")
        self.campaign_check.setToolTip("show only the queries of the judging campaign open")
        self.campaign_check.setVisible(False)
        self.campaign_check.toggled.connect(controller.set_campaign_only)
        self.summary = QLabel()
        self.summary.setObjectName("browserSummary")
        self.summary.setWordWrap(True)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Direction", self.directions)
        form.addRow("Sort", self.sort_combo)
        form.addRow("Compare", self.pair_row)
        self._form = form
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(form)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.campaign_check)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        free = QHBoxLayout()
        free.addWidget(self.free_text, 1)
        free.addWidget(self.lang_combo)
        layout.addLayout(free)

        self.directions.directionChosen.connect(lambda d: controller.set_direction(*d))
        self.filter_edit.textChanged.connect(controller.set_filter)
        self.sort_combo.activated.connect(self._on_sort_chosen)
        self.pair_a.activated.connect(self._on_pair_chosen)
        self.pair_b.activated.connect(self._on_pair_chosen)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_row_changed)
        self.free_text.returnPressed.connect(self._on_free_text_entered)
        controller.workspaceChanged.connect(self._on_workspace_changed)
        controller.directionChanged.connect(self._on_direction_changed)
        controller.pendingDirectionChanged.connect(self._on_direction_changed)
        controller.rowsChanged.connect(self._on_rows_changed)
        controller.currentQueryChanged.connect(self._on_current_query_changed)
        controller.blindChanged.connect(self._on_blind_changed)
        self._on_workspace_changed()

    # -- user actions ------------------------------------------------------------------------------
    def _on_sort_chosen(self) -> None:
        self.controller.set_sort(self.sort_combo.currentData())

    def _on_pair_chosen(self) -> None:
        self.controller.set_pair(self.pair_a.currentIndex(), self.pair_b.currentIndex())

    def _on_table_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.controller.select_query(self.model.data(current, Qt.ItemDataRole.UserRole))

    def _on_free_text_entered(self) -> None:
        self.controller.search_text(self.free_text.text(), self.lang_combo.currentText())

    def focus_filter(self) -> None:
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def focus_free_text(self) -> None:
        self.free_text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.free_text.selectAll()

    KEYS = (
        ("J, K", "next / previous query (the query list has the focus)"),
        ("Escape", "leave the free-text query, back to the dataset's query"),
    )

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if obj is self.table and event.key() in (Qt.Key.Key_J, Qt.Key.Key_K):
                self.controller.step_query(1 if event.key() == Qt.Key.Key_J else -1)
                return True
            if obj is self.free_text and event.key() == Qt.Key.Key_Escape:
                self.controller.back_to_dataset_query()
                self.table.setFocus()  # after: focusing a table without a current row picks row 0
                return True
        return super().eventFilter(obj, event)

    # -- slots -------------------------------------------------------------------------------------
    def _on_workspace_changed(self) -> None:
        ws = self.controller.workspace
        self.directions.set_directions(
            ws.query_langs if ws else (), ws.doc_langs if ws else (), self.controller.direction
        )
        models = list(self.controller.models)
        for combo, m in ((self.pair_a, 0), (self.pair_b, 1)):
            combo.clear()
            combo.addItems([f"{model_letter(i)}: {name}" for i, name in enumerate(models)])
            if m < len(models):
                combo.setCurrentIndex(m)
        self._form.setRowVisible(self.pair_row, len(models) > 2 and not self.controller.blind)
        langs = dict.fromkeys([*(ws.query_langs if ws else ()), *(ws.doc_langs if ws else ())])
        self.lang_combo.clear()
        self.lang_combo.addItems([*langs, *(x for x in XQUAD_LANGS if x not in langs)])
        self._on_direction_changed()

    def _on_direction_changed(self, *_: object) -> None:
        c = self.controller
        ws = c.workspace
        if ws is not None and c.direction != self.directions.current:
            self.directions.set_directions(ws.query_langs, ws.doc_langs, c.direction)
        self.directions.show_current(c.direction, c.pending_direction)
        if c.direction is not None and c.direction[0] != self._direction_lang:
            self._direction_lang = c.direction[0]  # the default follows the direction
            self.lang_combo.setCurrentText(c.direction[0])

    def _on_blind_changed(self, blind: bool) -> None:
        """Blind judging on screen: hide the per-model columns (gold ranks, Δ, agreement)
        and the sort that would reveal them; show them again afterwards."""
        for column in range(1, self.model.columnCount()):
            self.table.setColumnHidden(column, blind)
        self.sort_combo.setEnabled(not blind)
        self._form.setRowVisible(self.pair_row, len(self.controller.models) > 2 and not blind)

    def _on_rows_changed(self) -> None:
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, self.model.columnCount()):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        i = self.sort_combo.findData(self.controller.sort_key)
        if i >= 0 and i != self.sort_combo.currentIndex():
            self.sort_combo.setCurrentIndex(i)
        if self.filter_edit.text() != self.controller.filter_text:
            self.filter_edit.setText(self.controller.filter_text)
        c = self.controller.comparison
        if c is None:
            self.summary.setText("")
        else:
            total = len(c.rows(self.controller.pair))
            shown = len(self.controller.rows)
            of = f"{shown} of {total} queries" if shown != total else f"{total} queries"
            if self.controller.campaign_only and self.controller.campaign_queries is not None:
                of += " in the campaign"
            self.summary.setText(f"{of} · {len(c.task.corpus)} passages · k = {c.k}")
        if self.controller.blind:  # columns may have been rebuilt
            self._on_blind_changed(True)
        in_campaign = self.controller.campaign_queries is not None
        self.campaign_check.setVisible(in_campaign)
        if self.campaign_check.isChecked() != self.controller.campaign_only:
            self.campaign_check.blockSignals(True)
            self.campaign_check.setChecked(self.controller.campaign_only)
            self.campaign_check.blockSignals(False)
        self._on_current_query_changed(self.controller.current_query)

    def _on_current_query_changed(self, query_id: str) -> None:
        ids = [r.query.id for r in self.controller.rows]
        selection = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag
        if query_id not in ids:
            if query_id == "":  # a free-text query, or nothing: no row is current
                selection.setCurrentIndex(QModelIndex(), flags.Clear)
            return
        index = self.model.index(ids.index(query_id), 0)
        if not selection.isRowSelected(index.row()) or self.table.currentIndex() != index:
            selection.setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
        self.table.scrollTo(index)
