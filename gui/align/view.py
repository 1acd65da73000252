"""The alignment view: OT token alignment of the compare view's pair of texts under model A
and model B side by side (docs/architecture.md §5).

The pair is the selected passage against the query, or — when no passage is selected — the
query against its parallel English question. Rows are always the query's tokens. Changing
ε (log-scale slider), the solver, τ, the layer or sub-words/words recomputes in a worker,
debounced; token states are cached by :class:`~clirlens.core.ot.session.AlignSession`, so
only the solve reruns. Hovering a cell shows both tokens, ``P[i, j]`` and ``C[i, j]``;
clicking a cell or a token label highlights its row/column and its span in the texts.
"""

from __future__ import annotations

import html
from functools import partial

from PySide6.QtCore import QEventLoop, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.errors import UserError
from clirlens.core.models.spec import student_init
from clirlens.core.ot.alignment import Alignment
from clirlens.core.ot.problem import OTParams
from clirlens.core.ot.session import (
    AlignPair,
    AlignSession,
    best_window,
    distillation_sides,
    model_sides,
)
from clirlens.gui.align import export as align_export
from clirlens.gui.services.context import AppContext
from clirlens.gui.services.jobs import Failure, JobRunner
from clirlens.gui.widgets.heatmap import AlignPlot, token_font
from clirlens.gui.widgets.labels import model_letter
from clirlens.gui.widgets.ot_options import OTControls

MODE_NAMES = (("Plan P", "plan"), ("Cost C", "cost"), ("Argmax lines", "lines"))
WINDOW = 64  # target tokens shown when windowing a long passage
DEBOUNCE_MS = 150


