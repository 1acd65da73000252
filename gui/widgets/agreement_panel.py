"""Progress of every annotator of a campaign and, once several annotators judged the same
items, their agreement: weighted Cohen's κ per pair and Krippendorff's ordinal α (computed
by storage, :mod:`clirlens.storage.agreement`)."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from clirlens.storage.agreement import Agreement
from clirlens.storage.records import ProgressSummary


def _num(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f}"


class AgreementPanel(QGroupBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Annotators", parent)
        self.setObjectName("agreementPanel")
        self.progress_label = QLabel()
        self.progress_label.setWordWrap(True)
        self.alpha_label = QLabel()
        self.alpha_label.setWordWrap(True)
        self.alpha_label.setToolTip(
            "Krippendorff's α, ordinal, over the items judged by at least two annotators "
            "(1 = perfect agreement, 0 = chance)"
        )
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["annotators", "κ", "items"])
        self.table.horizontalHeaderItem(1).setToolTip(
            "weighted Cohen's κ (quadratic weights: a 0-vs-3 disagreement costs nine times a "
            "0-vs-1 one) over the items both judged"
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.alpha_label)
        layout.addWidget(self.table, 1)
        layout.addStretch(0)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)

    def show_progress(self, progress: ProgressSummary) -> None:
        lines = [
            f"{html.escape(p.annotator)}: {p.judged}/{p.total}"
            for p in progress.annotators
            if p.judged
        ] or ["nobody yet"]
        self.progress_label.setText("<b>Judged</b><br>" + "<br>".join(lines))

    def show_agreement(self, agreement: Agreement | None) -> None:
        """Agreement of several annotators (None: hide it)."""
        several = agreement is not None and len(agreement.annotators) >= 2
        self.alpha_label.setVisible(several)
        self.table.setVisible(several)
        if not several:
            return
        assert agreement is not None
        self.alpha_label.setText(
            f"Agreement over {agreement.n_items} items judged by two or more: "
            f"Krippendorff α <b>{_num(agreement.alpha)}</b>"
        )
        self.table.setRowCount(len(agreement.pairs))
        for row, pair in enumerate(agreement.pairs):
            for col, text in enumerate((f"{pair.a} – {pair.b}", _num(pair.kappa), str(pair.n))):
                self.table.setItem(row, col, QTableWidgetItem(text))
