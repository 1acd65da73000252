"""Many small OT problems at once: token sets and padded batches.

Scoring a language needs thousands of token-pair problems (n, m ≈ 10-50 tokens each):
every parallel pair for the mean cost, and N x N pairs for translation retrieval. A loop of
POT calls spends its time in per-call overhead; here problems of similar size are padded
to a common shape ``(B, n, m)`` with zero-mass entries (exact, see
:mod:`clirlens.core.ot.scaling`) and iterated together. Cost matrices come from one
batched product per chunk (:func:`paired_costs`) or, for all pairs of two lists, from the
Gram matrix of a block's tokens (:func:`cross_costs`); items are sorted by length so blocks
pad little.

Why not ``ot.solve_batch`` (POT >= 0.9.6)? ``benchmarks/bench_ot.py`` runs both, and a
loop of ``ot.sinkhorn`` calls, on the same padded batches (figures in the README): this
module is several times faster than ``solve_batch`` and far faster than the loop.
``solve_batch`` forms ``K * v`` broadcasts rather than matrix-vector
products, checks the row marginal instead of POT's usual column check, and keeps every
problem of a batch iterating until the slowest has converged, so its costs differ from the
loop's by up to 1e-10; here each problem stops exactly where the loop would (identical
iteration counts, costs equal to ~1e-16).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.ot.problem import DEFAULT_MAX_ITER, DEFAULT_TOL, WeightScheme, resolve_solver
from clirlens.core.ot.scaling import blas_single_thread, solve_padded
from clirlens.core.progress import Job, Throttle
from clirlens.core.types import Progress, TokenStates

MAX_ENTRIES = 2_000_000  # cost-matrix entries per padded batch (16 MB in float64)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, in float64 (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def token_masses(vectors: np.ndarray, scheme: WeightScheme = "uniform") -> np.ndarray:
    """A text's token marginal: uniform ``1/n``, or ``"norm"``: proportional to each token
    vector's L2 norm (as in word rotator's distance, Yokoi et al. 2020)."""
    n = len(vectors)
    if scheme == "uniform":
        return np.full(n, 1.0 / n)
    if scheme == "norm":
        w = np.linalg.norm(np.asarray(vectors, dtype=np.float64), axis=1)
        if not w.sum() > 0:
            return np.full(n, 1.0 / n)
        return w / w.sum()
    raise UserError(f"unknown token weighting {scheme!r} (uniform or norm)")


@dataclass(frozen=True, eq=False)
class TokenSets:
    """The content tokens of several texts, unit-normalised and concatenated.

    Text ``k`` owns rows ``starts[k] : starts[k] + lengths[k]`` of ``vectors``; ``masses``
    holds each token's share of its text's unit mass.
    """

    vectors: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    masses: np.ndarray

    @classmethod
    def from_states(
        cls, states: Sequence[TokenStates], weights: WeightScheme = "uniform"
    ) -> TokenSets:
        vecs, masses, lengths = [], [], []
        for k, st in enumerate(states):
            c = st.content() if any(st.special) else st
            if len(c) == 0:
                raise UserError(
                    f"text {k} ({st.text[:40]!r}) has no content tokens under model {st.model!r}"
                )
            vecs.append(unit_rows(c.vectors))
            masses.append(token_masses(c.vectors, weights))
            lengths.append(len(c))
        if not vecs:
            raise UserError("no texts to align")
        dims = {v.shape[1] for v in vecs}
        if len(dims) > 1:
            raise UserError(f"token vectors of different sizes in one set: {sorted(dims)}")
        lengths_a = np.asarray(lengths, dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths_a)[:-1]]).astype(np.int64)
        return cls(np.concatenate(vecs), starts, lengths_a, np.concatenate(masses))

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def padded_index(self, items: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
        """Row indices ``(len(items), width)`` (padding repeats a valid row) and masses
        (padding has mass 0)."""
        pos = np.arange(width)[None, :]
        lengths = self.lengths[items][:, None]
        rows = self.starts[items][:, None] + np.minimum(pos, lengths - 1)
        return rows, np.where(pos < lengths, self.masses[rows], 0.0)


@dataclass(frozen=True, eq=False)
class BatchResult:
    """OT costs ``<P, C>_F`` of many problems (any shape), with per-problem iteration
    counts (-1 where the solver reports none, i.e. EMD) and convergence flags."""

    cost: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    solver: str
    epsilon: float
    tau: float | None


def _cosine_cost(dots: np.ndarray) -> np.ndarray:
    return np.clip(1.0 - dots, 0.0, 2.0)


def _paired_batches(
    src: TokenSets, tgt: TokenSets, pairs: np.ndarray, max_entries: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(positions in ``pairs``, C, a, b) for chunks of pairs sorted by size; a chunk ends
    when padding would make it more than 1.5x its pairs' own entries (or too big)."""
    n_len, m_len = src.lengths[pairs[:, 0]], tgt.lengths[pairs[:, 1]]
    order = np.lexsort((m_len, n_len))
    start = 0
    while start < len(order):
        first = order[start]
        n_max, m_max, tight = int(n_len[first]), int(m_len[first]), int(n_len[first] * m_len[first])
        stop = start + 1
        while stop < len(order) and stop - start < 512:
            k = order[stop]
            n2, m2 = max(n_max, int(n_len[k])), max(m_max, int(m_len[k]))
            padded = (stop - start + 1) * n2 * m2
            tight2 = tight + int(n_len[k] * m_len[k])
            if padded > max_entries or (stop - start >= 8 and padded > 1.5 * tight2):
                break
            n_max, m_max, tight, stop = n2, m2, tight2, stop + 1
        pos = order[start:stop]
        rows, a = src.padded_index(pairs[pos, 0], n_max)
        cols, b = tgt.padded_index(pairs[pos, 1], m_max)
        dots = np.einsum("bnd,bmd->bnm", src.vectors[rows], tgt.vectors[cols], optimize=True)
        yield pos, _cosine_cost(dots), a, b
        start = stop


