"""The dashboard's language-preference picture (XQuAD-R, LAReQA): for models A and B side by
side, a query-language × candidate-language heatmap of each candidate language's share of
the top k (rows sum to 1), with mAP@20 and the same-language gap in each title
(:mod:`clirlens.core.evaluation.lareqa`); it exports as PNG and as CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.core.evaluation.lareqa import preference_csv
from clirlens.core.workspace.preference import default_langs, workspace_preference
from clirlens.gui.widgets.labels import model_letter

COLORMAP = pg.colormap.get("viridis")


class PreferencePanel(QWidget):
    def __init__(self, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.results: list = []
        self.task = None
        self._title = ""
        self.langs_edit = QLineEdit()
        self.langs_edit.setToolTip("the languages pooled (default: LAReQA's eleven)")
        self.k_spin = QSpinBox(minimum=1, maximum=100, value=10)
        self.k_spin.setToolTip("shares among the top K candidates")
        self.run_button = QPushButton("Compute")
        self.run_button.clicked.connect(self.compute)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.clicked.connect(lambda: self._export("PNG image (*.png)", self.export_png))
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self._export("CSV (*.csv)", self.export_csv))
        self.status = QLabel(
            "XQuAD-R (LAReQA): every question against the sentences of all these languages "
            "pooled; which languages each model prefers."
        )
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        row = QHBoxLayout()
        for w in (QLabel("Languages"), self.langs_edit, QLabel("top"), self.k_spin,
                  self.run_button, self.png_button, self.csv_button):  # fmt: skip
            row.addWidget(w)
        self.plots = [pg.PlotWidget(background="w") for _ in range(2)]
        self.images = [pg.ImageItem() for _ in self.plots]
        plots = QHBoxLayout()
        for plot, image in zip(self.plots, self.images, strict=True):
            item = plot.getPlotItem()
            item.addItem(image)
            item.invertY(True)
            item.setMenuEnabled(False)
            item.setMouseEnabled(False, False)
            item.setLabel("left", "query language")
            item.setLabel("bottom", "candidate language")
            plots.addWidget(plot)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addLayout(plots, 1)
        self._texts: list[list] = [[], []]  # the value labels of each heatmap
        controller.workspaceChanged.connect(self._on_workspace_changed)
        self._on_workspace_changed()

    def _on_workspace_changed(self) -> None:
        ws = self.controller.workspace
        try:
            langs = default_langs(ws) if ws is not None else []
        except UserError:
            langs = []
        self.langs_edit.setText(",".join(langs))
        self.run_button.setEnabled(bool(langs))
        self.results, self.task = [], None
        self._draw()

    def langs(self) -> list[str]:
        return [x.strip().lower() for x in self.langs_edit.text().split(",") if x.strip()]

    def compute(self) -> None:
        ws = self.controller.workspace
        if ws is None:
            return
        pair = list(self.controller.pair)
        job = workspace_preference(ws, pair, self.langs(), self.k_spin.value())
        self._title = "Language preference (XQuAD-R)"
        started = self.controller.jobs.queue(self._title, job, self._on_done, self._on_stopped)
        self.status.setText("Scoring XQuAD-R" + ("…" if started else " after the running job…"))

    def _on_stopped(self, reason: str) -> None:
        self.status.setText(f"XQuAD-R stopped ({reason}); press Compute to run it again.")

    def _on_done(self, found) -> None:
        self.task, self.results = found
        t = self.task
        drops = ", ".join(f"{lang} {n}" for lang, n in t.dropped.items() if n) or "none"
        self.status.setText(
            f"{len(t.answers)} of {t.questions} questions in {len(t.langs)} languages, "
            f"{len(t.candidates)} candidate sentences ({t.splitter}); dropped (answer across "
            f"sentences): {drops}. Gap: mean rank of the other languages' answers minus the "
            "own language's (0 = no preference)."
        )
        self._draw()

    def _draw(self) -> None:
        for plot, texts in zip(self.plots, self._texts, strict=True):
            for text in texts:
                plot.removeItem(text)
        self._texts = [[], []]
        for n, (plot, image) in enumerate(zip(self.plots, self.images, strict=True)):
            item = plot.getPlotItem()
            if n >= len(self.results):
                image.clear()
                item.setTitle("")
                continue
            r = self.results[n]
            langs = list(r.langs)
            shares = np.array([[r.shares[q][c] for c in langs] for q in langs])
            image.setImage(shares.T, levels=(0.0, 1.0), autoLevels=False)
            image.setColorMap(COLORMAP)
            ticks = [list(enumerate(langs))]
            item.getAxis("left").setTicks([[(i + 0.5, x) for i, x in ticks[0]]])
            item.getAxis("bottom").setTicks([[(i + 0.5, x) for i, x in ticks[0]]])
            letter = model_letter(self.controller.pair[n]) if n < len(self.controller.pair) else ""
            item.setTitle(
                f"{letter} · {r.model} · share of the top {r.k}<br>mAP@20 {r.mean_map20:.3f}"
                f" · same-language gap {r.mean_gap:+.1f} ranks",
                color="#1f2937", size="10pt",
            )  # fmt: skip
            for i in range(len(langs)):
                for j in range(len(langs)):
                    v = shares[i, j]
                    text = pg.TextItem(f"{v:.2f}", color="w" if v < 0.6 else "k", anchor=(0.5, 0.5))
                    text.setPos(j + 0.5, i + 0.5)
                    plot.addItem(text)
                    self._texts[n].append(text)
            item.getViewBox().disableAutoRange()  # the value labels must not widen it
            item.setRange(xRange=(0, len(langs)), yRange=(0, len(langs)), padding=0)

    # -- exports -------------------------------------------------------------------------------
    def _export(self, kind: str, write) -> None:
        if not self.results:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export language preference", "", kind)
        if path:
            written = write(path)
            self.status.setText("wrote " + ", ".join(str(p) for p in written))

    def export_csv(self, path: str | Path) -> list[Path]:
        path = Path(path)
        path.write_text(preference_csv(self.results), encoding="utf-8")
        return [path]

    def export_png(self, path: str | Path) -> list[Path]:
        """One PNG per model: ``NAME-A.png``, ``NAME-B.png``."""
        path = Path(path)
        out = []
        for n, plot in enumerate(self.plots[: len(self.results)]):
            target = path.with_name(f"{path.stem}-{'AB'[n]}{path.suffix or '.png'}")
            exporter = ImageExporter(plot.getPlotItem())
            exporter.parameters()["width"] = 900
            exporter.export(str(target))
            out.append(target)
        return out
