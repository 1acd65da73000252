"""The start dialog (also File → Open workspace…): the dataset, the initial direction, the
models and a few options, turned into a :class:`WorkspaceConfig`.

The dataset is an XQuAD folder, a BEIR folder, or the official XQuAD release downloaded
here (in a worker, with a progress bar and Cancel; every file checked against its pinned
SHA-256 by :func:`clirlens.core.data.download.download_xquad`). Problems are shown inside the
dialog, which stays open until the workspace can be opened.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.data.download import XQUAD_URL, download_xquad
from clirlens.core.data.xquad import load_xquad
from clirlens.core.errors import UserError
from clirlens.core.models.catalog import ModelChoice, model_choices
from clirlens.core.types import Progress
from clirlens.core.workspace.config import DTYPES, WorkspaceConfig
from clirlens.gui.services.jobs import Failure, JobRunner
from clirlens.gui.start.conventions import ConventionsPanel
from clirlens.gui.widgets.model_picker import ModelPicker
from clirlens.storage.db import default_url, describe

Validator = Callable[[WorkspaceConfig], str | None]


def default_db() -> str:
    """Where judgments go when no database is named ($CLIRLENS_DB, else the data folder)."""
    return describe(default_url())


def _path_row(edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row.addWidget(button)
    return box


class StartDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        config: WorkspaceConfig | None = None,
        folders: list[str] | None = None,
        choices: list[ModelChoice] | None = None,
        offline: bool | None = None,
        download_dir: str = "",
        download_url: str = XQUAD_URL,
        validate: Validator | None = None,
        db: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open workspace")
        self.setObjectName("startDialog")
        self.resize(760, 640)
        self.validate = validate
        self.download_url = download_url
        self.downloaded_to = ""  # the folder a download completed into, if any
        self.downloads = JobRunner(self)

        # dataset
        self.xquad_radio = QRadioButton("XQuAD folder")
        self.beir_radio = QRadioButton("BEIR folder")
        self.irds_radio = QRadioButton("Collection by name")
        self.download_radio = QRadioButton("Download XQuAD into")
        self.kind_group = QButtonGroup(self)
        for b in (self.xquad_radio, self.beir_radio, self.irds_radio, self.download_radio):
            self.kind_group.addButton(b)
        self.xquad_edit = QLineEdit()
        self.xquad_edit.setPlaceholderText("folder with xquad.<lang>.json files")
        self.beir_edit = QLineEdit()
        self.beir_edit.setPlaceholderText("folder with corpus.jsonl, queries.jsonl, qrels/")
        self.irds_edit = QLineEdit()
        self.irds_edit.setPlaceholderText(
            "an ir_datasets id, e.g. mr-tydi/th/test or miracl/hi/dev (downloaded on first use)"
        )
        self.irds_edit.textEdited.connect(lambda _: self.irds_radio.setChecked(True))
        self.download_edit = QLineEdit(download_dir or str(Path.home() / "xquad"))
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self._on_download_clicked)
        self.download_bar = QProgressBar()
        self.download_bar.setVisible(False)
        self.download_label = QLabel(
            "the official release: 12 JSON files, 15 MB, from github.com/deepmind/xquad, "
            "checked against pinned SHA-256 sums"
        )
        self.download_label.setObjectName("hint")
        self.download_label.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(self.xquad_radio, 0, 0)
        grid.addWidget(_path_row(self.xquad_edit, self._browse_xquad), 0, 1)
        grid.addWidget(self.beir_radio, 1, 0)
        grid.addWidget(_path_row(self.beir_edit, self._browse_beir), 1, 1)
        grid.addWidget(self.irds_radio, 2, 0)
        grid.addWidget(self.irds_edit, 2, 1)
        grid.addWidget(self.download_radio, 3, 0)
        drow = QHBoxLayout()
        drow.addWidget(_path_row(self.download_edit, self._browse_download), 1)
        drow.addWidget(self.download_button)
        grid.addLayout(drow, 3, 1)
        grid.addWidget(self.download_bar, 4, 1)
        grid.addWidget(self.download_label, 5, 1)
        grid.setColumnStretch(1, 1)
        dataset_box = QGroupBox("Dataset")
        dataset_box.setLayout(grid)

        # direction and options
        self.query_lang = QComboBox()
        self.query_lang.setEditable(True)
        self.doc_lang = QComboBox()
        self.doc_lang.setEditable(True)
        self.subset = QSpinBox()
        self.subset.setRange(0, 1_000_000)
        self.subset.setSpecialValueText("everything")
        self.subset.setMinimumWidth(120)
        self.subset.setToolTip("only the first N articles (XQuAD) or passages (BEIR): quick looks")
        self.dtype = QComboBox()
        self.dtype.addItems(list(DTYPES))
        self.dtype.setToolTip(
            "bf16 encodes several times faster on CPUs with AMX; scores differ slightly from fp32"
        )
        options = QFormLayout()
        direction = QHBoxLayout()
        direction.addWidget(self.query_lang, 1)
        direction.addWidget(QLabel("→"))
        direction.addWidget(self.doc_lang, 1)
        options.addRow("Queries → passages", direction)
        subset_row = QHBoxLayout()
        subset_row.addWidget(self.subset)
        subset_hint = QLabel("first N articles (XQuAD) or passages (BEIR), for quick looks")
        subset_hint.setObjectName("hint")
        subset_row.addWidget(subset_hint, 1)
        options.addRow("Subset", subset_row)
        options.addRow("Precision", self.dtype)

        # judgments database
        self.db_edit = QLineEdit(db or "")
        self.db_edit.setPlaceholderText(f"default: {default_db()}")
        self.db_edit.setToolTip(
            "where judgments are kept: a SQLite file or a SQLAlchemy URL "
            "(e.g. postgresql+psycopg://user@host/db); $CLIRLENS_DB when empty"
        )
        options.addRow("Judgments database", _path_row(self.db_edit, self._browse_db))

        # models
        self.picker = ModelPicker(
            choices if choices is not None else model_choices(folders or []), offline
        )
        self.conventions = ConventionsPanel()
        self.picker.currentChanged.connect(self.conventions.show_arg)
        self.conventions.argChanged.connect(self.picker.rebind)
        models_box = QGroupBox("Models (tick two or more; select one to see its conventions)")
        mb = QVBoxLayout(models_box)
        mb.addWidget(self.picker, 1)
        mb.addWidget(self.conventions)

        self.error_label = QLabel()
        self.error_label.setObjectName("formError")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(dataset_box)
        layout.addLayout(options)
        layout.addWidget(models_box, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

        self.xquad_edit.editingFinished.connect(self._refresh_langs)
        self.xquad_radio.toggled.connect(self._refresh_langs)
        self.beir_radio.toggled.connect(self._refresh_langs)
        self.downloads.progressChanged.connect(self._on_download_progress)
        self.downloads.failed.connect(self._on_download_failed)
        self.downloads.busyChanged.connect(self._on_download_busy)
        self.xquad_radio.setChecked(True)
        if config is not None:
            self.set_config(config)

    # -- config in and out ---------------------------------------------------------------------------
    def set_config(self, config: WorkspaceConfig) -> None:
        radio, edit = {
            "xquad": (self.xquad_radio, self.xquad_edit),
            "beir": (self.beir_radio, self.beir_edit),
            "irds": (self.irds_radio, self.irds_edit),
        }[config.kind]
        radio.setChecked(True)
        edit.setText(config.dataset)
        self._refresh_langs()
        for combo, langs in (
            (self.query_lang, config.query_langs),
            (self.doc_lang, config.doc_langs),
        ):
            if langs:
                combo.setCurrentText(langs[0])
        self.subset.setValue(config.subset or 0)
        self.dtype.setCurrentText(config.dtype)
        if config.db:
            self.db_edit.setText(config.db)
        self.picker.set_selected(list(config.models))

    def config(self) -> WorkspaceConfig:
        """The workspace described by the form (raises :class:`UserError` when incomplete)."""
        if self.beir_radio.isChecked():
            kind, folder = "beir", self.beir_edit.text().strip()
        elif self.irds_radio.isChecked():
            kind, folder = "irds", self.irds_edit.text().strip()
        else:
            kind, folder = "xquad", self.xquad_edit.text().strip()
        if self.download_radio.isChecked():
            raise UserError("download the release first (or choose a folder)")
        if not folder:
            what = {"beir": "BEIR folder", "irds": "collection's name", "xquad": "XQuAD folder"}
            raise UserError(f"choose the {what[kind]}")
        models = self.picker.selected()
        if len(models) < 2:
            raise UserError("tick at least two models to compare")
        q, d = self.query_lang.currentText().strip(), self.doc_lang.currentText().strip()
        if kind == "xquad":
            langs = [self.query_lang.itemText(i) for i in range(self.query_lang.count())]
            query_langs = (q, *(x for x in langs if x != q)) if q else ()
            doc_langs = (d, *(x for x in langs if x != d)) if d else ()
        else:  # (a collection by name declares its languages: "und" leaves them to it)
            keep = kind != "irds"
            query_langs = (q,) if q and (keep or q != "und") else ()
            doc_langs = (d,) if d and (keep or d != "und") else ()
        return WorkspaceConfig(
            dataset=folder if kind == "irds" else str(Path(folder).expanduser()),
            kind=kind,
            models=tuple(models),
            query_langs=query_langs,
            doc_langs=doc_langs,
            subset=self.subset.value() or None,
            dtype=self.dtype.currentText(),
            db=self.db_edit.text().strip() or None,
        )

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def accept(self) -> None:
        try:
            config = self.config()
        except UserError as exc:
            self.show_error(str(exc))
            return
        problem = self.validate(config) if self.validate else None
        if problem:
            self.show_error(problem)
            return
        self.show_error("")
        super().accept()

    def reject(self) -> None:
        self.downloads.cancel()
        super().reject()

    # -- dataset -------------------------------------------------------------------------------------
    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text())
        if folder:
            edit.setText(folder)
            self._refresh_langs()

    def _browse_xquad(self) -> None:
        self.xquad_radio.setChecked(True)
        self._browse(self.xquad_edit, "XQuAD folder")

    def _browse_beir(self) -> None:
        self.beir_radio.setChecked(True)
        self._browse(self.beir_edit, "BEIR folder")

    def _browse_db(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Judgments database (a new or existing SQLite file)",
            self.db_edit.text() or str(default_db()),
            "SQLite (*.sqlite *.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.db_edit.setText(path)

    def _browse_download(self) -> None:
        self.download_radio.setChecked(True)
        self._browse(self.download_edit, "Download XQuAD into")

    def _refresh_langs(self) -> None:
        """Offer the XQuAD folder's languages (low-resource first, English for passages)."""
        if not self.xquad_radio.isChecked():
            for combo, default in ((self.query_lang, "und"), (self.doc_lang, "und")):
                if combo.count() != 1 or combo.itemText(0) != default:
                    combo.clear()
                    combo.addItem(default)
            return
        try:
            langs = list(load_xquad(self.xquad_edit.text().strip()).available)
        except UserError:
            langs = []
        if langs == [self.query_lang.itemText(i) for i in range(self.query_lang.count())]:
            return
        for combo, first in (
            (self.query_lang, ("th", "hi", "el", "tr", "ro")),
            (self.doc_lang, ("en",)),
        ):
            combo.clear()
            combo.addItems(langs)
            pick = next((x for x in first if x in langs), langs[0] if langs else "")
            combo.setCurrentText(pick)

    # -- download ------------------------------------------------------------------------------------
    def _on_download_clicked(self) -> None:
        if self.downloads.busy:
            self.downloads.cancel()
            return
        self.download_radio.setChecked(True)
        dest = self.download_edit.text().strip()
        if not dest:
            self.show_error("choose where to download XQuAD")
            return
        self.show_error("")
        self.downloads.start(
            "Downloading XQuAD",
            download_xquad(dest, base_url=self.download_url),
            self._on_downloaded,
        )

    def _on_download_progress(self, p: Progress) -> None:
        self.download_bar.setRange(0, 1000)
        self.download_bar.setValue(round(1000 * p.fraction))
        self.download_label.setText(p.message)

    def _on_download_busy(self, busy: bool) -> None:
        self.download_bar.setVisible(busy or self.download_bar.value() > 0)
        self.download_button.setText("Cancel" if busy else "Download")

    def _on_download_failed(self, failure: Failure) -> None:
        self.download_label.setText("download failed")
        self.show_error(failure.message)

    def _on_downloaded(self, folder: Path) -> None:
        self.downloaded_to = str(folder)
        self.download_label.setText(f"downloaded and verified: {folder}")
        self.xquad_edit.setText(str(folder))
        self.xquad_radio.setChecked(True)
        self._refresh_langs()

    @property
    def added_folders(self) -> list[str]:
        return list(self.picker.added_folders)
