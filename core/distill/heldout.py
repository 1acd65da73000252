"""Held-out evaluation of a student, and the baselines every run is judged against.

The held-out set is XQuAD's questions of the articles the student did not train on, in the
low-resource language, retrieved against **all** English paragraphs by the teacher's
passage embeddings (the index the student will be used with). Measured per evaluation:
R@1 and RR@10 (ir-measures, :func:`clirlens.core.evaluation.metrics.evaluate`) and the mean
OT cost ``<P, C>`` between each held-out question (student's token states) and its English
parallel (teacher's), Sinkhorn at the training ε with uniform masses.

Baselines (:meth:`Judge.baselines`): the teacher alone on the low-resource questions; the
student's initialisation (its "before"); a linear map fitted on the English side only (the
ridge map ``student(en) W + b ≈ teacher(en)`` over the training bitext's English sentences,
:mod:`~clirlens.core.distill.linear`, applied to the student's low-resource embeddings): the trivial fix a
distillation must beat; and the teacher on the English questions, the upper bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clirlens.core.distill.bitext import query_articles
from clirlens.core.distill.linear import fit_ridge
from clirlens.core.evaluation.metrics import evaluate
from clirlens.core.ot.scaling import blas_single_thread, solve_padded
from clirlens.core.progress import Job
from clirlens.core.types import Passage, Progress, Qrels, Query, Run, ScoredPassage

MEASURES = ("R@1", "RR@10")


@dataclass(frozen=True)
class HeldOut:
    """Held-out low-resource questions, their English parallels, the English paragraphs."""

    queries: tuple[Query, ...]
    parallel: tuple[str, ...]
    corpus: tuple[Passage, ...]
    qrels: Qrels
    origin: str


def xquad_heldout(xquad, lang: str, train_articles: frozenset[int], pivot: str = "en") -> HeldOut:
    """The questions of the articles outside ``train_articles``."""
    task = xquad.task(lang, pivot)
    by_article = query_articles(task)
    queries = tuple(q for q in task.queries if by_article.get(q.id, -1) not in train_articles)
    parallel = tuple(task.parallel[q.id].text for q in queries)
    qrels = Qrels({q.id: dict(task.qrels.data[q.id]) for q in queries})
    held = sorted({by_article[q.id] for q in queries})
    span = f"{held[0]}-{held[-1]}" if held else "none"
    origin = (
        f"XQuAD {lang} questions of articles {span} ({len(queries)}) against all "
        f"{len(task.corpus)} {pivot} paragraphs"
    )
    return HeldOut(queries, parallel, task.corpus, qrels, origin)


def mean_ot_cost(
    student: Sequence[np.ndarray], teacher: Sequence[np.ndarray], eps: float, chunk: int = 64
) -> float:
    """Mean Sinkhorn cost between paired token-state sets (uniform masses, C = 1 - cos)."""
    costs = []
    for start in range(0, len(student), chunk):
        s, t = student[start : start + chunk], teacher[start : start + chunk]
        n, m, b = max(len(x) for x in s), max(len(x) for x in t), len(s)
        cost, a, bm = np.zeros((b, n, m)), np.zeros((b, n)), np.zeros((b, m))
        for k, (x, y) in enumerate(zip(s, t, strict=True)):
            xu = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
            yu = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
            cost[k, : len(x), : len(y)] = np.clip(1.0 - xu @ yu.T, 0.0, 2.0)
            a[k, : len(x)], bm[k, : len(y)] = 1.0 / len(x), 1.0 / len(y)
        with blas_single_thread():
            total, _, _, _ = solve_padded(cost, a, bm, solver="sinkhorn", eps=eps)
        costs.append(total)
    return float(np.concatenate(costs).mean()) if costs else float("nan")


class Judge:
    """Scores query embeddings and token states on a :class:`HeldOut` set (module notes).
    :meth:`prepare` encodes the English side with the teacher once."""

    def __init__(self, teacher: Any, heldout: HeldOut, *, eps: float = 0.05, layer: int = -1):
        self.teacher = teacher  # a DenseRetriever (its cache holds the passage embeddings)
        self.heldout = heldout
        self.eps = eps
        self.layer = layer
        self.passages: np.ndarray | None = None
        self.parallel_states: list[np.ndarray] = []

    def prepare(self) -> Job[None]:
        yield from self.teacher.prepare(self.heldout.corpus)
        self.passages = self.teacher.passage_vectors
        states = yield from self.teacher.encoder.token_states(
            list(self.heldout.parallel), "query", self.layer
        )
        self.parallel_states = [st.content().vectors for st in states]

    def retrieval(self, query_vectors: np.ndarray, name: str = "student") -> dict[str, float]:
        """R@1 and RR@10 of ``query_vectors`` (one per held-out question, in order)."""
        assert self.passages is not None, "prepare() first"
        scores = np.asarray(query_vectors, dtype=np.float32) @ self.passages.T
        top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
        ids = [p.id for p in self.heldout.corpus]
        run = Run(
            name,
            {
                q.id: tuple(
                    ScoredPassage(ids[j], float(scores[i, j]), r + 1) for r, j in enumerate(row)
                )
                for i, (q, row) in enumerate(zip(self.heldout.queries, top, strict=True))
            },
        )
        ev = evaluate(run, self.heldout.qrels, MEASURES)
        return {m: float(ev.aggregate[m]) for m in MEASURES}

    def score(self, student: Any) -> dict[str, float]:
        """R@1, RR@10 and the mean OT cost of ``student`` (a :class:`Student`)."""
        texts = [q.text for q in self.heldout.queries]
        out = self.retrieval(student.embed(texts))
        out["ot_cost"] = mean_ot_cost(
            student.states(texts, self.layer), self.parallel_states, self.eps
        )
        return out

    def baselines(self, student: Any, train_english: Sequence[str]) -> Job[dict[str, dict]]:
        """Teacher on the low-resource questions, the linear map, teacher on English."""
        texts = [q.text for q in self.heldout.queries]
        enc = self.teacher.encoder
        yield Progress(0, 3, "baselines: teacher on the held-out questions")
        teacher_lr = yield from enc.encode(texts, "query")
        teacher_en = yield from enc.encode(list(self.heldout.parallel), "query")
        yield Progress(1, 3, "baselines: linear map (English side)")
        english = list(dict.fromkeys(train_english))
        y = yield from enc.encode(english, "query")
        linear = fit_ridge(student.embed(english), y)
        mapped = linear.apply(student.embed(texts)).astype(np.float32)
        if enc.spec.normalize:
            mapped /= np.maximum(np.linalg.norm(mapped, axis=1, keepdims=True), 1e-12)
        yield Progress(3, 3, "baselines")
        return {
            "teacher on the low-resource questions": self.retrieval(teacher_lr, "teacher"),
            "linear map (fitted on English)": self.retrieval(mapped, "linear map"),
            "teacher on the English questions (upper bound)": self.retrieval(teacher_en),
        }
