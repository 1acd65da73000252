"""The "New judging campaign" dialog: a campaign from the current workspace.

The user picks a prepared direction (its runs are pooled), which queries (every query, a
random sample of N, or the N where models A and B disagree most: core's
:mod:`~clirlens.core.workspace.judging_plan`), the models whose top-k are pooled, the depth k, blind
on or off, and the annotator (the operating-system user by default). Accepting makes one
storage call, ``create_campaign``; an error (e.g. a name already taken) is shown in the
dialog, which stays open.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.core.workspace.judging_plan import QUERY_MODES, default_campaign_name, plan_campaign
from clirlens.gui.widgets.labels import model_letter
from clirlens.storage.records import Campaign


class CampaignDialog(QDialog):
    def __init__(self, controller, service, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.service = service
        self.created: Campaign | None = None
        self.setWindowTitle("New judging campaign")
        self.setMinimumWidth(620)
        ws = controller.workspace
        repo = service.repository()
        self._existing = [c.name for c in repo.campaigns()] if repo is not None else []

        self.direction_combo = QComboBox()
        self.directions: list[tuple[str, str]] = []
        if ws is not None:
            for q in ws.query_langs:
                for d in ws.doc_langs:
                    if ws.comparison(q, d) is not None:
                        self.directions.append((q, d))
                        self.direction_combo.addItem(f"{q} → {d}")
        if controller.direction in self.directions:
            self.direction_combo.setCurrentIndex(self.directions.index(controller.direction))
        self.direction_combo.setToolTip(
            "the pool is made from the runs of a prepared direction (select a query "
            "language in the query browser to prepare another); one campaign per direction, "
            "since XQuAD's question ids are the same in every language"
        )
        self.name_edit = QLineEdit()
        self.mode_combo = QComboBox()
        for mode, text in QUERY_MODES.items():
            self.mode_combo.addItem(text, mode)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 100_000)
        self.count_spin.setValue(20)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("seed of the random sample and of the pool's shuffle")
        queries_row = QHBoxLayout()
        queries_row.addWidget(self.mode_combo, 1)
        queries_row.addWidget(QLabel("N"))
        queries_row.addWidget(self.count_spin)

        self.models_list = QListWidget()
        for m, name in enumerate(controller.models):
            item = QListWidgetItem(f"{model_letter(m)}: {name}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.models_list.addItem(item)
        self.models_list.setMaximumHeight(22 * max(2, len(controller.models)) + 8)
        self.depth_spin = QSpinBox()
        self.depth_spin.setRange(1, 100)
        self.depth_spin.setValue(10)
        self.depth_spin.setToolTip("pool the top k passages of every chosen model per query")
        self.blind_check = QCheckBox("hide which models found a passage until it is judged")
        self.blind_check.setChecked(True)
        self.annotator_edit = QLineEdit(service.annotator)

        form = QFormLayout()
        form.addRow("Direction", self.direction_combo)
        form.addRow("Name", self.name_edit)
        form.addRow("Queries", queries_row)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Models pooled", self.models_list)
        form.addRow("Pool depth k", self.depth_spin)
        form.addRow("Blind", self.blind_check)
        form.addRow("Annotator", self.annotator_edit)
        self.db_label = QLabel(service.database_text())
        self.db_label.setObjectName("hint")
        self.db_label.setWordWrap(True)
        self.db_label.setToolTip("File → Switch judgments database… keeps them elsewhere")
        form.addRow("Database", self.db_label)
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("formError")
        self.error_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        self.direction_combo.currentIndexChanged.connect(self._on_direction_changed)
        self.mode_combo.currentIndexChanged.connect(self._on_changed)
        for spin in (self.count_spin, self.depth_spin):
            spin.valueChanged.connect(self._on_changed)
        self.models_list.itemChanged.connect(self._on_changed)
        self._on_direction_changed()
        if not self.directions:
            self.error_label.setText(
                "No direction is prepared yet: open a workspace and wait until the compare "
                "view shows its results."
            )
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)

    # -- state ---------------------------------------------------------------------------------
    @property
    def direction(self) -> tuple[str, str] | None:
        i = self.direction_combo.currentIndex()
        return self.directions[i] if 0 <= i < len(self.directions) else None

    @property
    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def chosen_models(self) -> list[str]:
        out = []
        for i in range(self.models_list.count()):
            item = self.models_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def _on_direction_changed(self) -> None:
        if self.direction is not None:
            self.name_edit.setText(default_campaign_name(*self.direction, self._existing))
        self._on_changed()

    def _on_changed(self, *_: object) -> None:
        all_queries = self.mode == "all"
        self.count_spin.setEnabled(not all_queries)
        self.seed_spin.setEnabled(self.mode == "sample")
        direction = self.direction
        if direction is None:
            self.summary.setText("")
            return
        comparison = self.controller.workspace.comparison(*direction)
        total = len(comparison.task.queries)
        n = total if all_queries else min(total, self.count_spin.value())
        models = len(self.chosen_models())
        a, b = (model_letter(i) for i in self.controller.pair)
        extra = f" (pair {a}/{b})" if self.mode == "disagreement" else ""
        self.summary.setText(
            f"{n} of {total} queries{extra}; each pools up to {models * self.depth_spin.value()} "
            f"passages (the top {self.depth_spin.value()} of {models} model(s), duplicates once)."
        )

    # -- accept --------------------------------------------------------------------------------
    def accept(self) -> None:
        try:
            self.created = self._create()
        except UserError as exc:
            self.error_label.setText(str(exc))
            return
        super().accept()

    def _create(self) -> Campaign:
        direction = self.direction
        ws = self.controller.workspace
        if direction is None or ws is None:
            raise UserError("no prepared direction to pool from")
        name = " ".join(self.name_edit.text().split())
        if not name:
            raise UserError("give the campaign a name")
        repo = self.service.repository()
        if repo is None:
            raise UserError("the judgments database cannot be opened (see the message above)")
        plan = plan_campaign(
            ws.comparison(*direction),
            models=self.chosen_models(),
            mode=self.mode,
            n=None if self.mode == "all" else self.count_spin.value(),
            pair=self.controller.pair,
            seed=self.seed_spin.value(),
            dataset=str(Path(ws.config.dataset).resolve()),
        )
        self.service.set_annotator(self.annotator_edit.text())
        campaign = repo.create_campaign(
            name,
            plan.runs,
            plan.queries,
            plan.passages,
            depth=self.depth_spin.value(),
            blind=self.blind_check.isChecked(),
            seed=self.seed_spin.value(),
            dataset=plan.dataset,
            directions=[plan.direction],
        )
        self.service.campaignsChanged.emit()
        return campaign
