"""Picking the models of a workspace: presets, folders added before, models in the Hugging
Face cache, a model folder, hub id or TREC run file added now (choices from
:mod:`clirlens.core.models.catalog`). Models that are not on this machine are marked; when
the hub is offline they cannot be ticked. When fewer than two dense models are local, a
note says how to get one (never a traceback)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.core.models.catalog import (
    ModelChoice,
    hub_choice,
    hub_offline,
    is_model_dir,
    offline_help,
)
from clirlens.core.models.spec import RUN_PREFIX, parse_model_arg

ORIGIN = {
    "preset": "preset",
    "folder": "folder",
    "hf-cache": "HF cache",
    "hub": "hub",
    "custom": "given",
    "run": "run file",
}


class ModelPicker(QWidget):
    selectionChanged = Signal()
    currentChanged = Signal(str)  # the ``--model`` value of the highlighted model ("" none)

    def __init__(
        self, choices: list[ModelChoice], offline: bool | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.offline = hub_offline() if offline is None else offline
        self.added_folders: list[str] = []
        self.list = QListWidget()
        self.list.setObjectName("modelList")
        self.add_folder_button = QPushButton("Add model folder…")
        self.add_folder_button.clicked.connect(self._on_add_folder_clicked)
        self.add_run_button = QPushButton("Add run file…")
        self.add_run_button.setToolTip(
            "a TREC run from another tool (pyserini, a cluster job) as one more system"
        )
        self.add_run_button.clicked.connect(self._on_add_run_clicked)
        self.hub_edit = QLineEdit()
        self.hub_edit.setPlaceholderText("hub id, e.g. intfloat/multilingual-e5-small")
        self.hub_edit.returnPressed.connect(self._on_add_hub_clicked)
        self.add_hub_button = QPushButton("Add")
        self.add_hub_button.clicked.connect(self._on_add_hub_clicked)
        self.help_label = QLabel()
        self.help_label.setObjectName("offlineHelp")
        self.help_label.setWordWrap(True)
        self.help_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = QLabel()
        self.error_label.setObjectName("formError")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)

        row = QHBoxLayout()
        row.addWidget(self.add_folder_button)
        row.addWidget(self.add_run_button)
        row.addWidget(self.hub_edit, 1)
        row.addWidget(self.add_hub_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.help_label)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.currentItemChanged.connect(self._on_current_changed)
        for choice in choices:
            self._add(choice, checked=False)
        self._update_help()

    # -- items -------------------------------------------------------------------------------------
    def choices(self) -> list[ModelChoice]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _find(self, arg: str) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole).arg == arg:
                return item
        return None

    @staticmethod
    def _text(choice: ModelChoice) -> str:
        suffix = "" if choice.local else "  — download"
        head = choice.arg.split(";", 1)[0]
        bound = (
            f" · as {head.split('=', 1)[0]}"
            if "=" in head and choice.origin not in ("custom", "run")
            else ""
        )
        hand = " · conventions set by hand" if ";" in choice.arg else ""
        return f"{choice.label}   [{ORIGIN.get(choice.origin, '')}]{bound}{hand}{suffix}"

    def rebind(self, old: str, new: str) -> None:
        """The model listed as ``old`` runs as ``new`` (bound to a preset, or conventions set
        by hand): the same folder, another ``--model`` value."""
        item = self._find(old)
        if item is None or old == new:
            return
        choice = dataclasses.replace(item.data(Qt.ItemDataRole.UserRole), arg=new)
        item.setData(Qt.ItemDataRole.UserRole, choice)
        item.setText(self._text(choice))
        item.setToolTip(f"{choice.arg}\n{choice.detail}")
        self.selectionChanged.emit()

    def _on_current_changed(self, item: QListWidgetItem | None, _previous: object) -> None:
        self.currentChanged.emit(item.data(Qt.ItemDataRole.UserRole).arg if item else "")

    def _add(self, choice: ModelChoice, checked: bool) -> QListWidgetItem:
        item = self._find(choice.arg)
        if item is None:
            item = QListWidgetItem(self._text(choice))
            item.setData(Qt.ItemDataRole.UserRole, choice)
            item.setToolTip(f"{choice.arg}\n{choice.detail}")
            flags = Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
            if choice.local or not self.offline:
                flags |= Qt.ItemFlag.ItemIsEnabled
            if not choice.local:
                item.setForeground(QBrush(QColor("#6b6b6b")))
            item.setFlags(flags)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.list.addItem(item)
        if checked and item.flags() & Qt.ItemFlag.ItemIsEnabled:
            item.setCheckState(Qt.CheckState.Checked)
        return item

    def selected(self) -> list[str]:
        """The ticked models' ``--model`` values, in list order."""
        return [
            self.list.item(i).data(Qt.ItemDataRole.UserRole).arg
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def set_selected(self, args: list[str]) -> None:
        """Tick ``args`` (adding those not listed, e.g. ``me5-small=/models/e5``)."""
        for i in range(self.list.count()):
            self.list.item(i).setCheckState(Qt.CheckState.Unchecked)
        for arg in args:
            if self._find(arg) is None:
                local = "=" in arg or Path(arg).expanduser().is_dir()
                self._add(
                    ModelChoice(arg, arg, "custom", local, "from the last workspace"), checked=True
                )
            else:
                self._add(self._find(arg).data(Qt.ItemDataRole.UserRole), checked=True)
        self._update_help()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # -- user actions ------------------------------------------------------------------------------
    def _on_add_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Model folder (transformers / sentence-transformers)"
        )
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str) -> bool:
        path = Path(folder).expanduser()
        if not is_model_dir(path):
            self._show_error(
                f"{path} is not a model folder (it needs config.json and "
                "model.safetensors or pytorch_model.bin)"
            )
            return False
        self._show_error("")
        key = str(path.resolve())
        self.added_folders.append(key)
        item = self._add(
            ModelChoice(key, f"{path.name}  ({path.parent})", "folder", True, "local folder"),
            checked=True,
        )
        self.list.setCurrentItem(item)  # its conventions show at once (a guess is flagged)
        self._update_help()
        return True

    def _on_add_run_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "TREC run file (qid Q0 docid rank score tag)",
            "",
            "Runs (*.trec *.txt *.run);;All files (*)",
        )
        if not path:
            return
        name, ok = QInputDialog.getText(
            self, "Run file", "Name of the system:", text=Path(path).stem.split(".")[0]
        )
        if not ok:
            return
        direction, ok = QInputDialog.getText(
            self,
            "Run file",
            "Direction it ranks, e.g. th-en (empty: any; XQuAD's question ids are the same "
            "in every language, so give it there):",
        )
        if ok:
            self.add_run(path, name, direction)

    def add_run(self, path: str, name: str, direction: str = "") -> bool:
        """List (and tick) the run file ``path`` as the system ``name``; ``direction``
        ("th-en") when it ranks one direction only. False, with the reason shown, when the
        values are wrong."""
        where = f"{direction.strip().lower()}:" if direction.strip() else ""
        text = f"{RUN_PREFIX}{name.strip()}={where}{Path(path).expanduser()}"
        try:
            spec = parse_model_arg(text)
        except UserError as exc:
            self._show_error(str(exc))
            return False
        self._show_error("")
        label = f"{spec.name}  ({Path(path).name}{', ' + direction if where else ''})"
        item = self._add(ModelChoice(text, label, "run", True, "TREC run file"), checked=True)
        self.list.setCurrentItem(item)
        self._update_help()
        return True

    def _on_add_hub_clicked(self) -> None:
        text = self.hub_edit.text().strip()
        if not text:
            return
        try:
            parse_model_arg(text)
        except UserError as exc:
            self._show_error(str(exc))
            return
        self._show_error("")
        local = "=" in text or Path(text).expanduser().is_dir()
        choice = (
            ModelChoice(text, text, "custom", True, "given by hand") if local else hub_choice(text)
        )
        item = self._add(choice, checked=True)
        if not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self._show_error(
                f"{text} is not on this machine and the hub is offline (HF_HUB_OFFLINE)"
            )
        self.hub_edit.clear()
        self._update_help()

    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        self.selectionChanged.emit()

    def _update_help(self) -> None:
        text = offline_help(self.choices(), self.offline)
        self.help_label.setText(text or "")
        self.help_label.setVisible(text is not None)
