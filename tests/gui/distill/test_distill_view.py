"""The Distill screen with a tiny teacher and student on XQuAD: live curves, Cancel and
Resume, the figures, the plans before and after, and the student joining the workspace."""

from __future__ import annotations

import numpy as np
import pytest

from clirlens.core.distill.run import plans_before_after
from clirlens.core.progress import run
from clirlens.core.workspace.config import WorkspaceConfig

from ...core.tiny_models import make_tiny_bert
from ..helpers import wait_prepared

pytestmark = [pytest.mark.xquad, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("pair")
    return make_tiny_bert(root / "teacher", seed=1), make_tiny_bert(root / "student", seed=2)


def test_distill_screen_runs_cancels_resumes_and_adds_the_student(
    window, xquad_dir, tiny_pair, tmp_path, qtbot
):
    teacher, student = map(str, tiny_pair)
    c = window.controller
    config = WorkspaceConfig(str(xquad_dir), models=(student, teacher), query_langs=("th",),
                             doc_langs=("en",), subset=1)  # fmt: skip
    assert window.open_workspace(config)
    wait_prepared(qtbot, c)
    window.show_view("distill")
    view = window.views["distill"]
    view.teacher_box.setCurrentText(teacher)
    view.student_box.setCurrentText(student)
    view.articles_edit.setText("0-3")
    view.steps_spin.setValue(6)
    view.batch_spin.setValue(8)
    view.eval_spin.setValue(3)
    view.lr_spin.setValue(1e-3)
    out = tmp_path / "student"
    view.out_edit.setText(str(out))

    # cancelled after its second step, then resumed to the end
    def cancel_at_two(p):
        if getattr(p, "step", 0) >= 2 and view.jobs.busy:
            view.jobs.cancel()

    view.jobs.progressChanged.connect(cancel_at_two)
    assert view.start()
    qtbot.waitUntil(lambda: not view.jobs.busy, timeout=300_000)
    view.jobs.progressChanged.disconnect(cancel_at_two)
    assert view.result is None and "Cancelled" in view.status.text()
    assert (out / "training" / "checkpoint.pt").is_file()
    assert view.start() is False and "not empty" in view.status.text()  # Start would overwrite
    assert view.start(resume=True)
    qtbot.waitUntil(lambda: view.result is not None and not view.jobs.busy, timeout=300_000)
    result = view.result
    assert len(result.history.loss) == 6 and [s for s, _ in result.history.evaluations] == [3, 6]
    assert view.curves.evaluations and view.curves.steps == [1, 2, 3, 4, 5, 6]
    assert "student after" in view.figures.text() and "linear map" in view.figures.text()
    # the plans of a held-out question, before and after
    qtbot.waitUntil(lambda: all(p.alignment is not None for p in view.plots), timeout=120_000)
    before, after = (p.alignment for p in view.plots)
    window.grab().save(str(tmp_path / "distill.png"))  # looked at by hand
    assert before.shape[0] == after.shape[0] and before.target_tokens == after.target_tokens
    # the student joins the workspace; its passages are the teacher's
    assert view.add_to_workspace()
    wait_prepared(qtbot, c)
    assert c.workspace.config.models[-1] == str(out)
    retriever = c.workspace.retriever(2, "en")
    assert retriever.passage_encoder.name == "teacher"
    assert retriever.encoder.spec.source == str(out)  # (named student#2: its folder is "student")

    # the align view: the student's plan beside its initialisation's, both against the
    # teacher, equal to what the Distill screen computes (plans_before_after)
    c.set_pair(2, 1)
    window.show_view("align")
    align = window.views["align"]
    qtbot.waitUntil(lambda: align.distill_box.isVisible(), timeout=60_000)
    align.distill_box.setChecked(True)
    qtbot.waitUntil(
        lambda: len(align.alignments) == 2 and align.model_names[0].startswith("before"),
        timeout=120_000,
    )
    pair = align.pair
    ref_before, ref_after = run(plans_before_after(student, out, pair.source, pair.target))
    np.testing.assert_allclose(align.alignments[0].plan, ref_before.plan, atol=1e-6)
    np.testing.assert_allclose(align.alignments[1].plan, ref_after.plan, atol=1e-6)
    np.testing.assert_allclose(align.alignments[1].cost, ref_after.cost, atol=1e-6)
    assert not np.allclose(ref_before.cost, ref_after.cost, atol=1e-4)  # distillation moved it
    window.grab().save(str(tmp_path / "align-before-after.png"))
