"""The dashboard's table: one line per row of a :class:`~clirlens.core.evaluation.report.Report`
(direction × model, then the low-resource averages, shaded), the best value of each
direction and measure in bold, significance marks beside the values (the Holm-corrected
p-value in the tooltip), under each compared direction a line with A − B and its 95%
bootstrap interval, and the OT alignment columns when computed. A model's cell tooltip
says which conventions it ran with and where each came from; the "fine-tuning saw" cell
whether its fine-tuning covered the direction's languages (the source in its tooltip)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from clirlens.core.evaluation.report import SOURCES, Report, Row
from clirlens.core.evaluation.significance import PairedTest

AVERAGE_BACKGROUND = QColor("#eef2f7")
DELTA_BACKGROUND = QColor("#f7f5ee")


class MetricsTable(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsTable")
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verticalHeader().setVisible(False)
        self.model_tooltips: dict[str, str] = {}

    def show_report(self, r: Report | None, model_tooltips: dict[str, str] | None = None) -> None:
        self.clear()
        self.model_tooltips = dict(model_tooltips or {})
        if r is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            return
        rows = _with_deltas(r)
        two = len(r.sources) > 1
        has_ot = any(x.ot_cost is not None for x in r.rows())
        head = ["qrels"] * two + ["direction", "model", "fine-tuning saw", "queries", *r.measures]
        head += ["OT cost", "OT P@1"] * has_ot
        self.setColumnCount(len(head))
        self.setHorizontalHeaderLabels(head)
        self.setRowCount(len(rows))
        best = {}
        for x in rows:
            if isinstance(x, _Delta):
                continue
            for m in r.measures:
                key = (x.source, x.label, m)
                best[key] = max(best.get(key, -1.0), round(x.values[m], 3))
        bold = QFont(self.font())
        bold.setBold(True)
        for i, x in enumerate(rows):
            if isinstance(x, _Delta):
                self._delta_row(i, x, two, has_ot, r)
                continue
            saw = "" if x.average else r.saw(x.model, x.query_lang, x.doc_lang)
            cells = [SOURCES[x.source]] * two + [x.label, x.model, saw, str(x.n)]
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
                if j == int(two) + 1 and x.model in self.model_tooltips:
                    cell.setToolTip(self.model_tooltips[x.model])
                rec = r.training.get(x.model)
                if j == int(two) + 2 and saw and rec is not None:
                    cell.setToolTip(f"{x.model}'s fine-tuning: {rec.source}")
                self.setItem(i, j, cell)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(int(two), QHeaderView.ResizeMode.Stretch)  # direction

    def _delta_row(self, i: int, x: _Delta, two: bool, has_ot: bool, r: Report) -> None:
        a, b = r.pair or ("A", "B")
        cells = [SOURCES[x.source]] * two + [x.label, f"{a} − {b}", "", str(x.tests[0].n)]
        for t in x.tests:
            cells.append(f"{t.difference:+.3f} [{t.ci_low:+.3f}, {t.ci_high:+.3f}]")
        cells += [""] * (2 * has_ot)
        first_metric = len(cells) - len(r.measures) - 2 * has_ot
        for j, text in enumerate(cells):
            cell = QTableWidgetItem(text)
            cell.setBackground(DELTA_BACKGROUND)
            k = j - first_metric
            if 0 <= k < len(x.tests):
                t = x.tests[k]
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                holm = t.p_permutation_holm if t.p_permutation_holm is not None else t.p_permutation
                cell.setToolTip(
                    f"{t.measure}: {a} − {b} = {t.difference:+.4f}, 95% bootstrap interval "
                    f"[{t.ci_low:+.4f}, {t.ci_high:+.4f}] ({t.n_resamples} resamples); "
                    f"permutation p = {t.p_permutation:.3g} (Holm {holm:.3g}), "
                    f"t-test p = {t.p_ttest:.3g}"
                )
            self.setItem(i, j, cell)

    def fitting_height(self) -> int:
        """The height that shows every row without scrolling."""
        rows = sum(self.rowHeight(i) for i in range(self.rowCount()))
        return self.horizontalHeader().height() + rows + 2 * self.frameWidth() + 2


@dataclass(frozen=True)
class _Delta:
    """The A − B line under a direction's model rows."""

    source: str
    label: str
    tests: tuple[PairedTest, ...]


def _with_deltas(r: Report) -> list[Row | _Delta]:
    """The report's rows with an A − B line after the last model row of each compared
    direction (all measures compared)."""
    out: list[Row | _Delta] = []
    rows = r.rows()
    for k, x in enumerate(rows):
        out.append(x)
        last = k + 1 == len(rows) or (rows[k + 1].source, rows[k + 1].label) != (x.source, x.label)
        if x.average or not last or r.pair is None:
            continue
        tests = [r.comparison(x.source, x.label, m) for m in r.measures]
        if all(t is not None for t in tests):
            out.append(_Delta(x.source, x.label, tuple(tests)))  # type: ignore[arg-type]
    return out
