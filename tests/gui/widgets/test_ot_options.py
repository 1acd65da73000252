"""The dashboard's OT settings drop-down: what it hands to the alignment scores."""

from __future__ import annotations

from clirlens.core.workspace.dashboard import ALIGNMENT_DEFAULTS
from clirlens.gui.widgets.ot_options import OtOptionsButton


def test_defaults_and_options_without_a_control_pass_through(qtbot):
    button = OtOptionsButton({"n": 20, "pick": "first"})
    qtbot.addWidget(button)
    opts = button.options()
    assert opts["solver"] == ALIGNMENT_DEFAULTS["solver"]
    assert opts["eps"] == ALIGNMENT_DEFAULTS["eps"]
    assert opts["cost_pairs"] == ALIGNMENT_DEFAULTS["cost_pairs"]
    assert (opts["n"], opts["pick"]) == (20, "first")
    assert "tau" not in opts  # only unbalanced OT takes τ
    assert button.text() == "Sinkhorn ε=0.05"


def test_unbalanced_adds_tau_and_emd_disables_eps(qtbot):
    button = OtOptionsButton()
    qtbot.addWidget(button)
    with qtbot.waitSignal(button.changed):
        button.solver_box.setCurrentIndex(button.solver_box.findData("unbalanced"))
    button.tau_box.setValue(0.5)
    button.eps_box.setValue(0.01)
    assert button.tau_box.isEnabled()
    opts = button.options()
    assert (opts["solver"], opts["tau"], opts["eps"]) == ("unbalanced", 0.5, 0.01)
    assert button.text() == "Unbalanced ε=0.01 τ=0.5"
    button.solver_box.setCurrentIndex(button.solver_box.findData("emd"))
    assert not button.eps_box.isEnabled() and not button.tau_box.isEnabled()
    assert button.text() == "EMD"
    button.set_options(ALIGNMENT_DEFAULTS)
    assert button.options()["solver"] == "sinkhorn"
    assert button.text() == "Sinkhorn ε=0.05"


def test_weights_and_layer_are_forwarded(qtbot):
    button = OtOptionsButton()
    qtbot.addWidget(button)
    button.weights_box.setCurrentIndex(button.weights_box.findData("norm"))
    button.layer_box.setValue(6)
    opts = button.options()
    assert (opts["weights"], opts["layer"]) == ("norm", 6)
