"""The dashboard's table: one line per row of a :class:`~clirlens.core.evaluation.report.Report`
(direction × model, then the low-resource averages, shaded), the best value of each
direction and measure in bold, significance marks beside the values (the Holm-corrected
p-value in the tooltip), and the OT alignment columns when computed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from clirlens.core.evaluation.report import SOURCES, Report

AVERAGE_BACKGROUND = QColor("#eef2f7")


class MetricsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsTable")
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)

    def show_report(self, r: Report | None) -> None:
        self.clear()
        if r is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            return
        rows = r.rows()
        two = len(r.sources) > 1
        has_ot = any(x.ot_cost is not None for x in rows)
        head = ["qrels"] * two + ["direction", "model", "queries", *r.measures]
        head += ["OT cost", "OT P@1"] * has_ot
        self.setColumnCount(len(head))
        self.setHorizontalHeaderLabels(head)
        self.setRowCount(len(rows))
        best = {}
        for x in rows:
            for m in r.measures:
                key = (x.source, x.label, m)
                best[key] = max(best.get(key, -1.0), round(x.values[m], 3))
        bold = QFont(self.font())
        bold.setBold(True)
        for i, x in enumerate(rows):
            cells = [SOURCES[x.source]] * two + [x.label, x.model, str(x.n)]
            cells += [f"{x.values[m]:.3f} {x.marks.get(m, '')}".rstrip() for m in r.measures]
            if has_ot:
                cells += ["–" if v is None else f"{v:.3f}" for v in (x.ot_cost, x.ot_accuracy)]
            first_metric = len(cells) - len(r.measures) - 2 * has_ot
            for j, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if j >= first_metric - 1:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                k = j - first_metric
                if 0 <= k < len(r.measures):
                    m = r.measures[k]
                    if m in x.p:
                        cell.setToolTip(f"{m}: Holm-corrected permutation p = {x.p[m]:.3g}")
                    if len(r.models) > 1 and round(x.values[m], 3) == best[(x.source, x.label, m)]:
                        cell.setFont(bold)
                if x.average:
                    cell.setBackground(AVERAGE_BACKGROUND)
                self.setItem(i, j, cell)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(int(two), QHeaderView.ResizeMode.Stretch)  # direction

    def fitting_height(self) -> int:
        """The height that shows every row without scrolling."""
        rows = sum(self.rowHeight(i) for i in range(self.rowCount()))
        return self.horizontalHeader().height() + rows + 2 * self.frameWidth() + 2
