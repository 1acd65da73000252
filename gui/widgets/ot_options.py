"""The OT parameters as controls, built once for every view that sets them.

:class:`OTControls` makes the widgets of an :class:`~clirlens.core.ot.problem.OTParams`
(solver, ε on a log-scale slider with its value beside it, τ for unbalanced OT, token masses,
layer and, where asked for, words instead of sub-word pieces) and turns them into one record;
the align view lays them out in its tool bar. :class:`OtOptionsButton` puts the same
controls, plus the :class:`~clirlens.core.ot.problem.ScoringOptions` (candidates, cost
pairs), in the dashboard's drop-down next to its "OT alignment" check box; its text sums
them up (e.g. "Sinkhorn ε=0.05").
"""

from __future__ import annotations

import dataclasses
import math

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)
from superqt import QDoubleSlider

from clirlens.core.ot.problem import DEFAULT_OT, DEFAULT_SCORING, OTParams, ScoringOptions

SOLVERS = (  # (label, solver) as the menus show them
    ("Sinkhorn", "sinkhorn"),
    ("Sinkhorn (log-domain)", "sinkhorn_log"),
    ("EMD (exact)", "emd"),
    ("Unbalanced", "unbalanced"),
)
WEIGHTS = (("uniform", "uniform"), ("by vector norm", "norm"))
LOG_EPS_RANGE = (-3.0, 0.0)  # the slider holds log10 ε
TAU_DEFAULT = 1.0  # τ shown before the user picks one (unbalanced OT needs some τ)
MAX_LAYERS = 48  # the layer range until a model says how many it has


class EpsilonControl(QWidget):
    """ε on a log-scale slider, its value (3 significant digits) in a spin box beside it;
    either one sets it. The spin box has a fixed width, so the window never grows with ε."""

    valueChanged = Signal(float)

    def __init__(self, value: float = DEFAULT_OT.eps, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(*LOG_EPS_RANGE)
        self.slider.setMinimumWidth(120)
        self.box = QDoubleSpinBox(decimals=4, minimum=10 ** LOG_EPS_RANGE[0], maximum=1.0)
        self.box.setSingleStep(0.005)
        self.box.setFixedWidth(self.box.sizeHint().width())
        self.box.setToolTip("entropic regularisation ε (small: sharper plans, slower)")
        self.slider.setToolTip(self.box.toolTip())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.box)
        self._value = -1.0
        self.setValue(value)
        self.slider.valueChanged.connect(self._on_slider)
        self.box.valueChanged.connect(self._on_box)

    def value(self) -> float:
        return self._value

    def setValue(self, value: float) -> None:
        value = float(f"{min(1.0, max(10 ** LOG_EPS_RANGE[0], value)):.3g}")
        if value == self._value:
            return
        self._value = value
        for w in (self.slider, self.box):
            w.blockSignals(True)
        self.slider.setValue(math.log10(value))
        self.box.setValue(value)
        for w in (self.slider, self.box):
            w.blockSignals(False)
        self.valueChanged.emit(value)

    def _on_slider(self, log_value: float) -> None:
        self.setValue(10.0**log_value)

    def _on_box(self, value: float) -> None:
        self.setValue(value)