def _cross_batches(
    src: TokenSets, tgt: TokenSets, max_entries: int, block: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(source items, target items, C, a, b) for blocks of every source x target pair.

    Items are sorted by length so each block pads little; a block's costs come from one
    Gram matrix of its tokens, gathered into the padded (S*T, n, m) layout."""
    s_order = np.argsort(src.lengths, kind="stable")
    t_order = np.argsort(tgt.lengths, kind="stable")
    for s0 in range(0, len(s_order), block):
        s_items = s_order[s0 : s0 + block]
        n_max = int(src.lengths[s_items].max())
        t0 = 0
        while t0 < len(t_order):
            t1 = t0 + 1
            while (
                t1 < len(t_order)
                and t1 - t0 < block
                and len(s_items) * (t1 - t0 + 1) * n_max * int(tgt.lengths[t_order[t1]])
                <= max_entries
            ):
                t1 += 1
            t_items = t_order[t0:t1]
            m_max = int(tgt.lengths[t_items].max())
            rows, a_s = src.padded_index(s_items, n_max)
            cols, b_t = tgt.padded_index(t_items, m_max)
            s_tok, s_loc = np.unique(rows, return_inverse=True)
            t_tok, t_loc = np.unique(cols, return_inverse=True)
            gram = src.vectors[s_tok] @ tgt.vectors[t_tok].T
            s_loc, t_loc = s_loc.reshape(rows.shape), t_loc.reshape(cols.shape)
            dots = gram[s_loc[:, None, :, None], t_loc[None, :, None, :]]
            size = len(s_items) * len(t_items)
            c = _cosine_cost(dots.reshape(size, n_max, m_max))
            a = np.repeat(a_s, len(t_items), axis=0)
            b = np.tile(b_t, (len(s_items), 1))
            yield s_items, t_items, c, a, b
            t0 = t1


def _check_dims(src: TokenSets, tgt: TokenSets) -> None:
    if src.dim != tgt.dim:
        raise UserError(
            f"token vectors differ in size: {src.dim} (source) vs {tgt.dim} "
            "(target); the cost 1 - cos needs the same hidden size"
        )


def paired_costs(
    src: TokenSets,
    tgt: TokenSets,
    pairs: np.ndarray | None = None,
    *,
    solver: str = "sinkhorn",
    eps: float = 0.05,
    tau: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    max_entries: int = MAX_ENTRIES,
    message: str = "OT pairs",
) -> Job[BatchResult]:
    """OT cost of ``src[i]`` vs ``tgt[j]`` for each row ``(i, j)`` of ``pairs`` (default:
    ``(k, k)`` for every k). A generator: yields :class:`Progress`, returns a
    :class:`BatchResult` with one entry per pair, in the order of ``pairs``."""
    _check_dims(src, tgt)
    method = resolve_solver(solver, eps, tau)
    if pairs is None:
        if len(src) != len(tgt):
            raise UserError(f"cannot pair {len(src)} source texts with {len(tgt)} targets")
        pairs = np.repeat(np.arange(len(src))[:, None], 2, axis=1)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    total = len(pairs)
    cost = np.zeros(total)
    iters = np.zeros(total, dtype=np.int64)
    ok = np.zeros(total, dtype=bool)
    throttle, done = Throttle(0.25), 0
    yield Progress(0, total, message)
    batches = _paired_batches(src, tgt, pairs, max_entries)
    while True:
        with blas_single_thread():  # never held across a yield
            item = next(batches, None)
            if item is None:
                break
            pos, c, a, b = item
            cost[pos], iters[pos], ok[pos], _ = solve_padded(
                c, a, b, solver=method, eps=eps, tau=tau, tol=tol, max_iter=max_iter
            )
        done += len(pos)
        if throttle() or done == total:
            yield Progress(done, total, message)
    return BatchResult(cost, iters, ok, method, 0.0 if method == "emd" else eps, tau)


def cross_costs(
    src: TokenSets,
    tgt: TokenSets,
    *,
    solver: str = "sinkhorn",
    eps: float = 0.05,
    tau: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    max_entries: int = MAX_ENTRIES,
    block: int = 32,
    message: str = "OT all pairs",
) -> Job[BatchResult]:
    """OT cost of every ``src[i]`` vs every ``tgt[j]``: a :class:`BatchResult` whose arrays
    have shape ``(len(src), len(tgt))``. A generator yielding :class:`Progress`."""
    _check_dims(src, tgt)
    method = resolve_solver(solver, eps, tau)
    shape = (len(src), len(tgt))
    cost = np.zeros(shape)
    iters = np.zeros(shape, dtype=np.int64)
    ok = np.zeros(shape, dtype=bool)
    total, done, throttle = shape[0] * shape[1], 0, Throttle(0.25)
    yield Progress(0, total, message)
    batches = _cross_batches(src, tgt, max_entries, block)
    while True:
        with blas_single_thread():  # never held across a yield
            item = next(batches, None)
            if item is None:
                break
            s_items, t_items, c, a, b = item
            res = solve_padded(c, a, b, solver=method, eps=eps, tau=tau, tol=tol, max_iter=max_iter)
            grid = np.ix_(s_items, t_items)
            for out, val in zip((cost, iters, ok), res[:3], strict=True):
                out[grid] = val.reshape(len(s_items), len(t_items))
        done += c.shape[0]
        if throttle() or done == total:
            yield Progress(done, total, message)
    return BatchResult(cost, iters, ok, method, 0.0 if method == "emd" else eps, tau)
