"""Token alignment of two texts by optimal transport (docs/architecture.md §5).

For source tokens ``x_1..x_n`` and target tokens ``y_1..y_m`` (hidden states of one layer,
special and prefix tokens removed, optionally merged into words):

* cost ``C[i, j] = 1 - cos(x_i, y_j)`` (in [0, 2]);
* marginals ``a``, ``b``: uniform ``1/n``, ``1/m`` by default; ``weights="norm"`` makes
  them proportional to the token vectors' norms (Yokoi et al. 2020), or give both arrays;
* plan ``P`` from :func:`clirlens.core.ot.solvers.solve`: Sinkhorn (Cuturi 2013), exact EMD,
  or unbalanced Sinkhorn (Chizat et al. 2018), all through POT (Flamary et al. 2021);
* reported: ``C``, ``P``, the total cost ``<P, C>_F = sum_ij P_ij C_ij``, the marginals, and
  for each token its best partner ``argmax_j P[i, j]`` with that mass (both directions).

The source and target may come from two models with the same hidden size (the
"student vs teacher" comparison of OT distillation); the cosine is then taken across the two
models' spaces, which is only meaningful when one was trained towards the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from clirlens.core.errors import ModelError, UserError
from clirlens.core.ot.batch import token_masses, unit_rows
from clirlens.core.ot.problem import DEFAULT_MAX_ITER, DEFAULT_TOL, WeightScheme
from clirlens.core.ot.scaling import blas_single_thread
from clirlens.core.ot.solvers import solve
from clirlens.core.ot.words import merge_words
from clirlens.core.progress import Job
from clirlens.core.types import TokenStates

if TYPE_CHECKING:
    from clirlens.core.models.encoder import Encoder

Weights = WeightScheme | tuple[Sequence[float], Sequence[float]] | None
Role = Literal["query", "passage"]


@dataclass(frozen=True, eq=False)
class Alignment:
    """An OT alignment between the tokens (or words) of two texts. Arrays are numpy:
    ``cost`` and ``plan`` are float64 ``(n, m)``; ``*_best`` are int ``(n,)`` / ``(m,)``."""

    source_text: str
    target_text: str
    source_tokens: tuple[str, ...]
    target_tokens: tuple[str, ...]
    source_offsets: tuple[tuple[int, int], ...]
    target_offsets: tuple[tuple[int, int], ...]
    cost: np.ndarray
    plan: np.ndarray
    total_cost: float
    source_marginal: np.ndarray
    target_marginal: np.ndarray
    source_best: np.ndarray
    source_best_mass: np.ndarray
    target_best: np.ndarray
    target_best_mass: np.ndarray
    solver: str
    epsilon: float
    tau: float | None
    iterations: int | None
    converged: bool
    source_model: str
    target_model: str
    layer: int
    words: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.source_tokens), len(self.target_tokens))

    @property
    def transported_mass(self) -> float:
        """``sum_ij P_ij``: 1 for balanced solvers, at most about 1 for unbalanced OT."""
        return float(self.plan.sum())

    def top_pairs(self, k: int | None = None) -> list[tuple[int, int, float]]:
        """The ``k`` plan entries with the most mass, as ``(i, j, P_ij)``, strongest first."""
        flat = self.plan.ravel()
        k = flat.size if k is None else min(k, flat.size)
        idx = np.argsort(-flat, kind="stable")[:k]
        m = self.plan.shape[1]
        return [(int(p // m), int(p % m), float(flat[p])) for p in idx]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict (lists and plain numbers only)."""
        return {
            "source_text": self.source_text,
            "target_text": self.target_text,
            "source_tokens": list(self.source_tokens),
            "target_tokens": list(self.target_tokens),
            "source_offsets": [list(o) for o in self.source_offsets],
            "target_offsets": [list(o) for o in self.target_offsets],
            "cost_matrix": self.cost.tolist(),
            "plan": self.plan.tolist(),
            "total_cost": self.total_cost,
            "transported_mass": self.transported_mass,
            "source_marginal": self.source_marginal.tolist(),
            "target_marginal": self.target_marginal.tolist(),
            "source_best": self.source_best.tolist(),
            "source_best_mass": self.source_best_mass.tolist(),
            "target_best": self.target_best.tolist(),
            "target_best_mass": self.target_best_mass.tolist(),
            "solver": self.solver,
            "epsilon": self.epsilon,
            "tau": self.tau,
            "iterations": self.iterations,
            "converged": self.converged,
            "source_model": self.source_model,
            "target_model": self.target_model,
            "layer": self.layer,
            "words": self.words,
        }