class AlignView(QWidget):
    alignmentsChanged = Signal()  # new alignments are shown (or cleared)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        controller = context.controller
        self.controller = controller
        self.setObjectName("alignView")
        self.session = AlignSession()
        # its own runner: a recompute supersedes the previous recompute, never the
        # controller's preparation of a direction
        self.jobs = JobRunner(self)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.progressChanged.connect(self._on_progress)
        self.alignments: tuple[Alignment, ...] = ()
        self.model_names: tuple[str, ...] = ()
        self.pair: AlignPair | None = None
        self.failure: Failure | None = None
        self.selection: tuple[int, int, int] = (-1, -1, -1)  # model, i, j
        self._stale = True
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.recompute)
        self._build()
        controller.queryViewChanged.connect(self.schedule)
        controller.selectedPassageChanged.connect(self.schedule)
        controller.comparisonChanged.connect(self.schedule)

    # -- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.mode_box = QComboBox()
        for label, mode in MODE_NAMES:
            self.mode_box.addItem(label, mode)
        self.mode_box.currentIndexChanged.connect(self._on_mode)
        self.ot = OTControls(self, words=True)
        self.solver_box, self.tau_box, self.layer_box = (
            self.ot.solver_box,
            self.ot.tau_box,
            self.ot.layer_box,
        )
        self.eps_slider, self.words_box = self.ot.eps.slider, self.ot.words_box
        self.ot.changed.connect(self.schedule)
        self.window_box = QCheckBox(f"Best {WINDOW} target tokens")
        self.window_box.setToolTip("window a long passage to the region with the most mass")
        self.export_button = QToolButton(text="Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        align_export.add_menu(self, self.export_button)
        self.window_box.toggled.connect(self._show)
        self.distill_box = QCheckBox("Before / after distillation")
        self.distill_box.setToolTip(
            "a distilled student's plan beside its initialisation's, both against the teacher"
        )
        self.distill_box.setVisible(False)
        self.distill_box.toggled.connect(self.schedule)
        self._inits: dict = {}  # students' initialisations' encoders, loaded once
        controls = QHBoxLayout()  # the transport problem
        for w in (self.mode_box, QLabel("ε"), self.ot.eps, self.solver_box, self.tau_box):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.export_button)
        states = QHBoxLayout()  # the token states it is posed on
        for w in (self.ot.weights_box, self.layer_box, self.words_box, self.window_box,
                  self.distill_box):  # fmt: skip
            states.addWidget(w)
        states.addStretch(1)

        self.pair_label = QLabel()
        self.pair_label.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("alignStatus")
        self.status.setWordWrap(True)
        self.hover_label = QLabel(" ")
        self.hover_label.setFont(token_font(10))
        self.plots = (AlignPlot(), AlignPlot())
        split = QSplitter(Qt.Orientation.Horizontal)
        for k, plot in enumerate(self.plots):
            plot.sigHovered.connect(partial(self._on_hover, k))
            plot.sigClicked.connect(partial(self._on_click, k))
            split.addWidget(plot)
        self.texts = QTextBrowser()
        self.texts.setFont(token_font(10))
        self.texts.setMaximumHeight(80)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(controls)
        layout.addLayout(states)
        layout.addWidget(self.pair_label)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(self.hover_label)
        layout.addWidget(self.texts)

    # -- parameters ---------------------------------------------------------------------------
    @property
    def epsilon(self) -> float:
        """The ε shown and recorded (3 significant digits)."""
        return self.ot.eps.value()

    def params(self) -> OTParams:
        return self.ot.params()

    def current_pair(self) -> AlignPair | None:
        """The compare view's pair: (query, selected passage) or (query, English parallel)."""
        c = self.controller
        qv = c.query_view
        if qv is None:
            return None
        q = qv.query
        if c.selected_passage and c.comparison is not None:
            p = c.comparison.passage(c.selected_passage)
            return AlignPair(q.text, p.text, "query", "passage", f"query ({q.lang})", p.id)
        if qv.parallel is not None:
            par = qv.parallel
            return AlignPair(q.text, par.text, "query", "query", f"query ({q.lang})", par.lang)
        return None

    def _on_mode(self, *_: object) -> None:
        for plot in self.plots:
            plot.set_mode(self.mode_box.currentData())

    # -- computing ------------------------------------------------------------------------------
    def schedule(self, *_: object) -> None:
        """Recompute after the debounce delay (when shown; else once it is shown)."""
        self._stale = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._timer.start()

    def recompute(self) -> None:
        self._stale = False
        c = self.controller
        pair = self.current_pair()
        self.failure = None
        if c.workspace is None or pair is None:
            self.pair = None
            note = "select a query with a parallel question, or a passage, in the compare view"
            self._clear("open a workspace first" if c.workspace is None else note)
            return
        doc_lang = c.direction[1] if c.direction else None
        try:
            encoders = [model_sides(c.workspace, k, doc_lang) for k in c.pair]
            self.model_names = tuple(  # a blind campaign hides which model is which
                f"List {k + 1}" if c.blind else f"{model_letter(k)} · {c.models[k]}" for k in c.pair
            )
            student = self._student()
            if student is not None and self.distill_box.isChecked():
                encoders, self.model_names = self._before_after(student, doc_lang)
        except UserError as exc:
            self.pair = None
            self._clear(str(exc))
            return
        flat = [e for sides in encoders for e in (sides if isinstance(sides, tuple) else [sides])]
        try:  # the layer control offers the layers both models have
            self.ot.set_layers(min(e.num_layers for e in flat))
        except (OSError, ValueError, UserError):
            self.ot.set_layers(None)
        self.pair_label.setText(
            f"rows: <b>{html.escape(pair.source_label)}</b> · "
            f"columns: <b>{html.escape(pair.target_label)}</b>"
        )
        self.status.setText("aligning…")
        for plot in self.plots:  # what is shown is no longer what is asked for
            plot.mark_stale("computing…")
        job = self.session.compute(encoders, pair, self.params())
        self.jobs.start("Aligning", job, partial(self._on_done, pair))

    def _student(self) -> int | None:
        """The first distilled student of the pair (the before/after box shows for it)."""
        c = self.controller
        found = None
        if not c.blind:
            found = next((k for k in c.pair if student_init(c.workspace.specs[k])), None)
        self.distill_box.setVisible(found is not None)
        return found

    def _before_after(self, student: int, doc_lang: str | None):
        """``(init, teacher)`` and ``(student, teacher)`` sides, and their titles."""
        c = self.controller
        sides, init = distillation_sides(c.workspace, student, doc_lang, self._inits)
        return list(sides), (f"before · {init}", f"after · {c.models[student]}")

    def _on_done(self, pair: AlignPair, alignments: tuple[Alignment, ...]) -> None:
        if pair != self.current_pair():
            return
        self.pair = pair
        self.alignments = tuple(alignments)
        self.status.setText("")
        self.controller.resolve("Aligning")  # an earlier failure's cause is gone
        self.selection = (-1, -1, -1)
        self._show()
        self.alignmentsChanged.emit()

    def _on_failed(self, failure: Failure) -> None:
        self.failure = failure
        self.status.setText(f"alignment failed: {failure.message}")
        for plot in self.plots:
            plot.mark_stale("not the current parameters: the alignment failed")
        self.controller.errorOccurred.emit(failure)

    def _on_progress(self, p) -> None:
        counts = f" ({p.done}/{p.total})" if p.total > 0 else ""
        self.status.setText(f"{p.message}{counts}")

    def _clear(self, message: str) -> None:
        self.jobs.cancel()
        self.alignments = ()
        self.status.setText(message)
        for plot in self.plots:
            plot.set_alignment(None, "")
        self.texts.clear()
        self.alignmentsChanged.emit()

    def windows(self) -> list[tuple[int, int] | None]:
        return [
            best_window(al.plan, WINDOW)
            if self.window_box.isChecked() and al.shape[1] > WINDOW
            else None
            for al in self.alignments
        ]

    def _show(self, *_: object) -> None:
        for plot, al, name, win in zip(
            self.plots, self.alignments, self.model_names, self.windows(), strict=False
        ):
            plot.set_alignment(al, name, win)
        self._show_texts()

    def wait_ready(self, timeout_s: float = 600) -> bool:
        """Run the event loop until the pending alignment is shown (screenshots, tests)."""
        if self._timer.isActive():
            self._timer.stop()
            self.recompute()
        if not self.jobs.busy:
            return bool(self.alignments)
        loop = QEventLoop()
        self.alignmentsChanged.connect(loop.quit)
        self.jobs.failed.connect(loop.quit)
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        self.alignmentsChanged.disconnect(loop.quit)
        self.jobs.failed.disconnect(loop.quit)
        return bool(self.alignments)

    # -- exports (the Export menu asks for a file, then calls these) ---------------------------------
    def export_png_to(self, path, model: int = 0, dpi: int = 200) -> bool:
        return align_export.export_png(self, path, model, dpi)

    def export_svg_to(self, path, model: int = 0) -> bool:
        return align_export.export_svg(self, path, model)

    def export_csv_to(self, path, model: int = 0) -> bool:
        return align_export.export_csv(self, path, model)

    def export_json_to(self, path) -> bool:
        return align_export.export_json(self, path)

    # -- hover and click ----------------------------------------------------------------------------
    def _on_hover(self, k: int, i: int, j: int) -> None:
        if k >= len(self.alignments) or i < 0 or j < 0:
            return
        al = self.alignments[k]
        self.hover_label.setText(
            f"{model_letter(self.controller.pair[k])}: "
            f"<b>{html.escape(al.source_tokens[i])}</b> ↔ "
            f"<b>{html.escape(al.target_tokens[j])}</b> · P[{i}, {j}] = {al.plan[i, j]:.3e}"
            f" · C[{i}, {j}] = {al.cost[i, j]:.4f}"
        )

    def _on_click(self, k: int, i: int, j: int) -> None:
        self.select_token(k, i, j)

    def select_token(self, k: int, i: int, j: int) -> None:
        """Highlight row ``i`` and column ``j`` of model ``k``'s plot and their spans."""
        self.selection = (k, i, j)
        for n, plot in enumerate(self.plots):
            plot.heatmap.highlight(i if n == k else -1, j if n == k else -1)
        self._show_texts()

    def _show_texts(self) -> None:
        if self.pair is None or not self.alignments:
            self.texts.clear()
            return
        k, i, j = self.selection
        al = self.alignments[k] if 0 <= k < len(self.alignments) else None
        src = al.source_offsets[i] if al is not None and i >= 0 else None
        tgt = al.target_offsets[j] if al is not None and j >= 0 else None
        self.texts.setHtml(
            f"<p><b>{html.escape(self.pair.source_label)}</b>: "
            f"{_marked(self.pair.source, src)}</p>"
            f"<p><b>{html.escape(self.pair.target_label)}</b>: "
            f"{_marked(self.pair.target, tgt)}</p>"
        )


def _marked(text: str, span: tuple[int, int] | None) -> str:
    if span is None or span[1] <= span[0]:
        return html.escape(text)
    a, b = span
    return (
        html.escape(text[:a])
        + f'<span style="background:#ffd60a">{html.escape(text[a:b])}</span>'
        + html.escape(text[b:])
    )
