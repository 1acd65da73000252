"""The Distill screen: OT distillation of a low-resource query encoder (OPTICAL), watched.

Choose the teacher (the English retriever whose passage index the student will use), the
student's initialisation, the language and the bitext (the open XQuAD workspace's parallel
questions of some articles, with English self-pairs and paragraphs if wanted, or a file);
Start runs :func:`clirlens.core.distill.run.distill` in this screen's own worker (a
direction being prepared meanwhile is not disturbed), with its progress, time left and
Cancel; Resume continues a cancelled or killed run from its checkpoint. The loss curve and
the held-out R@1 and OT cost update live. At the end the figures (before, after, baselines)
are listed, "Add to workspace" opens the workspace with the student as one more model
(paired with its teacher for passages), and a held-out question's OT plan against its
English parallel is shown before and after distillation side by side.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from clirlens.core.data.xquad import LOW_RESOURCE, load_xquad
from clirlens.core.distill.bitext import parse_articles, read_bitext, xquad_bitext
from clirlens.core.distill.heldout import xquad_heldout
from clirlens.core.distill.run import DistillResult, distill, plans_before_after
from clirlens.core.distill.train import DistillConfig, DistillProgress
from clirlens.core.errors import UserError
from clirlens.core.progress import Eta
from clirlens.core.progress import describe as describe_progress
from clirlens.gui.distill.plots import DistillCurves
from clirlens.gui.services.context import AppContext
from clirlens.gui.services.jobs import Failure, JobRunner
from clirlens.gui.widgets.heatmap import AlignPlot

PRESET_CHOICES = ("me5-small", "webfaq", "tydi")


class DistillView(QWidget):
    """See the module notes."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.controller = context.controller
        self.setObjectName("distillView")
        self.jobs = JobRunner(self)  # its own worker: training never supersedes a direction
        self.result: DistillResult | None = None
        self.heldout = None
        self._eta = Eta()
        self._build()
        self.jobs.progressChanged.connect(self._on_progress)
        self.jobs.busyChanged.connect(self._on_busy)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(lambda _t: self.status.setText("Cancelled: Resume goes on."))
        self.controller.workspaceChanged.connect(self._on_workspace_changed)
        self._on_workspace_changed()
        self._on_busy(False)

    # -- layout -------------------------------------------------------------------------------
    def _combo(self, tip: str) -> QComboBox:
        box = QComboBox()
        box.setEditable(True)
        box.setMinimumContentsLength(18)
        box.setToolTip(tip)
        return box

    def _build(self) -> None:
        self.teacher_box = self._combo("the English retriever: it encodes the passages")
        self.student_box = self._combo("the multilingual encoder the student starts from")
        self.lang_box = QComboBox()
        self.lang_box.addItems(sorted(LOW_RESOURCE))
        self.lang_box.setCurrentText("th")
        self.articles_edit = QLineEdit("0-31")
        self.articles_edit.setToolTip("XQuAD articles trained on; the rest are held out")
        self.english_check = QCheckBox("English pairs")
        self.english_check.setToolTip("each English question paired with itself too")
        self.paragraph_check = QCheckBox("paragraphs")
        self.bitext_edit = QLineEdit()
        self.bitext_edit.setPlaceholderText("or a bitext file: TSV, JSONL, or A.th,A.en")
        browse_bitext = QPushButton("Browse…")
        browse_bitext.clicked.connect(self._browse_bitext)
        self.steps_spin = QSpinBox(minimum=1, maximum=1_000_000, value=150)
        self.batch_spin = QSpinBox(minimum=1, maximum=512, value=16)
        self.lr_spin = QDoubleSpinBox(decimals=6, minimum=1e-6, maximum=1.0, value=5e-5)
        self.lr_spin.setSingleStep(1e-5)
        self.eps_spin = QDoubleSpinBox(decimals=3, minimum=0.005, maximum=10.0, value=0.05)
        self.sentence_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=100.0, value=1.0)
        self.sentence_spin.setToolTip("weight of the sentence-level term beside the OT loss")
        self.head_check = QCheckBox("projection head")
        self.head_check.setChecked(True)
        self.head_check.setToolTip(
            "start from the ridge map fitted on the bitext as a trainable head after pooling"
        )
        self.eval_spin = QSpinBox(minimum=0, maximum=100_000, value=25)
        self.eval_spin.setToolTip("held-out figures every N steps (0: before and after only)")
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        self.out_edit = QLineEdit(str(Path(docs or Path.home()) / "clirlens-student-th"))
        browse_out = QPushButton("Browse…")
        browse_out.clicked.connect(self._browse_out)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(lambda: self.start(resume=False))
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("continue the run in the folder from its checkpoint")
        self.resume_button.clicked.connect(lambda: self.start(resume=True))
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.jobs.cancel)
        self.add_button = QPushButton("Add to workspace")
        self.add_button.setToolTip("open the workspace with the student as one more model")
        self.add_button.clicked.connect(self.add_to_workspace)

        form = QFormLayout()
        models = QHBoxLayout()
        for label, w in (("Teacher", self.teacher_box), ("Student", self.student_box)):
            models.addWidget(QLabel(label))
            models.addWidget(w, 1)
        models.addWidget(QLabel("Language"))
        models.addWidget(self.lang_box)
        form.addRow(models)
        data = QHBoxLayout()
        data.addWidget(QLabel("XQuAD articles"))
        data.addWidget(self.articles_edit)
        data.addWidget(self.english_check)
        data.addWidget(self.paragraph_check)
        data.addWidget(self.bitext_edit, 1)
        data.addWidget(browse_bitext)
        form.addRow("Bitext", data)
        hp = QHBoxLayout()
        for label, w in (("steps", self.steps_spin), ("batch", self.batch_spin),
                         ("lr", self.lr_spin), ("ε", self.eps_spin),
                         ("sentence term", self.sentence_spin), ("evaluate every", self.eval_spin)):  # fmt: skip
            hp.addWidget(QLabel(label))
            hp.addWidget(w)
        hp.addWidget(self.head_check)
        hp.addStretch(1)
        form.addRow("Training", hp)
        out = QHBoxLayout()
        out.addWidget(self.out_edit, 1)
        out.addWidget(browse_out)
        for b in (self.start_button, self.resume_button, self.cancel_button, self.add_button):
            out.addWidget(b)
        form.addRow("Student folder", out)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.curves = DistillCurves()
        self.figures = QLabel()
        self.figures.setObjectName("distillFigures")
        self.figures.setWordWrap(True)
        self.figures.setMaximumWidth(460)
        self.question_box = QComboBox()
        self.question_box.setToolTip("a held-out question: its plan before and after")
        self.question_box.activated.connect(lambda _i: self.show_plans())
        self.plots = (AlignPlot(), AlignPlot())
        plans = QWidget()
        pl = QVBoxLayout(plans)
        pl.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Held-out question"))
        row.addWidget(self.question_box, 1)
        pl.addLayout(row)
        pair = QHBoxLayout()
        for plot in self.plots:
            pair.addWidget(plot, 1)
        pl.addLayout(pair, 1)
        top = QWidget()
        tl = QHBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.curves, 3)
        tl.addWidget(self.figures, 2)
        splitter = QSplitter()
        splitter.setOrientation(splitter.orientation().Vertical)
        splitter.addWidget(top)
        splitter.addWidget(plans)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

    # -- choices ------------------------------------------------------------------------------
    def _on_workspace_changed(self) -> None:
        ws = self.controller.workspace
        models = list(ws.config.models) if ws else []
        for box, default in ((self.teacher_box, 0), (self.student_box, 0)):
            current = box.currentText()
            box.clear()
            box.addItems(list(dict.fromkeys([*models, *PRESET_CHOICES])))
            box.setCurrentText(current or (models[default] if models else "me5-small"))
        if ws is not None and len(models) > 1 and not self.teacher_box.currentText():
            self.teacher_box.setCurrentText(models[1])
        self.status.setText(
            "Choose a teacher, a student and the bitext, then Start."
            if ws is not None and ws.config.kind == "xquad"
            else "Open an XQuAD workspace for its parallel questions, or give a bitext file."
        )

    def _browse_bitext(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Bitext", "", "Bitext (*.tsv *.jsonl *.txt)")
        if path:
            self.bitext_edit.setText(path)

    def _browse_out(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Student folder", self.out_edit.text())
        if path:
            self.out_edit.setText(path)

    def config(self) -> DistillConfig:
        return DistillConfig(
            steps=self.steps_spin.value(),
            batch_size=self.batch_spin.value(),
            lr=self.lr_spin.value(),
            eps=self.eps_spin.value(),
            sentence_weight=self.sentence_spin.value(),
            head=self.head_check.isChecked(),
            eval_every=self.eval_spin.value(),
            checkpoint_every=25,
            dtype=self.controller.workspace.config.dtype if self.controller.workspace else "fp32",
        )

    # -- running ------------------------------------------------------------------------------
    def start(self, resume: bool = False) -> bool:
        """Start (or resume) the run; False, with the reason shown, when it cannot."""
        try:
            job = self._job(resume)
        except UserError as exc:
            self.status.setText(str(exc))
            return False
        self.result = None
        self.curves.clear()
        self.figures.setText("")
        self._eta = Eta()
        self.jobs.start("Distilling", job, self._on_done)
        return True

    def _job(self, resume: bool):
        ws = self.controller.workspace
        lang = self.lang_box.currentText()
        articles = parse_articles(self.articles_edit.text())
        xq = None
        if ws is not None and ws.config.kind == "xquad":
            xq = load_xquad(ws.config.dataset, [lang, "en"])
        if self.bitext_edit.text().strip():
            bitext = read_bitext(self.bitext_edit.text().strip())
        elif xq is not None:
            bitext = xquad_bitext(
                xq, lang, articles, english=self.english_check.isChecked(),
                paragraphs=self.paragraph_check.isChecked(),
            )  # fmt: skip
        else:
            raise UserError("no bitext: open an XQuAD workspace, or choose a bitext file")
        self.heldout = xquad_heldout(xq, lang, articles) if xq is not None else None
        out = Path(self.out_edit.text().strip()).expanduser()
        if not self.out_edit.text().strip():
            raise UserError("choose the student's folder")
        if not resume and out.is_dir() and any(out.iterdir()):
            raise UserError(f"{out} is not empty: choose a new folder, or Resume its run")
        return distill(
            self.teacher_box.currentText().strip(), self.student_box.currentText().strip(),
            lang, bitext, out, self.config(), heldout=self.heldout, resume=resume,
            cache=self.controller.cache,
        )  # fmt: skip

    def _on_progress(self, p) -> None:
        if self.jobs.title != "Distilling":  # the plans before/after: quick, not reported
            return
        if p.total > 0:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        else:
            self.progress.setRange(0, 0)
        self.status.setText(describe_progress(p, self._eta(p)))
        if isinstance(p, DistillProgress) and p.loss is not None:
            self.curves.add_loss(p.step, p.loss)
            if p.evaluation is not None:
                self.curves.add_evaluation(p.step, p.evaluation)

    def _on_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.resume_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.add_button.setEnabled(not busy and self.result is not None)
        self.progress.setVisible(busy)

    def _on_failed(self, failure: Failure) -> None:
        self.status.setText(f"{failure.title} failed: {failure.message}")

    def _on_done(self, result: DistillResult) -> None:
        self.result = result
        self.add_button.setEnabled(True)
        self.status.setText(f"Wrote the student to {result.out}.")
        self.figures.setText(figures_html(result))
        self.curves.set_losses(result.history.loss)
        for step, figures in result.history.evaluations:
            if all(s != step for s, _ in self.curves.evaluations):
                self.curves.add_evaluation(step, figures)
        self.question_box.clear()
        if self.heldout is not None:
            for q, en in zip(self.heldout.queries[:200], self.heldout.parallel, strict=False):
                self.question_box.addItem(q.text, (q.text, en))
            self.show_plans()

    def show_plans(self) -> None:
        """The chosen held-out question's plan against its English parallel, before and
        after distillation (computed in this screen's worker)."""
        if self.result is None or self.question_box.count() == 0:
            return
        source, target = self.question_box.currentData()
        job = plans_before_after(
            self.student_box.currentText().strip(), self.result.out, source, target,
            eps=self.eps_spin.value(),
        )  # fmt: skip
        self.jobs.start("Aligning before and after", job, self._show_plans)

    def _show_plans(self, plans) -> None:
        for plot, al, name in zip(self.plots, plans, ("before", "after"), strict=True):
            plot.set_alignment(al, f"student {name} distillation → teacher")

    def add_to_workspace(self) -> bool:
        ws = self.controller.workspace
        if ws is None or self.result is None:
            return False
        models = (*ws.config.models, str(self.result.out))
        return self.controller.open_workspace(dataclasses.replace(ws.config, models=models))


def figures_html(result: DistillResult) -> str:
    """The held-out figures of a run as a small table (before, after, baselines)."""
    rows = {"student before": result.before, "student after": result.after, **result.baselines}
    head = "".join(f"<th align='right'>&nbsp;{m}</th>" for m in ("R@1", "RR@10", "OT cost"))
    body = ""
    for name, values in rows.items():
        cells = "".join(
            f"<td align='right'>&nbsp;{values[m]:.3f}</td>" if m in values else "<td></td>"
            for m in ("R@1", "RR@10", "ot_cost")
        )
        body += f"<tr><td>{html.escape(name)}</td>{cells}</tr>"
    h = result.history
    steps = (
        f"<p>{len(h.loss)} steps · loss {h.loss[0]:.4f} → {h.loss[-1]:.4f} · "
        f"{result.steps_per_second:.2f} steps/s</p>"
        if h.loss
        else ""
    )
    return f"<table cellspacing='2'><tr><th></th>{head}</tr>{body}</table>{steps}"