def cosine_cost(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``C[i, j] = 1 - cos(x_i, y_j)`` in float64, clipped to [0, 2] against rounding."""
    return np.clip(1.0 - unit_rows(x) @ unit_rows(y).T, 0.0, 2.0)


def check_text(text: str, side: str) -> None:
    if not text or not text.strip():
        raise UserError(f"{side} text is empty")


def _content(states: TokenStates, side: str, words: bool) -> TokenStates:
    check_text(states.text, side)
    content = merge_words(states) if words else states.content()
    if len(content) == 0:
        raise UserError(
            f"{side} text {states.text[:60]!r} tokenises to special tokens only "
            f"under model {states.model!r}"
        )
    if not np.all(np.isfinite(content.vectors)):
        raise ModelError(
            f"model {states.model!r} produced non-finite hidden states for the {side} text"
        )
    return content


def _marginals(x: np.ndarray, y: np.ndarray, weights: Weights) -> tuple[np.ndarray, np.ndarray]:
    if weights is None or isinstance(weights, str):
        scheme = weights or "uniform"
        return token_masses(x, scheme), token_masses(y, scheme)  # type: ignore[arg-type]
    out = []
    for side, w, n in (("source", weights[0], len(x)), ("target", weights[1], len(y))):
        arr = np.asarray(w, dtype=np.float64).ravel()
        if arr.size != n:
            raise UserError(f"{side} weights: {arr.size} values for {n} tokens")
        if not (np.all(np.isfinite(arr)) and np.all(arr >= 0) and arr.sum() > 0):
            raise UserError(f"{side} weights must be non-negative, finite, not all zero")
        out.append(arr / arr.sum())
    return out[0], out[1]


def align_states(
    src: TokenStates,
    tgt: TokenStates,
    *,
    solver: str = "sinkhorn",
    eps: float = 0.05,
    tau: float | None = None,
    weights: Weights = None,
    words: bool = False,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> Alignment:
    """Align two texts' token states (special tokens are dropped here; ``words=True`` merges
    sub-word pieces first, see :mod:`clirlens.core.ot.words`).

    ``solver``: ``"sinkhorn"`` (log-domain automatically when ε < 0.005), ``"sinkhorn_log"``,
    ``"emd"`` (ε ignored, recorded as 0) or ``"unbalanced"`` (needs ``tau``). Raises
    :class:`UserError` for an empty text, a text with no content tokens, bad weights or
    parameters, and :class:`ModelError` when the hidden sizes differ.
    """
    s = _content(src, "source", words)
    t = _content(tgt, "target", words)
    if s.vectors.shape[1] != t.vectors.shape[1]:
        raise ModelError(
            f"hidden sizes differ: {src.model!r} has {s.vectors.shape[1]}, "
            f"{tgt.model!r} has {t.vectors.shape[1]}; cross-model alignment "
            "needs models with the same hidden size"
        )
    with blas_single_thread():
        cost = cosine_cost(s.vectors, t.vectors)
        a, b = _marginals(s.vectors, t.vectors, weights)
        res = solve(cost, a, b, solver=solver, eps=eps, tau=tau, tol=tol, max_iter=max_iter)
    plan = res.plan
    src_best = plan.argmax(axis=1)
    tgt_best = plan.argmax(axis=0)
    return Alignment(
        source_text=src.text,
        target_text=tgt.text,
        source_tokens=s.tokens,
        target_tokens=t.tokens,
        source_offsets=s.offsets,
        target_offsets=t.offsets,
        cost=cost,
        plan=plan,
        total_cost=float(np.sum(plan * cost)),
        source_marginal=a,
        target_marginal=b,
        source_best=src_best,
        source_best_mass=plan[np.arange(len(a)), src_best],
        target_best=tgt_best,
        target_best_mass=plan[tgt_best, np.arange(len(b))],
        solver=res.solver,
        epsilon=0.0 if res.solver == "emd" else float(eps),
        tau=float(tau) if res.solver == "unbalanced" and tau is not None else None,
        iterations=res.iterations,
        converged=res.converged,
        source_model=src.model,
        target_model=tgt.model,
        layer=src.layer,
        words=words,
    )


def align_texts(
    source: str,
    target: str,
    encoder: Encoder,
    encoder2: Encoder | None = None,
    *,
    layer: int = -1,
    words: bool = False,
    source_role: Role = "query",
    target_role: Role = "query",
    solver: str = "sinkhorn",
    eps: float = 0.05,
    tau: float | None = None,
    weights: Weights = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> Job[Alignment]:
    """Encode ``source`` with ``encoder`` and ``target`` with ``encoder2`` (default: the
    same encoder) at ``layer`` and align them (:func:`align_states`). A generator: yields
    progress while encoding, returns the :class:`Alignment`.

    Texts are checked before any model is loaded; with two encoders their hidden sizes are
    compared before anything is encoded (:class:`ModelError` when they differ).
    """
    check_text(source, "source")
    check_text(target, "target")
    other = encoder2 if encoder2 is not None else encoder
    if other is not encoder and encoder.hidden_size != other.hidden_size:
        raise ModelError(
            f"hidden sizes differ: {encoder.name!r} has {encoder.hidden_size}, "
            f"{other.name!r} has {other.hidden_size}; cross-model alignment "
            "needs models with the same hidden size"
        )
    if other is encoder and source_role == target_role:
        src, tgt = yield from encoder.token_states([source, target], source_role, layer)
    else:
        (src,) = yield from encoder.token_states([source], source_role, layer)
        (tgt,) = yield from other.token_states([target], target_role, layer)
    return align_states(
        src,
        tgt,
        solver=solver,
        eps=eps,
        tau=tau,
        weights=weights,
        words=words,
        tol=tol,
        max_iter=max_iter,
    )
