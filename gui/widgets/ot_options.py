"""The OT settings of the dashboard's alignment scores, in a drop-down next to the
"OT alignment" check box: solver, ε, τ (unbalanced only), token masses, layer, and how many
parallel questions are scored. The button's text sums them up (e.g. "Sinkhorn ε=0.05")."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from clirlens.core.workspace.dashboard import ALIGNMENT_DEFAULTS

SOLVERS = (  # (label, solver) as the menus show them; the align view uses them too
    ("Sinkhorn", "sinkhorn"),
    ("Sinkhorn (log-domain)", "sinkhorn_log"),
    ("EMD (exact)", "emd"),
    ("Unbalanced", "unbalanced"),
)
WEIGHTS = (("uniform", "uniform"), ("by vector norm", "norm"))


class OtOptionsButton(QToolButton):
    """A tool button whose menu holds the OT settings form. :meth:`options` gives the
    keyword arguments of :func:`clirlens.core.workspace.dashboard.alignment_scores`."""

    changed = Signal()

    def __init__(self, initial: dict[str, Any] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolTip("settings of the OT alignment scores")
        self._fixed: dict[str, Any] = {}  # options without a control (e.g. "pick")
        form_host = QWidget()
        form = QFormLayout(form_host)
        self.solver_box = QComboBox()
        for label, key in SOLVERS:
            self.solver_box.addItem(label, key)
        self.eps_box = QDoubleSpinBox(decimals=4, minimum=0.0005, maximum=1.0, singleStep=0.005)
        self.eps_box.setToolTip("entropic regularisation ε (small: sharper plans, slower)")
        self.tau_box = QDoubleSpinBox(decimals=2, minimum=0.01, maximum=100.0, value=1.0)
        self.tau_box.setToolTip("marginal relaxation τ of unbalanced OT")
        self.weights_box = QComboBox()
        for label, key in WEIGHTS:
            self.weights_box.addItem(label, key)
        self.layer_box = QSpinBox(minimum=-25, maximum=48, value=-1)
        self.layer_box.setToolTip("hidden layer: -1 is the last, 0 the embeddings")
        self.n_box = QSpinBox(minimum=2, maximum=1190, value=100)
        self.n_box.setToolTip("candidates of OT translation retrieval (P@1, MRR)")
        self.pairs_box = QSpinBox(minimum=1, maximum=1190, value=300)
        self.pairs_box.setToolTip("parallel question pairs averaged for the mean OT cost")
        reset = QPushButton("Defaults")
        reset.clicked.connect(lambda: self.set_options(ALIGNMENT_DEFAULTS))
        form.addRow("Solver", self.solver_box)
        form.addRow("ε", self.eps_box)
        form.addRow("τ", self.tau_box)
        form.addRow("Token masses", self.weights_box)
        form.addRow("Layer", self.layer_box)
        form.addRow("Candidates", self.n_box)
        form.addRow("Cost pairs", self.pairs_box)
        form.addRow(reset)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(form_host)
        menu.addAction(action)
        self.setMenu(menu)
        self.set_options({**ALIGNMENT_DEFAULTS, **(initial or {})})
        for box in (self.solver_box, self.weights_box):
            box.currentIndexChanged.connect(self._changed)
        for spin in (self.eps_box, self.tau_box, self.layer_box, self.n_box, self.pairs_box):
            spin.valueChanged.connect(self._changed)

    def set_options(self, options: dict[str, Any]) -> None:
        boxes = {"solver": self.solver_box, "weights": self.weights_box}
        spins = {
            "eps": self.eps_box,
            "tau": self.tau_box,
            "layer": self.layer_box,
            "n": self.n_box,
            "cost_pairs": self.pairs_box,
        }
        self._fixed = {k: v for k, v in options.items() if k not in boxes and k not in spins}
        for key, box in boxes.items():
            if key in options:
                index = box.findData(options[key])
                if index >= 0:
                    box.setCurrentIndex(index)
        for key, spin in spins.items():
            if options.get(key) is not None:
                spin.setValue(options[key])
        self._changed()

    def options(self) -> dict[str, Any]:
        solver = self.solver_box.currentData()
        out: dict[str, Any] = {
            **self._fixed,
            "solver": solver,
            "eps": self.eps_box.value(),
            "weights": self.weights_box.currentData(),
            "layer": self.layer_box.value(),
            "n": self.n_box.value(),
            "cost_pairs": self.pairs_box.value(),
        }
        if solver == "unbalanced":
            out["tau"] = self.tau_box.value()
        return out

    def _changed(self, *_: Any) -> None:
        solver = self.solver_box.currentData()
        self.eps_box.setEnabled(solver != "emd")
        self.tau_box.setEnabled(solver == "unbalanced")
        label = self.solver_box.currentText().split(" (")[0]
        if solver == "sinkhorn_log":
            label = "Sinkhorn log"
        if solver != "emd":
            label += f" ε={self.eps_box.value():g}"
        if solver == "unbalanced":
            label += f" τ={self.tau_box.value():g}"
        self.setText(label)
        self.changed.emit()