class OTControls(QObject):
    """The widgets of one :class:`OTParams` (see the module notes). ``changed`` fires on
    every edit; :meth:`params` reads them, :meth:`set_params` writes them."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None, *, words: bool = False) -> None:
        super().__init__(parent)
        self.solver_box = QComboBox()
        for label, key in SOLVERS:
            self.solver_box.addItem(label, key)
        self.eps = EpsilonControl()
        self.tau_box = QDoubleSpinBox(decimals=2, minimum=0.01, maximum=100.0, value=TAU_DEFAULT)
        self.tau_box.setPrefix("τ = ")
        self.tau_box.setToolTip("marginal relaxation τ of unbalanced OT")
        self.weights_box = QComboBox()
        for label, key in WEIGHTS:
            self.weights_box.addItem(label, key)
        self.weights_box.setToolTip("token masses: uniform, or proportional to the vector norm")
        self.layer_box = QSpinBox(minimum=-(MAX_LAYERS + 1), maximum=MAX_LAYERS, value=-1)
        self.layer_box.setPrefix("layer ")
        self.layer_box.setToolTip("hidden layer: -1 is the last, 0 the embeddings")
        self.words_box = QCheckBox("Words") if words else None
        if self.words_box is not None:
            self.words_box.setToolTip(
                "the text's words (ICU word boundaries, the same for both models) instead of each "
                "model's sub-word pieces; a word's vector is the mean of its pieces' states"
            )
            self.words_box.toggled.connect(self._changed)
        for box in (self.solver_box, self.weights_box):
            box.currentIndexChanged.connect(self._changed)
        for spin in (self.tau_box, self.layer_box):
            spin.valueChanged.connect(self._changed)
        self.eps.valueChanged.connect(self._changed)
        self._enable()

    def params(self) -> OTParams:
        solver = self.solver_box.currentData()
        return OTParams(
            solver=solver,
            eps=0.0 if solver == "emd" else self.eps.value(),
            tau=self.tau_box.value() if solver == "unbalanced" else None,
            weights=self.weights_box.currentData(),
            layer=self.layer_box.value(),
            words=self.words_box.isChecked() if self.words_box is not None else False,
        )

    def set_params(self, params: OTParams) -> None:
        widgets = [self.solver_box, self.eps, self.tau_box, self.weights_box, self.layer_box]
        for w in widgets:
            w.blockSignals(True)
        self.solver_box.setCurrentIndex(max(0, self.solver_box.findData(params.solver)))
        if params.solver != "emd":
            self.eps.setValue(params.eps)
        if params.tau is not None:
            self.tau_box.setValue(params.tau)
        self.weights_box.setCurrentIndex(max(0, self.weights_box.findData(params.weights)))
        self.layer_box.setValue(params.layer)
        if self.words_box is not None:
            self.words_box.setChecked(params.words)
        for w in widgets:
            w.blockSignals(False)
        self._changed()

    def set_layers(self, layers: int | None) -> None:
        """Limit the layer to a model's ``layers`` (-layers-1 … layers); None: no model."""
        n = MAX_LAYERS if layers is None else layers
        self.layer_box.setRange(-(n + 1), n)

    def summary(self) -> str:
        """e.g. "Sinkhorn ε=0.05", "Unbalanced ε=0.01 τ=0.5", "EMD"."""
        solver = self.solver_box.currentData()
        label = self.solver_box.currentText().split(" (")[0]
        if solver == "sinkhorn_log":
            label = "Sinkhorn log"
        if solver != "emd":
            label += f" ε={self.eps.value():g}"
        if solver == "unbalanced":
            label += f" τ={self.tau_box.value():g}"
        return label

    def _enable(self) -> None:
        solver = self.solver_box.currentData()
        self.eps.setEnabled(solver != "emd")
        self.tau_box.setEnabled(solver == "unbalanced")

    def _changed(self, *_: object) -> None:
        self._enable()
        self.changed.emit()


class OtOptionsButton(QToolButton):
    """A tool button whose menu holds the OT settings of the dashboard's alignment scores:
    :meth:`params` and :meth:`scoring` are what :func:`clirlens.core.workspace.pipeline.
    alignment_scores` takes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolTip("settings of the OT alignment scores")
        self.controls = OTControls(self)
        c = self.controls
        self.solver_box, self.eps_box, self.tau_box = c.solver_box, c.eps, c.tau_box
        self.weights_box, self.layer_box = c.weights_box, c.layer_box
        self._pick = DEFAULT_SCORING.pick
        self._pivot = DEFAULT_SCORING.pivot
        self.n_box = QSpinBox(minimum=2, maximum=100_000, value=DEFAULT_SCORING.n)
        self.n_box.setToolTip("candidates of OT translation retrieval (P@1, MRR)")
        self.pairs_box = QSpinBox(minimum=1, maximum=100_000, value=DEFAULT_SCORING.cost_pairs)
        self.pairs_box.setToolTip("parallel question pairs averaged for the mean OT cost")
        reset = QPushButton("Defaults")
        reset.clicked.connect(self.reset)
        form_host = QWidget()
        form = QFormLayout(form_host)
        form.addRow("Solver", c.solver_box)
        form.addRow("ε", c.eps)
        form.addRow("τ", c.tau_box)
        form.addRow("Token masses", c.weights_box)
        form.addRow("Layer", c.layer_box)
        form.addRow("Candidates", self.n_box)
        form.addRow("Cost pairs", self.pairs_box)
        form.addRow(reset)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(form_host)
        menu.addAction(action)
        self.setMenu(menu)
        c.changed.connect(self._changed)
        for spin in (self.n_box, self.pairs_box):
            spin.valueChanged.connect(self._changed)
        self.reset()

    def params(self) -> OTParams:
        return self.controls.params()

    def scoring(self) -> ScoringOptions:
        return ScoringOptions(self._pivot, self.n_box.value(), self.pairs_box.value(), self._pick)

    def set_scoring(self, options: ScoringOptions) -> None:
        """Set the scoring options (``pick`` and ``pivot`` have no control of their own)."""
        self._pick, self._pivot = options.pick, options.pivot
        self.n_box.setValue(options.n)
        if options.cost_pairs is not None:
            self.pairs_box.setValue(options.cost_pairs)
        self._changed()

    def reset(self) -> None:
        """Back to the defaults every path shares (:data:`DEFAULT_OT`, ``DEFAULT_SCORING``)."""
        self.controls.set_params(dataclasses.replace(DEFAULT_OT, tau=None))
        self.set_scoring(DEFAULT_SCORING)

    def _changed(self, *_: object) -> None:
        self.setText(self.controls.summary())
        self.changed.emit()
