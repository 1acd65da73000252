"""The dashboard's charts (pyqtgraph): grouped bars of one measure per direction and model
(gold and human qrels side by side, significance marks above the better bar), and the
scatter of each model's OT alignment cost against its R@1 per query language. Both come
from a :class:`~clirlens.core.evaluation.report.Report`'s rows; export as PNG or SVG through
pyqtgraph's exporters."""

from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QHBoxLayout, QWidget

from clirlens.core.evaluation.report import Report, Row

PALETTE = ("#1d4e89", "#e76f51", "#2a9d8f", "#b5838d", "#8d5fd3", "#6b7280")
ACCURACY = "R@1"
EXPORT_WIDTH = 1400  # pixels of an exported PNG


def model_colour(index: int) -> QColor:
    return QColor(PALETTE[index % len(PALETTE)])


def short_label(row: Row) -> str:
    """Tick text: ``th→en``, ``LR avg→en``."""
    if row.average:
        return f"LR avg→{row.doc_lang}" if row.doc_lang else "LR avg (same)"
    return f"{row.query_lang}→{row.doc_lang}"


def _plot(title: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    item = plot.getPlotItem()
    item.setTitle(title, color="#1f2937", size="11pt")
    item.showGrid(y=True, alpha=0.25)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        axis.setPen("#6b7280")
        axis.setTextPen("#1f2937")
    item.setMenuEnabled(False)
    plot.setMinimumHeight(200)
    return plot


class DashboardCharts(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars = _plot("")
        self.scatter = _plot("")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bars, 3)
        layout.addWidget(self.scatter, 2)
        self.bar_heights: dict[tuple[str, str, str], float] = {}  # (source, label, model)
        self.points: dict[tuple[str, str], tuple[float, float]] = {}  # (model, lang)
        self.show_report(None, ACCURACY)

    # -- drawing -------------------------------------------------------------------------------
    def show_report(self, report: Report | None, measure: str) -> None:
        self._draw_bars(report, measure)
        self._draw_scatter(report)

    def _draw_bars(self, report: Report | None, measure: str) -> None:
        item = self.bars.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.scene().removeItem(item.legend)
            item.legend = None
        self.bar_heights = {}
        item.setTitle(f"{measure} per direction and model", color="#1f2937", size="11pt")
        item.setLabel("left", measure)
        item.setLabel("bottom", "direction (query → passage language)")
        if report is None or measure not in report.measures:
            item.getAxis("bottom").setTicks([[]])
            return
        rows = report.rows()
        groups = list(dict.fromkeys(short_label(r) for r in rows))
        series = list(dict.fromkeys((r.source, r.model) for r in rows))
        two_sources = len(report.sources) > 1
        width = 0.8 / max(1, len(series))
        keys = []  # the legend, in the title line: above the bars, never over their marks
        for k, (source, model) in enumerate(series):
            colour = model_colour(report.models.index(model))
            fill = QColor(colour)
            if source == "human":
                fill.setAlpha(110)
            xs, heights, marks = [], [], []
            for g, group in enumerate(groups):
                row = next(
                    (
                        r
                        for r in rows
                        if (r.source, r.model, short_label(r)) == (source, model, group)
                    ),
                    None,
                )
                if row is None:
                    continue
                label = row.label
                x = g + (k - (len(series) - 1) / 2) * width
                xs.append(x)
                heights.append(row.values[measure])
                marks.append((x, row.values[measure], row.marks.get(measure, "")))
                self.bar_heights[(source, label, model)] = row.values[measure]
            name = f"{model} ({'human' if source == 'human' else 'gold'})" if two_sources else model
            keys.append(f'<span style="color:{fill.name()}">■</span> {html.escape(name)}')
            bars = pg.BarGraphItem(
                x=xs,
                height=heights,
                width=width * 0.92,
                brush=fill,
                pen=pg.mkPen(colour),
                name=name,
            )
            item.addItem(bars)
            for x, y, mark in marks:
                if mark:
                    text = pg.TextItem(mark, color="#111827", anchor=(0.5, 1.0))
                    text.setFont(QFont(text.textItem.font().family(), 12, QFont.Weight.Bold))
                    text.setPos(x, y + 0.005)
                    item.addItem(text)
        item.getAxis("bottom").setTicks([list(enumerate(groups))])
        item.setXRange(-0.6, len(groups) - 0.4, padding=0)
        item.setYRange(0, 1.08, padding=0)
        item.setTitle(
            f"{measure} per direction and model"
            + ("<br>" if len(keys) > 2 else " &nbsp; ")
            + " &nbsp; ".join(keys),
            color="#1f2937",
            size="11pt",
        )

    def _draw_scatter(self, report: Report | None) -> None:
        item = self.scatter.getPlotItem()
        item.clear()
        if item.legend is not None:
            item.legend.scene().removeItem(item.legend)
            item.legend = None
        self.points = {}
        item.setTitle(f"OT alignment cost vs {ACCURACY}", color="#1f2937", size="11pt")
        item.setLabel("bottom", "mean OT cost to the English question (lower = aligned)")
        item.setLabel("left", f"{ACCURACY} (gold)")
        rows = [] if report is None else report.rows()
        rows = [r for r in rows if not r.average and r.ot_cost is not None and r.source == "gold"]
        if report is None or not rows:
            note = "OT alignment scores not computed" if report is not None else ""
            if note:
                text = pg.TextItem(note, color="#6b7280", anchor=(0.5, 0.5))
                text.setPos(0.5, 0.5)
                item.addItem(text)
                item.setXRange(0, 1)
                item.setYRange(0, 1)
            return
        legend = item.addLegend(offset=(-10, 10), labelTextColor="#1f2937", labelTextSize="10pt")
        legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        xs = [r.ot_cost for r in rows]
        span = max(0.05, max(xs) - min(xs))
        x0, x1 = min(xs) - 0.1 * span, max(xs) + 0.25 * span
        labels = _LabelPlacer(
            0.06 * (x1 - x0), 0.06 * 1.15, [(r.ot_cost, r.values[ACCURACY]) for r in rows]
        )
        for model in report.models:
            mine = [r for r in rows if r.model == model]
            if not mine:
                continue
            colour = model_colour(report.models.index(model))
            spots = pg.ScatterPlotItem(
                x=[r.ot_cost for r in mine],
                y=[r.values[ACCURACY] for r in mine],
                size=11,
                brush=pg.mkBrush(colour),
                pen=pg.mkPen("w"),
                name=model,
                data=[r.query_lang for r in mine],
                hoverable=True,
                tip=lambda x, y, data, m=model: f"{m}, {data}: OT cost {x:.3f}, {ACCURACY} {y:.3f}",
            )
            item.addItem(spots)
            for r in mine:
                point = (r.ot_cost, r.values[ACCURACY])
                self.points[(model, r.query_lang)] = point
                label = pg.TextItem(r.query_lang, color=colour, anchor=labels.anchor(*point))
                label.setPos(*point)
                item.addItem(label)
        item.setXRange(x0, x1, padding=0)
        item.setYRange(-0.05, 1.1, padding=0)

    # -- export --------------------------------------------------------------------------------
    def export(self, path: str | Path) -> list[Path]:
        """Write the bar chart to ``path`` and the scatter beside it (``<stem>-alignment``),
        as PNG or SVG by the suffix; returns the files written."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ValueError(f"charts are exported as .png or .svg, not {path.suffix!r}")
        written = []
        for plot, target in (
            (self.bars, path),
            (self.scatter, path.with_name(f"{path.stem}-alignment{path.suffix}")),
        ):
            item = plot.getPlotItem()
            if suffix == ".png":
                exporter = ImageExporter(item)
                exporter.parameters()["width"] = EXPORT_WIDTH
                # the legend ignores the exporter's scaling: scale it along for the export
                legend = item.legend
                if legend is not None:
                    legend.setScale(EXPORT_WIDTH / max(1.0, item.sceneBoundingRect().width()))
                try:
                    exporter.export(fileName=str(target))
                finally:
                    if legend is not None:
                        legend.setScale(1.0)
            else:
                _export_svg(plot, target)
            written.append(target)
        return written


def _export_svg(plot: pg.PlotWidget, target: Path) -> None:
    """pyqtgraph's SVG exporter, or, where it fails, Qt's SVG generator on the widget.

    pyqtgraph 0.14 cannot re-parse some path data the SVG generator of recent Qt versions
    writes (``ValueError`` in ``correctCoordinates``, pyqtgraph issue #3485); it fails
    before writing anything, and drawing the plot widget into a :class:`QSvgGenerator`
    gives the same vector picture."""
    try:
        SVGExporter(plot.getPlotItem()).export(fileName=str(target))
        return
    except ValueError:
        pass
    size = plot.size()
    generator = QSvgGenerator()
    generator.setFileName(str(target))
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setResolution(plot.logicalDpiX())  # else items in the view box are off scale
    generator.setTitle(plot.getPlotItem().titleLabel.text or "clirlens chart")
    painter = QPainter(generator)
    try:
        plot.render(painter)
    finally:
        painter.end()


class _LabelPlacer:
    """Puts each point's label right, left, above or below it: the first place whose
    approximate box (in data units) overlaps no label or point placed before."""

    PLACES = (  # TextItem anchor, box offsets in label widths / heights (x0, x1, y0, y1)
        ((-0.25, 0.5), (0.25, 1.25, -0.5, 0.5)),
        ((1.25, 0.5), (-1.25, -0.25, -0.5, 0.5)),
        ((0.5, 1.3), (-0.5, 0.5, 0.3, 1.3)),
        ((0.5, -0.3), (-0.5, 0.5, -1.3, -0.3)),
        ((-0.1, 1.2), (0.1, 1.1, 0.2, 1.2)),  # above right
        ((-0.1, -0.2), (0.1, 1.1, -1.2, -0.2)),  # below right
        ((1.1, 1.2), (-1.1, -0.1, 0.2, 1.2)),  # above left
        ((1.1, -0.2), (-1.1, -0.1, -1.2, -0.2)),  # below left
    )

    def __init__(self, w: float, h: float, points: list[tuple[float, float]]) -> None:
        self.w, self.h = w, h
        self.boxes = [(x - w / 4, x + w / 4, y - h / 4, y + h / 4) for x, y in points]

    def _box(self, x: float, y: float, offsets: tuple) -> tuple[float, float, float, float]:
        a, b, c, d = offsets
        return (x + a * self.w, x + b * self.w, y + c * self.h, y + d * self.h)

    def _free(self, box: tuple[float, float, float, float]) -> bool:
        return not any(
            box[0] < o[1] and o[0] < box[1] and box[2] < o[3] and o[2] < box[3] for o in self.boxes
        )

    def anchor(self, x: float, y: float) -> tuple[float, float]:
        choice = next((p for p in self.PLACES if self._free(self._box(x, y, p[1]))), self.PLACES[0])
        self.boxes.append(self._box(x, y, choice[1]))
        return choice[0]
