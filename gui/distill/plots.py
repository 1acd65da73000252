"""The Distill screen's live curves: the training loss per step, and the held-out R@1 and
mean OT cost at each evaluation (pyqtgraph)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

from clirlens.gui.widgets.charts import model_colour


def _plot(title: str, left: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    item = plot.getPlotItem()
    item.setTitle(title, color="#1f2937", size="10pt")
    item.setLabel("bottom", "step")
    item.setLabel("left", left)
    item.showGrid(x=True, y=True, alpha=0.2)
    return plot


class DistillCurves(QWidget):
    """Loss per step (left); held-out R@1 and OT cost per evaluation (right)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _plot("training loss", "loss")
        self.eval_plot = _plot("held out", "R@1 · OT cost")
        self.eval_plot.getPlotItem().addLegend(offset=(-10, -30))
        self.loss_line = self.loss_plot.plot(pen=pg.mkPen(model_colour(0), width=1.5))
        self.r1_line = self.eval_plot.plot(
            pen=pg.mkPen(model_colour(0), width=2), symbol="o", symbolSize=6, name="R@1"
        )
        self.cost_line = self.eval_plot.plot(
            pen=pg.mkPen(model_colour(1), width=2), symbol="s", symbolSize=6, name="OT cost"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.eval_plot, 2)
        self.clear()

    def clear(self) -> None:
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.evaluations: list[tuple[int, dict[str, float]]] = []
        self._redraw()

    def add_loss(self, step: int, loss: float) -> None:
        if self.steps and step <= self.steps[-1]:
            return
        self.steps.append(step)
        self.losses.append(loss)
        self.loss_line.setData(self.steps, self.losses)

    def set_losses(self, losses: list[float]) -> None:
        """The whole run's losses (step 1 onwards), also those before a resume."""
        self.steps = list(range(1, len(losses) + 1))
        self.losses = list(losses)
        self.loss_line.setData(self.steps, self.losses)

    def add_evaluation(self, step: int, figures: dict[str, float]) -> None:
        self.evaluations.append((step, figures))
        self._redraw()

    def _redraw(self) -> None:
        xs = [s for s, _ in self.evaluations]
        self.r1_line.setData(xs, [f.get("R@1", 0.0) for _, f in self.evaluations])
        self.cost_line.setData(xs, [f.get("ot_cost", 0.0) for _, f in self.evaluations])
        self.loss_line.setData(self.steps, self.losses)
