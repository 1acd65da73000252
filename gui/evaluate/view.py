"""The evaluation dashboard (view "evaluate").

Choose directions, the qrels (the dataset's gold, a campaign's judgments, or both) and
whether to score OT alignment; "Evaluate" queues the one evaluation pipeline,
:func:`clirlens.core.workspace.pipeline.evaluate_workspace` (the same as ``clirlens eval``),
on the window's :class:`~clirlens.gui.services.jobs.JobRunner`: it runs after the job running
then, if any, so two jobs never prepare the workspace at once. The result, a
:class:`~clirlens.core.evaluation.report.Report`, fills the table (significance marks, A − B
with its 95% bootstrap interval, the low-resource averages) and the charts; it exports as
the same report folder ``clirlens eval --out`` writes, the table as CSV and LaTeX, the
charts as PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from clirlens.core.errors import UserError
from clirlens.core.evaluation.report import SOURCES, Report
from clirlens.core.workspace.pipeline import EvalPlan, evaluate_workspace
from clirlens.gui.evaluate import export
from clirlens.gui.evaluate.preference import PreferencePanel
from clirlens.gui.services.context import AppContext
from clirlens.gui.widgets.charts import ACCURACY, DashboardCharts
from clirlens.gui.widgets.directions import DirectionList
from clirlens.gui.widgets.labels import model_letter
from clirlens.gui.widgets.metrics_table import MetricsTable
from clirlens.gui.widgets.ot_options import OtOptionsButton
from clirlens.storage.judging import campaign_qrels

QRELS_CHOICES = {"gold": "gold qrels", "human": "human judgments", "both": "gold and human"}


class DashboardView(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardView")
        self.controller = controller = context.controller
        self.service = context.judgments
        self.report: Report | None = None
        self._running = ""  # title of the evaluation job while it waits or runs
        self._custom_directions = False

        self.directions_button = QToolButton()
        self.directions_button.setText("Directions")
        self.directions_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.directions_menu = QMenu(self)
        self.direction_list = DirectionList(checkable=True)  # searchable, grouped
        holder = QWidgetAction(self.directions_menu)
        holder.setDefaultWidget(self.direction_list)
        self.directions_menu.addAction(holder)
        self.directions_button.setMenu(self.directions_menu)
        self.direction_list.checkedChanged.connect(self._on_direction_toggled)
        self.qrels_combo = QComboBox()
        for key, text in QRELS_CHOICES.items():
            self.qrels_combo.addItem(text, key)
        self.campaign_combo = QComboBox()
        self.campaign_combo.setMinimumContentsLength(14)
        self.campaign_combo.setToolTip(
            "judgments of this campaign; grade 2 (relevant) or more counts as relevant"
        )
        self.aggregate_combo = QComboBox()
        self.aggregate_combo.addItem("majority grade", "majority")
        self.aggregate_combo.addItem("mean grade ≥ 2", "mean")
        self.aggregate_combo.setToolTip("how the grades of several annotators are combined")
        self.alignment_check = QCheckBox("OT alignment")
        self.alignment_check.setChecked(True)
        self.alignment_check.setToolTip(
            "each model's mean OT cost between the query language's questions and their "
            "English parallels (token states of the last layer, Sinkhorn)"
        )
        self.ot_options = OtOptionsButton()
        self.alignment_check.toggled.connect(self.ot_options.setEnabled)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = export.menu(self)
        self.export_button.setMenu(menu)
        self.measure_combo = QComboBox()
        self.measure_combo.currentTextChanged.connect(self._draw_charts)
        controls = QHBoxLayout()  # what to evaluate against
        controls.addWidget(self.directions_button)
        controls.addWidget(QLabel("Qrels"))
        controls.addWidget(self.qrels_combo)
        controls.addWidget(QLabel("Campaign"))
        controls.addWidget(self.campaign_combo)
        controls.addWidget(self.aggregate_combo)
        controls.addWidget(self.evaluate_button)
        controls.addStretch(1)
        extras = QHBoxLayout()  # what else to compute, and what to show and export
        extras.addWidget(self.alignment_check)
        extras.addWidget(self.ot_options)
        extras.addStretch(1)
        extras.addWidget(QLabel("Chart"))
        extras.addWidget(self.measure_combo)
        extras.addWidget(self.export_button)

        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        lines = self.status.fontMetrics().lineSpacing()
        self.status.setFixedHeight(2 * lines + 4)  # two lines, so the panes below stay put
        self.table = MetricsTable()
        self.charts = DashboardCharts()
        self.preference = PreferencePanel(controller)
        self.lower = QTabWidget()
        self.lower.addTab(self.charts, "Charts")
        self.lower.addTab(self.preference, "Language preference (XQuAD-R)")
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.lower)
        splitter.setSizes([330, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(extras)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

        self.qrels_combo.currentIndexChanged.connect(self._on_qrels_changed)
        controller.workspaceChanged.connect(self._on_workspace_changed)
        controller.comparisonChanged.connect(self._on_comparison_changed)
        controller.blindChanged.connect(self._on_blind_changed)
        self.service.campaignsChanged.connect(self._fill_campaigns)
        self.service.repositoryChanged.connect(self._fill_campaigns)
        self._on_workspace_changed()

    def _on_blind_changed(self, blind: bool) -> None:
        """A blind campaign is open: per-model figures would say which model finds the gold
        passages, so the results and Evaluate wait until it is closed."""
        self.splitter.setVisible(not blind)
        self.evaluate_button.setEnabled(not blind)
        self.export_button.setEnabled(not blind)
        self.status.setText(
            "Results are hidden while a blind judging campaign is open; close it (Annotate → "
            "Close, or the banner above) to see them."
            if blind
            else "Choose directions and qrels, then Evaluate."
        )

    # -- choices -------------------------------------------------------------------------------
    def _on_workspace_changed(self) -> None:
        if self._running:  # an evaluation waiting to start was for the old workspace
            self.controller.jobs.dequeue(self._running)
            self._running = ""
        self._custom_directions = False
        ws = self.controller.workspace
        self.direction_list.set_directions(ws.query_langs if ws else (), ws.doc_langs if ws else ())
        self._default_directions()
        self.report = None
        self._show_report()
        self.status.setText(
            "Choose directions and qrels, then Evaluate." if ws else "Open a workspace first."
        )
        self._on_qrels_changed()

    def _default_directions(self) -> None:
        """Every direction when there are a few, else the prepared ones and the current."""
        ws = self.controller.workspace
        every = self.direction_list.directions()
        few = len(every) <= 6
        chosen = [
            d
            for d in every
            if few
            or (ws is not None and ws.comparison(*d) is not None)
            or self.controller.direction == d
        ]
        self.direction_list.blockSignals(True)
        self.direction_list.set_checked(chosen)
        self.direction_list.blockSignals(False)
        self._update_directions_text()

    def _on_direction_toggled(self) -> None:
        self._custom_directions = True
        self._update_directions_text()

    def _on_comparison_changed(self) -> None:
        if not self._custom_directions:
            self._default_directions()

    def _update_directions_text(self) -> None:
        n, total = len(self.directions()), len(self.direction_list.directions())
        self.directions_button.setText(f"Directions ({n} of {total})")

    def directions(self) -> list[tuple[str, str]]:
        return self.direction_list.checked()

    def _on_qrels_changed(self, *_: object) -> None:
        human = self.qrels_combo.currentData() != "gold"
        self.campaign_combo.setEnabled(human)
        self.aggregate_combo.setEnabled(human)
        if human and self.campaign_combo.count() == 0:
            self._fill_campaigns()

    def _fill_campaigns(self) -> None:
        if self.qrels_combo.currentData() == "gold" and self.campaign_combo.count() == 0:
            return  # the database is opened only when judgments are asked for
        repo = self.service.repository()
        names = (
            [c.name for c in sorted(repo.campaigns(), key=lambda c: c.created_at)] if repo else []
        )
        current = self.campaign_combo.currentText()
        self.campaign_combo.clear()
        self.campaign_combo.addItems(names)
        if current in names:
            self.campaign_combo.setCurrentText(current)
        elif names:
            self.campaign_combo.setCurrentIndex(len(names) - 1)

    # -- evaluating ----------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Start the evaluation (after the running job, if any)."""
        ws = self.controller.workspace
        try:
            if ws is None:
                raise UserError("open a workspace first")
            plan = self.plan()
            job = evaluate_workspace(ws, plan)
        except UserError as exc:
            self.controller.report("Evaluating", exc)
            return
        labels = ", ".join(d.arrow for d in plan.directions)
        title = f"Evaluating {labels}"
        if self._running:
            self.controller.jobs.dequeue(self._running)  # the one pressed before, still waiting
        self._running = title
        started = self.controller.jobs.queue(
            title, job, lambda report: self._on_done(ws, report), self._on_stopped
        )
        after = "" if started else " after the running job"
        self.status.setText(f"Evaluating {labels}{after}…")

    def plan(self) -> EvalPlan:
        """What the controls ask for, as the pipeline takes it (:class:`UserError` when
        judgments are asked for and there are none)."""
        choice = self.qrels_combo.currentData()
        human, source, min_grade = None, "", 2
        if choice != "gold":
            campaign = self.campaign_combo.currentText()
            repo = self.service.repository()
            if not campaign or repo is None:
                raise UserError("no judging campaign to evaluate against: create one first")
            found = campaign_qrels(repo, campaign, method=self.aggregate_combo.currentData())
            human, source, min_grade = found.by_direction, found.source, found.min_grade
        return EvalPlan(
            directions=tuple(self.directions()),
            gold=choice != "human",
            human=human,
            human_source=source,
            min_grade=min_grade,
            pair=self.controller.pair if len(self.controller.models) >= 2 else None,
            alignment=self.alignment_check.isChecked(),
            ot=self.ot_options.params(),
            scoring=self.ot_options.scoring(),
        )

    def _on_stopped(self, reason: str) -> None:
        self._running = ""
        self.status.setText(f"The evaluation stopped ({reason}); press Evaluate to run it again.")

    def _on_done(self, workspace, report: Report) -> None:
        self._running = ""
        if workspace is not self.controller.workspace:
            return  # another workspace was opened meanwhile
        self.report = report
        self._show_report()

    # -- drawing -------------------------------------------------------------------------------
    def _show_report(self) -> None:
        r = self.report
        self.measure_combo.blockSignals(True)
        self.measure_combo.clear()
        if r is not None:
            self.measure_combo.addItems(list(r.measures))
            self.measure_combo.setCurrentText(ACCURACY if ACCURACY in r.measures else r.measures[0])
        self.measure_combo.blockSignals(False)
        self.table.show_report(r, self._model_tooltips(r))
        if r is not None:
            QTimer.singleShot(0, self._fit_table)  # once the status line has its height
        self._draw_charts()
        if r is None:
            return
        pair = ""
        if r.pair is not None:
            a, b = (model_letter(i) for i in self.controller.pair)
            pair = (
                f" · * / ** : better than the other of {a} = {r.pair[0]} and {b} = {r.pair[1]} "
                "(paired permutation test, Holm-corrected across directions, p < 0.05 / 0.01); "
                f"{a} − {b}: 95% paired-bootstrap interval"
            )
        notes = "".join(f" · {n}" for n in r.notes)
        human = r.manifest.get("qrels", {}).get("human") if r.manifest else None
        source = f" ({human})" if human else ""
        self.status.setText(
            f"Qrels: {', '.join(SOURCES[s] for s in r.sources)}{source}{pair}{notes}"
        )

    def _model_tooltips(self, r: Report | None) -> dict[str, str]:
        """Each model's conventions and where they came from (from the report's manifest, so
        they are the ones the numbers were computed with)."""
        out = {}
        for m in r.manifest.get("models", []) if r is not None else []:
            origins = m.get("conventions_from") or {}
            lines = [f"{m.get('name')}: {m.get('source')}"]
            lines += [f"{k}: {m.get(k)!r} ({v})" for k, v in origins.items()]
            out[str(m.get("name"))] = "\n".join(lines)
        return out

    def _fit_table(self) -> None:
        """The whole table when it fits in 60% of the height; the charts get the rest."""
        total = sum(self.splitter.sizes())
        if total > 0:
            wanted = min(self.table.fitting_height(), int(total * 0.6))
            self.splitter.setSizes([wanted, total - wanted])

    def _draw_charts(self, *_: object) -> None:
        self.charts.show_report(self.report, self.measure_combo.currentText() or ACCURACY)

    # -- export --------------------------------------------------------------------------------
    def _require_report(self) -> Report:
        if self.report is None:
            raise UserError("nothing to export yet: press Evaluate first")
        return self.report

    def export_csv(self, path: str | Path) -> list[Path]:
        return export.table_csv(self._require_report(), path)

    def export_latex(self, path: str | Path) -> list[Path]:
        return export.table_latex(self._require_report(), path)

    def export_charts(self, path: str | Path) -> list[Path]:
        self._require_report()
        return self.charts.export(path)

    def export_folder(self, folder: str | Path) -> list[Path]:
        """The report's files, as ``clirlens eval --out`` writes them (the same names)."""
        return export.report_folder(self._require_report(), self.controller.workspace, folder)

    # -- screenshots ---------------------------------------------------------------------------
    def prepare_screenshot(self, timeout_s: float = 1800) -> str | None:
        """For ``clirlens --screenshot F --view evaluate``: evaluate the default directions
        against the gold qrels and wait for the result; an error message, or None."""
        loop = QEventLoop()
        errors: list[str] = []

        def failed(failure) -> None:
            errors.append(failure.message)
            loop.quit()

        def idle(busy: bool) -> None:
            if not busy and not self.controller.jobs.is_queued(self._running):
                loop.quit()

        self.controller.errorOccurred.connect(failed)
        self.controller.jobs.busyChanged.connect(idle)
        self.evaluate()
        if not errors and self._running:
            QTimer.singleShot(int(timeout_s * 1000), loop.quit)
            loop.exec()
        self.controller.errorOccurred.disconnect(failed)
        self.controller.jobs.busyChanged.disconnect(idle)
        if errors:
            return errors[0]
        return None if self.report is not None else "the evaluation did not finish in time"
