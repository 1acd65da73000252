"""Distillation as a job: train a student query encoder against a frozen teacher on bitext.

Each step takes the next ``batch_size`` pairs of a seeded order (a new permutation per epoch,
``numpy.random.RandomState(seed + epoch)``), runs the student on the low-resource side
(:class:`~clirlens.core.distill.student.Student`), and minimises

    loss = <P, C> (:func:`~clirlens.core.distill.loss.ot_loss`)
           + w * ||u/|u| - v/|v|||^2 (:func:`~clirlens.core.distill.loss.sentence_loss`, w ≥ 0)

with AdamW (weight decay 0.01, gradients clipped to norm 1), the learning rate warmed up
linearly over ``warmup`` steps and then decayed linearly to 0 at the last step. The teacher
is frozen, so its token states and embeddings of the English side are computed once before
the first step.

**Checkpoints and resume.** Every ``checkpoint_every`` steps, and when the job is cancelled
(closed at a yield), the trainable weights, AdamW's state, the step and the history are
written atomically to ``OUT/checkpoint.pt``; ``resume=True`` continues from there. Because
the data order is a function of the seed and the step, and the student runs without dropout,
a resumed run reaches the same weights as one that never stopped (tested bit for bit).

Progress records are :class:`DistillProgress`: the step, the loss and, every ``eval_every``
steps, the held-out figures, for live curves.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clirlens.core.distill.bitext import Bitext
from clirlens.core.distill.heldout import Judge
from clirlens.core.distill.loss import ot_loss, sentence_loss
from clirlens.core.distill.student import Student
from clirlens.core.errors import UserError
from clirlens.core.progress import Job, Throttle
from clirlens.core.types import Progress

CHECKPOINT = "checkpoint.pt"


@dataclass(frozen=True)
class DistillConfig:
    """The hyper-parameters of a run (recorded in the student's card)."""

    steps: int | None = None  # None: ``epochs`` passes over the bitext
    epochs: int = 1
    batch_size: int = 16
    lr: float = 2e-5
    warmup: int = 10
    eps: float = 0.05
    layer: int = -1
    weights: str = "uniform"
    sentence_weight: float = 0.0
    head: bool = False  # a projection head initialised by the ridge map fitted on the bitext
    freeze_embeddings: bool = True
    dtype: str = "fp32"
    seed: int = 0
    checkpoint_every: int = 50
    eval_every: int = 0  # 0: held-out figures before and after only

    def total_steps(self, pairs: int) -> int:
        per_epoch = max(1, math.ceil(pairs / self.batch_size))
        return self.steps if self.steps is not None else self.epochs * per_epoch

    def check(self) -> None:
        for name in ("epochs", "batch_size", "checkpoint_every"):
            if getattr(self, name) <= 0:
                raise UserError(f"{name.replace('_', '-')} must be positive")
        if self.steps is not None and self.steps <= 0:
            raise UserError("steps must be positive")
        if not self.lr > 0 or not self.eps > 0:
            raise UserError("the learning rate and ε must be positive")
        if self.sentence_weight < 0 or self.warmup < 0 or self.eval_every < 0:
            raise UserError("sentence weight, warm-up and eval-every cannot be negative")


@dataclass(frozen=True, eq=False)
class DistillProgress(Progress):
    """A training step's progress, with what the curves plot."""

    step: int = 0
    loss: float | None = None
    evaluation: dict[str, float] | None = None


@dataclass
class History:
    """Per-step losses and the held-out figures at each evaluation."""

    loss: list[float] = field(default_factory=list)
    ot: list[float] = field(default_factory=list)
    evaluations: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    unconverged: int = 0
    seconds: float = 0.0


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> np.ndarray:
    """The pairs of step ``step`` (0-based): the step's slice of its epoch's permutation."""
    per_epoch = max(1, math.ceil(n / batch_size))
    epoch, k = divmod(step, per_epoch)
    order = np.random.RandomState(seed + epoch).permutation(n)
    return order[k * batch_size : (k + 1) * batch_size]


def _pad(rows: list[np.ndarray]):
    import torch

    n = max(len(r) for r in rows)
    out = torch.zeros((len(rows), n, rows[0].shape[1]))
    mask = torch.zeros((len(rows), n), dtype=torch.bool)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.from_numpy(np.asarray(r, dtype=np.float32))
        mask[i, : len(r)] = True
    return out, mask


def _schedule(step: int, total: int, warmup: int) -> float:
    if warmup and step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def _save_checkpoint(path: Path, student: Student, optim: Any, step: int, history: History):
    import torch

    trainable = student.named_trainable()
    state = {
        "step": step,
        "weights": {k: v.detach().clone() for k, v in trainable.items()},
        "optimizer": optim.state_dict(),
        "history": asdict(history),
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path, student: Student, optim: Any) -> tuple[int, History]:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        named = student.named_trainable()
        with torch.no_grad():
            for k, v in state["weights"].items():
                named[k].copy_(v)
        optim.load_state_dict(state["optimizer"])
        h = state["history"]
    except (OSError, KeyError, RuntimeError, ValueError) as exc:
        raise UserError(
            f"{path} cannot be resumed from ({type(exc).__name__}): start again without --resume"
        ) from None
    history = History(h["loss"], h["ot"], [tuple(e) for e in h["evaluations"]], h["unconverged"])
    history.seconds = h.get("seconds", 0.0)
    return int(state["step"]), history


def train(
    student: Student,
    teacher: Any,
    bitext: Bitext,
    config: DistillConfig,
    out: Path,
    *,
    judge: Judge | None = None,
    resume: bool = False,
) -> Job[History]:
    """Train ``student`` against ``teacher`` (a dense retriever) on ``bitext``; checkpoints in
    ``out``. A generator yielding :class:`DistillProgress`; returns the :class:`History`."""
    import torch

    config.check()
    if student.out_size != teacher.encoder.hidden_size:
        raise UserError(
            f"the student has hidden size {student.out_size} but the teacher "
            f"{teacher.encoder.hidden_size}: choose a student with the teacher's hidden size, "
            "or give it a projection head (--head)"
        )
    torch.manual_seed(config.seed)
    out.mkdir(parents=True, exist_ok=True)
    sources = [p.source for p in bitext.pairs]
    targets = [p.target for p in bitext.pairs]
    yield DistillProgress(0, len(targets), "teacher: token states of the English side")
    states = yield from teacher.encoder.token_states(targets, "query", config.layer)
    teacher_states = [st.content().vectors for st in states]
    teacher_vecs = None
    if config.sentence_weight > 0:
        teacher_vecs = yield from teacher.encoder.encode(targets, "query")
    total = config.total_steps(len(bitext))
    optim = torch.optim.AdamW(student.parameters(), lr=config.lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda s: _schedule(s, total, config.warmup))
    step, history = 0, History()
    ckpt = out / CHECKPOINT
    if resume:
        if not ckpt.is_file():
            raise UserError(f"nothing to resume: {ckpt} does not exist (start without --resume)")
        step, history = _load_checkpoint(ckpt, student, optim)
        sched.last_epoch = step - 1
        sched.step()  # the learning rate of ``step``
    throttle, started, saved = Throttle(0.5), time.perf_counter(), step
    try:
        while step < total:
            idx = batch_indices(len(bitext), config.batch_size, config.seed, step)
            s_states, s_mask, pooled = student.forward([sources[i] for i in idx], config.layer)
            t_states, t_mask = _pad([teacher_states[i] for i in idx])
            loss, _, bad = ot_loss(
                s_states, s_mask, t_states, t_mask, eps=config.eps, weights=config.weights
            )
            ot_value = float(loss.detach())
            if teacher_vecs is not None:
                target = torch.from_numpy(teacher_vecs[idx])
                loss = loss + config.sentence_weight * sentence_loss(pooled, target)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            optim.step()
            sched.step()
            step += 1
            history.loss.append(float(loss.detach()))
            history.ot.append(ot_value)
            history.unconverged += bad
            evaluation = None
            if judge is not None and config.eval_every and step % config.eval_every == 0:
                evaluation = judge.score(student)
                history.evaluations.append((step, evaluation))
            if step % config.checkpoint_every == 0 or step == total:
                history.seconds += time.perf_counter() - started
                started = time.perf_counter()
                _save_checkpoint(ckpt, student, optim, step, history)
                saved = step
            if throttle() or evaluation is not None or step == total:
                yield DistillProgress(
                    step, total, f"distilling: loss {history.loss[-1]:.4f}", step,
                    history.loss[-1], evaluation,
                )  # fmt: skip
    finally:
        if step != saved:  # cancelled (or failed) between checkpoints: keep what was done
            history.seconds += time.perf_counter() - started
            _save_checkpoint(ckpt, student, optim, step, history)
    return history
