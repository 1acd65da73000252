"""One model's alignment plot: the transport plan (or cost matrix) as a heatmap with token
labels on both axes, a colour bar and the marginals as bars along the sides (the layout of
POT's ``ot.plot.plot1D_mat``), or the argmax alignment drawn as lines between the two token
rows.

Rows are source tokens (top to bottom), columns are target tokens (left to right): the
image is shown in row-major order, so ``image[i, j]`` is ``P[i, j]``. Everything drawn
comes from a core :class:`~clirlens.core.ot.alignment.Alignment`; no OT maths here.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QStackedWidget, QVBoxLayout, QWidget

from clirlens.core.ot.alignment import Alignment
from clirlens.core.text.labels import labels, short
from clirlens.gui.widgets.style import FONT_FAMILIES

MODES = ("plan", "cost", "lines")
HIGHLIGHT = QColor("#ff3b30")


def token_font(size: int = 9) -> QFont:
    """A Noto font with fallbacks for Thai, Devanagari, Arabic, Greek and CJK labels."""
    available = set(QFontDatabase.families())
    font = QFont()
    font.setFamilies([f for f in FONT_FAMILIES if f in available] or ["Sans Serif"])
    font.setPointSize(size)
    return font


class TokenAxis(pg.AxisItem):
    """An axis labelled with tokens at cell centres ``i + 0.5``; when they do not fit, every
    ``stride``-th token is labelled (zoom in to see them all)."""

    def __init__(self, orientation: str, font: QFont) -> None:
        super().__init__(orientation)
        self.tokens: tuple[str, ...] = ()
        self.offset = 0  # index of the first token (a windowed passage)
        self._metrics = QFontMetrics(font)
        self.rotated = orientation in ("bottom", "top")  # labels read bottom to top
        self.setTextPen("#1a1a1a")
        self.setPen("#777777")
        self.setStyle(tickFont=font, tickLength=-4, autoExpandTextSpace=not self.rotated)
        if self.rotated:
            self.setStyle(hideOverlappingLabels=False)

    def set_tokens(self, tokens: tuple[str, ...], offset: int = 0) -> None:
        self.tokens = tuple(short(t) for t in tokens)
        self.offset = offset
        if self.rotated:
            widest = max((self._metrics.horizontalAdvance(t) for t in self.tokens), default=0)
            self.setHeight(widest + 12)
        self.picture = None
        self.update()

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs):
        # pyqtgraph's undocumented drawing hook (the one place clirlens relies on it; a test
        # in tests/gui/widgets/test_heatmap.py fails if its signature or specs change)
        if not self.rotated:
            super().drawPicture(p, axisSpec, tickSpecs, textSpecs)
            return
        super().drawPicture(p, axisSpec, tickSpecs, [])
        p.setPen(self.textPen())
        p.setFont(self.style["tickFont"])
        height = self._metrics.height()
        length = float(self.height())
        for rect, _flags, text in textSpecs:
            p.save()
            p.translate(rect.center().x(), rect.top())
            p.rotate(-90)
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            p.drawText(QRectF(-length, -height / 2, length, height), int(align.value), text)
            p.restore()

    def tickValues(self, minVal: float, maxVal: float, size: float):
        n = len(self.tokens)
        if n == 0 or size <= 0:
            return []
        lo = max(0, math.floor(min(minVal, maxVal)))
        hi = min(n, math.ceil(max(minVal, maxVal)))
        if hi <= lo:
            return []
        if self.orientation in ("left", "right") or self.rotated:
            per = self._metrics.height() + 1
        else:
            per = max(self._metrics.horizontalAdvance(t) for t in self.tokens[lo:hi]) + 8
        stride = max(1, math.ceil((hi - lo) * per / size))
        return [(float(stride), [i + 0.5 for i in range(lo, hi) if i % stride == 0])]

    def tickStrings(self, values, scale, spacing):
        n = len(self.tokens)
        return [self.tokens[int(v)] if 0 <= int(v) < n else "" for v in values]


class HeatmapPanel(pg.GraphicsLayoutWidget):
    """Heatmap with token axes, colour bar and marginal bars (source on the left, target on
    top). ``sigHovered(i, j)``/``sigClicked(i, j)`` give plan indices (``-1``: none), already
    shifted by the window's first column."""

    sigHovered = Signal(int, int)
    sigClicked = Signal(int, int)

    def __init__(self, font: QFont, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.col0 = 0
        self.shape = (0, 0)
        self.left_axis = TokenAxis("left", font)
        self.bottom_axis = TokenAxis("bottom", font)
        # the figure's title is part of the scene, so an export carries it; on screen the
        # view's title line above says the same, so it is shown only while exporting
        self.title = pg.LabelItem("", justify="left", color="#1a1a1a")
        self.figure_title = ""
        self.addItem(self.title, row=0, col=0, colspan=3)
        self.show_figure_title(False)
        self.top = self.addPlot(row=1, col=1)
        self.side = self.addPlot(row=2, col=0)
        self.main = self.addPlot(
            row=2, col=1, axisItems={"left": self.left_axis, "bottom": self.bottom_axis}
        )
        self.image = pg.ImageItem(axisOrder="row-major")
        self.main.addItem(self.image)
        self.main.invertY(True)
        self.main.setMenuEnabled(False)
        self.main.hideButtons()
        self.bar = pg.ColorBarItem(colorMap="viridis", interactive=False, width=12)
        self.bar.setImageItem(self.image)
        self.addItem(self.bar, row=2, col=2)
        for plot in (self.top, self.side):
            plot.hideButtons()
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
        self.top.setXLink(self.main)
        self.side.setYLink(self.main)
        self.side.invertX(True)
        self.top.setMaximumHeight(60)
        self.side.setMaximumWidth(60)
        self.top_bars = pg.BarGraphItem(x=[], height=[], width=0.85, brush="#4c72b0")
        self.side_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.85, brush="#dd8452")
        self.top.addItem(self.top_bars)
        self.side.addItem(self.side_bars)
        pen = QPen(HIGHLIGHT, 0)
        pen.setCosmetic(True)
        pen.setWidth(2)
        self.row_box = QGraphicsRectItem()
        self.col_box = QGraphicsRectItem()
        for box in (self.row_box, self.col_box):
            box.setPen(pen)
            box.setVisible(False)
            self.main.addItem(box)
        self.scene().sigMouseMoved.connect(self._on_moved)
        self.scene().sigMouseClicked.connect(self._on_clicked)

    def show_figure_title(self, shown: bool) -> None:
        """The title row in the scene: :attr:`figure_title` while exporting, empty and
        collapsed on screen."""
        self.title.setText(self.figure_title if shown else "", size="9pt")
        self.title.setMaximumHeight(10_000 if shown else 0)
        self.ci.layout.activate()

    def show_matrix(
        self,
        values: np.ndarray,
        source: tuple[str, ...],
        target: tuple[str, ...],
        rows: np.ndarray,
        cols: np.ndarray,
        col0: int,
        cmap: str,
    ) -> None:
        """``values`` (n, w) is drawn with ``values[i, j]`` at row i, column j; ``rows``
        and ``cols`` are the bars (the plan's row and column sums)."""
        n, w = values.shape
        self.shape = (n, w)
        self.col0 = col0
        self.image.setImage(np.ascontiguousarray(values), autoLevels=False)
        self.image.setRect(QRectF(0, 0, w, n))
        hi = float(values.max()) if values.size else 1.0
        self.bar.setColorMap(pg.colormap.get(cmap))
        self.bar.setLevels((0.0, hi if hi > 0 else 1.0))
        self.left_axis.set_tokens(source)
        self.bottom_axis.set_tokens(target, col0)
        self.top_bars.setOpts(x=np.arange(w) + 0.5, height=cols, width=0.85)
        self.side_bars.setOpts(x0=np.zeros(n), y=np.arange(n) + 0.5, width=rows, height=0.85)
        self.top.setYRange(0, float(cols.max()) * 1.05 if cols.size and cols.max() > 0 else 1)
        self.side.setXRange(0, float(rows.max()) * 1.05 if rows.size and rows.max() > 0 else 1)
        # limits before the range: a range set first is clamped to the previous plan's limits
        # (a 3x10 plan after a 13x232 one drew as one row)
        vb = self.main.vb
        vb.setLimits(xMin=None, xMax=None, yMin=None, yMax=None)
        vb.setLimits(xMin=0, xMax=w, yMin=0, yMax=n)
        vb.setRange(xRange=(0, w), yRange=(0, n), padding=0)
        self.highlight(-1, -1)

    def visible_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((x0, x1), (y0, y1))`` of the plan the main plot shows."""
        (x0, x1), (y0, y1) = self.main.vb.viewRange()
        return (x0, x1), (y0, y1)

    def highlight(self, i: int, j: int) -> None:
        n, w = self.shape
        self.row_box.setVisible(0 <= i < n)
        if 0 <= i < n:
            self.row_box.setRect(QRectF(0, i, w, 1))
        jj = j - self.col0
        self.col_box.setVisible(0 <= jj < w)
        if 0 <= jj < w:
            self.col_box.setRect(QRectF(jj, 0, 1, n))

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int]:
        """Plan indices under a scene position: a cell, a row label or a column label."""
        n, w = self.shape
        pt = self.main.vb.mapSceneToView(scene_pos)
        i, j = math.floor(pt.y()), math.floor(pt.x())
        in_rows, in_cols = 0 <= i < n, 0 <= j < w
        if self.main.vb.sceneBoundingRect().contains(scene_pos) and in_rows and in_cols:
            return i, j + self.col0
        if self.left_axis.sceneBoundingRect().contains(scene_pos) and in_rows:
            return i, -1
        if self.bottom_axis.sceneBoundingRect().contains(scene_pos) and in_cols:
            return -1, j + self.col0
        return -1, -1

    def _on_moved(self, pos: QPointF) -> None:
        self.sigHovered.emit(*self.cell_at(pos))

    def _on_clicked(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.sigClicked.emit(*self.cell_at(event.scenePos()))


class LinesPanel(pg.PlotWidget):
    """Source tokens on the top row, target tokens on the bottom row, a line from each
    source token to its argmax target token (width and opacity by the share of its mass)."""

    def __init__(self, font: QFont, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.font = font
        self.plotItem.hideAxis("left")
        self.plotItem.hideAxis("bottom")
        self.plotItem.hideButtons()
        self.plotItem.setMenuEnabled(False)

    def show_alignment(self, al: Alignment, col0: int, col1: int) -> None:
        self.clear()
        n, m = len(al.source_tokens), col1 - col0
        width = max(n, m, 1)
        xs = (np.arange(n) + 0.5) * width / max(n, 1)
        xt = (np.arange(m) + 0.5) * width / max(m, 1)
        share = al.source_best_mass / np.maximum(al.plan.sum(axis=1), 1e-300)
        for i, j in enumerate(al.source_best):
            if not col0 <= j < col1:
                continue
            alpha = int(60 + 195 * float(np.clip(share[i], 0, 1)))
            pen = pg.mkPen(QColor(76, 114, 176, alpha), width=1 + 3 * float(share[i]))
            self.addItem(pg.PlotCurveItem([xs[i], xt[j - col0]], [1.0, 0.0], pen=pen))
        src = labels(al.source_text, al.source_tokens, al.source_offsets)
        tgt = labels(al.target_text, al.target_tokens, al.target_offsets)[col0:col1]
        for x, tok in zip(xs, src, strict=True):
            self._label(x, 1.0, tok, (0.0, 0.5))  # rotated: extends up from the row
        for x, tok in zip(xt, tgt, strict=True):
            self._label(x, 0.0, tok, (1.0, 0.5))  # rotated: extends down from the row
        self.setRange(xRange=(0, width), yRange=(-0.35, 1.35), padding=0.02)

    def _label(self, x: float, y: float, text: str, anchor: tuple[float, float]) -> None:
        item = pg.TextItem(short(text), color="k", anchor=anchor, angle=90)
        item.setFont(self.font)
        item.setPos(x, y)
        self.addItem(item)


def title_text(
    al: Alignment, model: str, window: tuple[int, int] | None = None, rich: bool = True
) -> str:
    """Model, layer, solver, ε (τ), size and total cost: what a reader of the plot needs."""
    n, m = al.shape
    params = "EMD" if al.solver == "emd" else f"{al.solver} ε={al.epsilon:.3g}"
    if al.tau is not None:
        params += f" τ={al.tau:.3g}"
    layer = "last layer" if al.layer == -1 else f"layer {al.layer}"
    shown = f" · target tokens {window[0]}–{window[1] - 1}" if window else ""
    b0, b1 = ("<b>", "</b>") if rich else ("", "")
    return (
        f"{b0}{model}{b1} · {layer} · {params} · total cost ⟨P, C⟩ = {b0}{al.total_cost:.4f}{b1}"
        f" · {n}×{m} {'words' if al.words else 'tokens'}{shown}"
    )


class AlignPlot(QWidget):
    """One model's alignment: a title line with its total cost, then the heatmap (plan or
    cost) or the lines. Re-emits the panels' hover and click signals."""

    sigHovered = Signal(int, int)
    sigClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.font = token_font()
        self.alignment: Alignment | None = None
        self.mode = "plan"
        self.window: tuple[int, int] | None = None
        self.title = QLabel()
        self.title.setObjectName("alignTitle")
        self.title.setWordWrap(True)
        self.heatmap = HeatmapPanel(self.font)
        self.lines = LinesPanel(self.font)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.heatmap)
        self.stack.addWidget(self.lines)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        self.heatmap.sigHovered.connect(self.sigHovered)
        self.heatmap.sigClicked.connect(self.sigClicked)

    def set_alignment(
        self, al: Alignment | None, model: str, window: tuple[int, int] | None = None
    ) -> None:
        self.alignment = al
        self.window = window
        if al is None:
            self.title.setText(model)
            return
        self.title.setText(title_text(al, model, window))
        # the figure's title, in two lines so an exported plot of any width shows it whole
        self.heatmap.figure_title = title_text(al, model, window, rich=False).replace(
            " · total cost", "<br>total cost"
        )
        self.redraw()

    def mark_stale(self, note: str) -> None:
        """The plot shown is no longer the one asked for (recomputing, or failed): greyed,
        and its title says so."""
        self.heatmap.setEnabled(False)
        self.lines.setEnabled(False)
        base = self.title.text().split(" · <i>", 1)[0]
        self.title.setText(f"{base} · <i>{note}</i>")

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.redraw()

    def redraw(self) -> None:
        al = self.alignment
        self.heatmap.setEnabled(True)
        self.lines.setEnabled(True)
        self.stack.setCurrentWidget(self.lines if self.mode == "lines" else self.heatmap)
        if al is None:
            return
        c0, c1 = self.window or (0, al.shape[1])
        if self.mode == "lines":
            self.lines.show_alignment(al, c0, c1)
            return
        values = al.plan if self.mode == "plan" else al.cost
        self.heatmap.show_matrix(
            values[:, c0:c1],
            labels(al.source_text, al.source_tokens, al.source_offsets),
            labels(al.target_text, al.target_tokens, al.target_offsets)[c0:c1],
            al.plan.sum(axis=1),
            al.plan[:, c0:c1].sum(axis=0),
            c0,
            "viridis" if self.mode == "plan" else "magma",
        )
