"""The OT settings controls: what the dashboard's drop-down and the align view hand on."""

from __future__ import annotations

from clirlens.core.ot.problem import DEFAULT_OT, DEFAULT_SCORING, OTParams, ScoringOptions
from clirlens.gui.widgets.ot_options import OTControls, OtOptionsButton


def test_defaults_and_options_without_a_control_pass_through(qtbot):
    button = OtOptionsButton()
    qtbot.addWidget(button)
    button.set_scoring(ScoringOptions(n=20, pick="first"))
    params, scoring = button.params(), button.scoring()
    assert params.solver == DEFAULT_OT.solver
    assert params.eps == DEFAULT_OT.eps
    assert scoring.cost_pairs == DEFAULT_SCORING.cost_pairs
    assert (scoring.n, scoring.pick) == (20, "first")
    assert params.tau is None  # only unbalanced OT takes τ
    assert button.text() == "Sinkhorn ε=0.05"


def test_unbalanced_adds_tau_and_emd_disables_eps(qtbot):
    button = OtOptionsButton()
    qtbot.addWidget(button)
    with qtbot.waitSignal(button.changed):
        button.solver_box.setCurrentIndex(button.solver_box.findData("unbalanced"))
    button.tau_box.setValue(0.5)
    button.eps_box.setValue(0.01)
    assert button.tau_box.isEnabled()
    params = button.params()
    assert (params.solver, params.tau, params.eps) == ("unbalanced", 0.5, 0.01)
    assert button.text() == "Unbalanced ε=0.01 τ=0.5"
    button.solver_box.setCurrentIndex(button.solver_box.findData("emd"))
    assert not button.eps_box.isEnabled() and not button.tau_box.isEnabled()
    assert button.text() == "EMD"
    button.reset()
    assert button.params() == DEFAULT_OT and button.scoring() == DEFAULT_SCORING
    assert button.text() == "Sinkhorn ε=0.05"


def test_weights_and_layer_are_forwarded(qtbot):
    button = OtOptionsButton()
    qtbot.addWidget(button)
    button.weights_box.setCurrentIndex(button.weights_box.findData("norm"))
    button.layer_box.setValue(6)
    params = button.params()
    assert (params.weights, params.layer) == ("norm", 6)


def test_controls_round_trip_and_limit_the_layer(qtbot):
    controls = OTControls(words=True)
    wanted = OTParams("unbalanced", 0.02, 0.7, "norm", 3, True)
    controls.set_params(wanted)
    assert controls.params() == wanted
    controls.set_layers(6)  # a 6-layer model: -7 … 6
    controls.layer_box.setValue(8)
    assert controls.layer_box.value() == 6 and controls.layer_box.minimum() == -7
    controls.eps.slider.setValue(-2.0)  # the log-scale slider and the box agree
    assert controls.eps.value() == 0.01 and controls.eps.box.value() == 0.01
