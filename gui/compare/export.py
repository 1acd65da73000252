"""File → Export comparison…: the shareable HTML page of the current direction, as
``clirlens report`` writes it (both build it with
:func:`clirlens.core.workspace.comparison_report.build_report`).

The dialog chooses the queries (the current one, the N where A and B disagree most, or the
ones the query list shows), the passages per list, the OT plans (solver, ε, layer, words)
and a campaign whose judgments the page shows (all annotators' majority grade, as
``report --campaign``); the page is built in a worker with progress and Cancel and written
atomically, and can open in the browser once written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.core.workspace.comparison_html import generated_now, render_html
from clirlens.core.workspace.comparison_report import build_report, check_page_out, write_page
from clirlens.gui.services.context import AppContext
from clirlens.gui.widgets.ot_options import OTControls
from clirlens.storage.judging import campaign_qrels

MAX_LISTED = 500  # queries of the list exported at most


class ExportComparisonDialog(QDialog):
    """What to put on the page and where to write it (see the module notes)."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.controller = c = context.controller
        self._replace = ""  # an existing file the user agreed to replace
        self.setWindowTitle("Export comparison")
        q, d = c.direction
        self.current_radio = QRadioButton(f"This query ({c.current_query or 'none selected'})")
        self.current_radio.setEnabled(bool(c.current_query))
        self.top_radio = QRadioButton("The queries where A and B disagree most:")
        self.top_spin = QSpinBox(minimum=1, maximum=1000, value=20)
        listed = len(c.rows)
        self.listed_radio = QRadioButton(f"The {min(listed, MAX_LISTED)} queries listed")
        self.listed_radio.setEnabled(listed > 0)
        self.listed_radio.setToolTip(f"as filtered in the query list (at most {MAX_LISTED})")
        self.group = QButtonGroup(self)
        for b in (self.current_radio, self.top_radio, self.listed_radio):
            self.group.addButton(b)
        self.top_radio.setChecked(True)
        top_row = QHBoxLayout()
        top_row.addWidget(self.top_radio)
        top_row.addWidget(self.top_spin)
        top_row.addStretch(1)
        self.shown_spin = QSpinBox(minimum=1, maximum=c.comparison.k, value=min(10, c.comparison.k))
        self.ot_check = QCheckBox("OT plans of each model (query against its parallel question)")
        self.ot_check.setChecked(True)
        self.ot = OTControls(self, words=True)
        ot_row = QHBoxLayout()
        for w in (self.ot.solver_box, self.ot.eps, self.ot.layer_box, self.ot.words_box):
            ot_row.addWidget(w)
        self.ot_check.toggled.connect(lambda on: [w.setEnabled(on) for w in self._ot_widgets()])
        self.campaign_combo = QComboBox()
        self.campaign_combo.addItem("none", "")
        repo = context.judgments.repository()
        for campaign in sorted(repo.campaigns(), key=lambda x: x.created_at) if repo else []:
            self.campaign_combo.addItem(campaign.name, campaign.name)
        self.campaign_combo.setToolTip("show this campaign's grades (majority of its annotators)")
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        self.path_edit = QLineEdit(str(Path(folder or Path.home()) / f"comparison-{q}-{d}.html"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.open_check = QCheckBox("Open in the browser when written")
        self.open_check.setChecked(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("formError")
        self.error_label.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Direction", QLabel(f"{q} → {d} · {' vs '.join(c.models[i] for i in c.pair)}"))
        form.addRow("Passages per list", self.shown_spin)
        form.addRow("Judgments", self.campaign_combo)
        form.addRow("File", path_row)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Queries"))
        for w in (self.current_radio, top_row, self.listed_radio):
            (layout.addLayout if isinstance(w, QHBoxLayout) else layout.addWidget)(w)
        layout.addLayout(form)
        layout.addWidget(self.ot_check)
        layout.addLayout(ot_row)
        layout.addWidget(self.open_check)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _ot_widgets(self) -> list[QWidget]:
        return [self.ot.solver_box, self.ot.eps, self.ot.layer_box, self.ot.words_box]

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export comparison", self.path_edit.text(), "HTML pages (*.html)"
        )
        if path:
            self.path_edit.setText(path if path.endswith((".html", ".htm")) else path + ".html")

    def query_ids(self) -> list[str] | None:
        """The chosen queries (None: the most-disagreeing, counted by :attr:`top_spin`)."""
        if self.current_radio.isChecked():
            return [self.controller.current_query]
        if self.listed_radio.isChecked():
            return [r.query.id for r in self.controller.rows[:MAX_LISTED]]
        return None

    def accept(self) -> None:
        try:
            self.start()
        except UserError as exc:
            self.error_label.setText(str(exc))
            return
        super().accept()

    def start(self) -> None:
        """Check the choices, then build and write the page in a worker."""
        c = self.controller
        text = self.path_edit.text().strip()
        if not text:
            raise UserError("choose the file to write (Browse…)")
        path = Path(text).expanduser()
        if path.is_file() and str(path) != self._replace:
            self._replace = str(path)
            raise UserError(f"{path} exists: press Save again to replace it, or choose another")
        path = check_page_out(path, force=True)
        judgments, source = None, ""
        name = self.campaign_combo.currentData()
        if name:
            repo = self.context.judgments.repository()
            found = campaign_qrels(repo, name, method="majority", min_grade=1)
            judgments, source = found.by_direction.get(tuple(c.direction)), found.source
            if judgments is None:
                raise UserError(f"campaign {name!r} has no judgments for {c.direction.label}")
        job = build_report(
            c.workspace,
            c.direction,
            query_ids=self.query_ids(),
            top=self.top_spin.value(),
            shown=self.shown_spin.value(),
            pair=c.pair,
            judgments=judgments,
            judgments_source=source,
            ot=self.ot.params() if self.ot_check.isChecked() else None,
        )
        opens = self.open_check.isChecked()
        c.jobs.start("Exporting the comparison", job, lambda r: _written(c, path, r, opens))


def _written(controller, path: Path, report, open_it: bool) -> None:
    try:
        write_page(path, render_html(report, generated_now()))
    except UserError as exc:
        controller.report("Exporting the comparison", exc)
        return
    controller.statusChanged.emit(f"wrote {path} ({len(report.queries)} queries)")
    if open_it:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def export_comparison(context: AppContext, parent: QWidget | None = None) -> bool:
    """Open the dialog (False, with a message, when no direction is prepared)."""
    c = context.controller
    if c.blind:
        c.report(
            "Exporting the comparison",
            UserError("a blind judging campaign is open: close it before sharing gold and ranks"),
        )
        return False
    if c.workspace is None or c.comparison is None or len(c.models) < 2:
        c.report(
            "Exporting the comparison",
            UserError("open a workspace with two models and wait until it is prepared"),
        )
        return False
    dialog = ExportComparisonDialog(context, parent)
    return dialog.exec() == QDialog.DialogCode.Accepted
