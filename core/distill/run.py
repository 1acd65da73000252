"""A whole distillation run, as ``clirlens distill`` and the Distill screen start it.

Order: open the teacher (a dense retriever whose cache already holds, or will keep, its
passage embeddings) and a private copy of the student; measure the held-out figures of the
student's initialisation and the baselines (:mod:`~clirlens.core.distill.heldout`), kept in
``OUT/training/baselines.json`` so a resumed run reports the true "before"; with ``head``,
give the student a projection head fitted on the bitext (measured as one more baseline); train
(:mod:`~clirlens.core.distill.train`); measure again; save the student with its card
(:mod:`~clirlens.core.distill.save`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clirlens.core.distill.bitext import Bitext
from clirlens.core.distill.heldout import HeldOut, Judge
from clirlens.core.distill.linear import fit_ridge
from clirlens.core.distill.save import TRAINING, save_student
from clirlens.core.distill.student import Student
from clirlens.core.distill.train import DistillConfig, DistillProgress, History, train
from clirlens.core.errors import UserError
from clirlens.core.models.spec import STUDENT_FILE, parse_model_arg
from clirlens.core.progress import Job, relabel
from clirlens.core.retrieval.cache import Cache
from clirlens.core.retrieval.retriever import make_retriever
from clirlens.core.version import version


@dataclass(frozen=True)
class DistillResult:
    """Where the student went and what it measured."""

    out: Path
    before: dict[str, float]
    after: dict[str, float]
    baselines: dict[str, dict[str, float]]
    history: History

    @property
    def steps_per_second(self) -> float:
        return len(self.history.loss) / self.history.seconds if self.history.seconds else 0.0


def _arg(model: str) -> str:
    """A ``--model`` value that still means the same model from another directory."""
    head, sep, tail = model.partition(";")
    preset, eq, location = head.partition("=")
    if eq and Path(location).expanduser().is_dir():
        head = f"{preset}={Path(location).expanduser().resolve()}"
    elif Path(head).expanduser().is_dir():
        head = str(Path(head).expanduser().resolve())
    return head + sep + tail


def distill(
    teacher: str,
    student: str,
    lang: str,
    bitext: Bitext,
    out: Path,
    config: DistillConfig,
    *,
    heldout: HeldOut | None = None,
    pivot: str = "en",
    resume: bool = False,
    cache: Cache | None = None,
) -> Job[DistillResult]:
    """The run (module notes); a generator yielding progress, returning the result."""
    config.check()
    out = Path(out).expanduser()
    teacher_spec, student_spec = parse_model_arg(teacher), parse_model_arg(student)
    if teacher_spec.kind != "dense" or student_spec.kind != "dense":
        raise UserError("teacher and student must be dense encoders (not BM25)")
    cache = cache or Cache()
    retriever = make_retriever(teacher_spec, dtype=config.dtype, cache=cache)
    yield DistillProgress(0, 0, f"loading the student {student_spec.name}")
    learner = Student(student_spec, dtype=config.dtype, freeze_embeddings=config.freeze_embeddings)
    judge = None
    before: dict[str, float] = {}
    baselines: dict[str, dict[str, float]] = {}
    saved = out / TRAINING / "baselines.json"
    if heldout is not None:
        judge = Judge(retriever, heldout, eps=config.eps, layer=config.layer)
        yield from relabel(judge.prepare(), "held-out set")
        if resume and saved.is_file():
            kept = json.loads(saved.read_text(encoding="utf-8"))
            before, baselines = kept["before"], kept["baselines"]
        else:
            before = judge.score(learner)
            english = [p.target for p in bitext.pairs]
            baselines = yield from judge.baselines(learner, english)
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(json.dumps({"before": before, "baselines": baselines}), "utf-8")
    if config.head:
        yield DistillProgress(0, 0, "projection head: the ridge map fitted on the bitext")
        lam = yield from init_head(learner, retriever, bitext)
        if judge is not None and not (resume and saved.is_file()):
            baselines[f"head at its start (ridge λ {lam:g} on the bitext)"] = judge.score(learner)
            saved.write_text(json.dumps({"before": before, "baselines": baselines}), "utf-8")
    history = yield from train(
        learner, retriever, bitext, config, out / TRAINING, judge=judge, resume=resume
    )
    after = judge.score(learner) if judge is not None else {}
    figures = {"student before": before, "student after": after, **baselines} if judge else {}
    card = {
        "name": out.name,
        "clirlens": version(),
        "teacher": _arg(teacher),
        "student_init": _arg(student),
        "lang": lang,
        "pivot": pivot,
        "bitext": {"origin": bitext.origin, "pairs": len(bitext), "hash": bitext.hash},
        "heldout": heldout.origin if heldout is not None else None,
        "hyperparameters": asdict(config),
        "steps": len(history.loss),
        "seconds": history.seconds,
        "unconverged_plans": history.unconverged,
        "figures": figures,
        "loss": history.loss,
        "evaluations": history.evaluations,
    }
    save_student(learner, out, card)
    return DistillResult(out, before, after, baselines, history)


def init_head(learner: Student, teacher: Any, bitext: Bitext) -> Job[float]:
    """Give ``learner`` a projection head initialised by the ridge map from its embeddings
    of the bitext's sources to the teacher's of their targets
    (:func:`~clirlens.core.distill.linear.fit_ridge`); returns the chosen λ."""
    x = learner.embed([p.source for p in bitext.pairs])
    y = yield from teacher.encoder.encode([p.target for p in bitext.pairs], "query")
    linear = fit_ridge(x, y)
    learner.init_head(linear.weight, linear.bias)
    return linear.lam


def describe(result: DistillResult) -> str:
    """The figures of a run as a small table for the terminal."""
    rows: dict[str, Any] = {"student before": result.before, "student after": result.after}
    rows.update(result.baselines)
    measures = ("R@1", "RR@10", "ot_cost")
    lines = [f"{'':48} " + " ".join(f"{m:>8}" for m in measures)]
    for name, values in rows.items():
        cells = " ".join(f"{values[m]:8.4f}" if m in values else f"{'':>8}" for m in measures)
        lines.append(f"{name:48} {cells}")
    h = result.history
    if h.loss:
        lines.append(
            f"{len(h.loss)} steps, loss {h.loss[0]:.4f} → {h.loss[-1]:.4f}, "
            f"{result.steps_per_second:.2f} steps/s; written to {result.out}"
        )
    return "\n".join(lines)


def plans_before_after(
    student_init: str,
    student: str | Path,
    source: str,
    target: str,
    *,
    eps: float = 0.05,
    layer: int = -1,
) -> Job[tuple[Any, Any]]:
    """The OT plans between ``source`` (low-resource) under the student's initialisation and
    under the distilled student, each against ``target`` under the teacher: what
    distillation changed, for one held-out question (the teacher is read from the
    student's card)."""
    from clirlens.core.models.encoder import Encoder
    from clirlens.core.ot.alignment import align_states

    after_spec = parse_model_arg(str(student))
    if after_spec.passages is None:
        raise UserError(f"{student} is not a distilled student (no {STUDENT_FILE})")
    before = Encoder(parse_model_arg(student_init), device="cpu")
    after = Encoder(after_spec, device="cpu")
    teacher = Encoder(after_spec.passages, device="cpu")
    (t,) = yield from teacher.token_states([target], "query", layer)
    (s0,) = yield from before.token_states([source], "query", layer)
    (s1,) = yield from after.token_states([source], "query", layer)
    return align_states(s0, t, eps=eps), align_states(s1, t, eps=eps)
