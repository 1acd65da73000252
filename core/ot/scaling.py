"""Batched scaling loops for padded OT problems (Sinkhorn, log-domain Sinkhorn, unbalanced).

``solve_padded`` solves ``B`` problems stacked as ``C`` (B, n, m), ``a`` (B, n), ``b`` (B, m),
each problem's real tokens first and the rest padding with zero mass.

**Padding is exact.** A padded row (column) has mass ``a_i = 0`` (``b_j = 0``) and its
scaling starts at 0, so ``v = b / K^T u`` and ``u = a / K v`` see exactly the sums of the
unpadded problem and padded entries of ``P = diag(u) K diag(v)`` stay 0 (in the log domain
they are ``-inf``; in the unbalanced problem ``K = exp(-C/ε) ⊙ a b^T`` vanishes there).
Every problem runs the same iteration as the single-pair POT solver in
:mod:`clirlens.core.ot.solvers` (same initialisation up to a constant that cancels in
``P``, same update order, same stopping rule and check interval) and leaves the batch as
soon as it has converged, so plans agree with one POT call per problem to rounding (~1e-15)
and iteration counts are identical (tested; only a problem that fails numerically may
report a few iterations more, see ``_sinkhorn``). The matrix-vector products are batched
``matmul`` calls. EMD has no batched form here: it loops over ``ot.emd``.

Unbalanced OT with ε < :data:`~clirlens.core.ot.problem.LOG_DOMAIN_BELOW` runs in the log domain and stops when the scalings' change
``(max |Δ log u| + max |Δ log v|) / 2`` is below ``tol``.

Formulas and references: :mod:`clirlens.core.ot.solvers` (Cuturi 2013; Chizat et al. 2018;
Flamary et al. 2021).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from clirlens.core.ot.problem import DEFAULT_MAX_ITER, DEFAULT_TOL, LOG_DOMAIN_BELOW, resolve_solver

_controller: Any = None
_controller_lock = threading.Lock()


@contextmanager
def blas_single_thread() -> Iterator[None]:
    """Limit the BLAS library (OpenBLAS or MKL) to one thread while the block runs.

    The products here are small (a few thousand entries per problem); splitting them over
    threads costs more in synchronisation than it gains, and when other processes share the
    cores the waiting threads stall (measured: scoring parallel questions ran about twice
    as fast single-threaded on two cores). The limit is process-wide (threadpoolctl) and restored on exit; callers that
    are generators must not hold it across a ``yield``. A no-op without threadpoolctl.
    """
    global _controller
    with _controller_lock:
        if _controller is None:
            try:
                from threadpoolctl import ThreadpoolController
            except ImportError:  # pragma: no cover - scikit-learn brings it
                _controller = False
            else:
                _controller = ThreadpoolController()
    if _controller is False:
        yield
        return
    with _controller.limit(limits=1, user_api="blas"):
        yield


def solve_padded(
    cost: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    solver: str = "sinkhorn",
    eps: float = 0.05,
    tau: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    return_plans: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Solve ``B`` padded problems: ``cost`` (B, n, m), marginals ``a`` (B, n), ``b`` (B, m)
    with zeros on padding, each summing to 1. Returns ``(cost <P,C>_F, iterations,
    converged, plans or None)``, each indexed by problem."""
    method = resolve_solver(solver, eps, tau)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    # what padding holds is irrelevant to the problem: make it 0 so exp(-C/ε) stays finite
    real = (a > 0)[:, :, None] & (b > 0)[:, None, :]
    cost = np.where(real, np.asarray(cost, dtype=np.float64), 0.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if method == "emd":
            return _emd_loop(cost, a, b, return_plans)
        if method == "sinkhorn":
            plans, it, ok = _sinkhorn(cost, a, b, eps, tol, max_iter)
        elif method == "sinkhorn_log":
            plans, it, ok = _sinkhorn_log(cost, a, b, eps, tol, max_iter)
        else:
            plans, it, ok = _unbalanced(cost, a, b, eps, float(tau), tol, max_iter)
    total = np.einsum("bij,bij->b", plans, cost)
    return total, it, ok, (plans if return_plans else None)


def _mv(k: np.ndarray, v: np.ndarray) -> np.ndarray:  # K v, batched
    return np.matmul(k, v[:, :, None])[:, :, 0]


def _mtv(k: np.ndarray, u: np.ndarray) -> np.ndarray:  # K^T u, batched
    return np.matmul(u[:, None, :], k)[:, 0, :]


def _lse(x: np.ndarray, axis: int) -> np.ndarray:
    """log-sum-exp that tolerates all ``-inf`` slices (result ``-inf``)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.sum(np.exp(x - m), axis=axis)) + np.squeeze(m, axis=axis)


class _Active:
    """Book-keeping of the problems still iterating (converged ones leave the batch)."""

    def __init__(self, size: int, max_iter: int) -> None:
        self.idx = np.arange(size)
        self.iterations = np.full(size, max_iter, dtype=np.int64)
        self.converged = np.zeros(size, dtype=bool)

    def finish(self, leave: np.ndarray, it: int, ok: np.ndarray) -> np.ndarray:
        """Record problems leaving after iteration ``it`` (0-based); return the keep mask."""
        gone = self.idx[leave]
        self.iterations[gone] = it + 1
        self.converged[gone] = ok[leave]
        self.idx = self.idx[~leave]
        return ~leave


def _sinkhorn(c, a, b, eps, tol, max_iter):
    """Batched ``v <- b / K^T u``, ``u <- a / K v``. As POT: the column-marginal error is
    checked every 10th iteration, and on a numerical failure (a zero or non-finite sum) the
    last finite scalings are returned, unconverged; the failure is looked for at the checks
    only, so such a problem reports up to 9 iterations more than POT would."""
    k = np.exp(-c / eps)
    u_all = (a > 0).astype(np.float64)  # POT starts at 1/n: a constant that cancels in P
    v_all = np.zeros_like(b)
    act = _Active(len(c), max_iter)
    ka, aa, ba, ua, va = k, a, b, u_all.copy(), v_all.copy()
    safe_u, safe_v = ua, va  # the scalings at the last check
    ktu = _mtv(ka, ua)
    for it in range(max_iter):
        va = ba / ktu
        ua = aa / _mv(ka, va)
        ktu = _mtv(ka, ua)
        check = it % 10 == 0
        if not (check or it == max_iter - 1):
            continue
        bad = ~(
            np.isfinite(ua).all(1)
            & np.isfinite(va).all(1)
            & (((ktu > 0) & np.isfinite(ktu)) | (ba == 0)).all(1)
        )
        if check:
            done = (np.linalg.norm(va * ktu - ba, axis=1) < tol) & ~bad
        else:
            done = np.zeros(len(ua), dtype=bool)
        if bad.any():
            ua = np.where(bad[:, None], safe_u, ua)
            va = np.where(bad[:, None], safe_v, va)
        leave = done | bad
        if leave.any():
            u_all[act.idx[leave]] = ua[leave]
            v_all[act.idx[leave]] = va[leave]
            keep = act.finish(leave, it, done)
            ka, aa, ba, ua, va, ktu = (x[keep] for x in (ka, aa, ba, ua, va, ktu))
            if not len(act.idx):
                break
        safe_u, safe_v = ua, va
    if len(act.idx):
        u_all[act.idx], v_all[act.idx] = ua, va
    plans = u_all[:, :, None] * k * v_all[:, None, :]
    return plans, act.iterations, act.converged


def _sinkhorn_log(c, a, b, eps, tol, max_iter):
    logk = -c / eps
    loga, logb = np.log(a), np.log(b)  # -inf on padding
    lu_all = np.where(a > 0, 0.0, -np.inf)
    lv_all = np.full_like(b, -np.inf)
    act = _Active(len(c), max_iter)
    ka, la, lb, lu = logk, loga, logb, lu_all.copy()
    bb = b
    for it in range(max_iter):
        lv = lb - _lse(ka + lu[:, :, None], axis=1)
        lu = la - _lse(ka + lv[:, None, :], axis=2)
        if it % 10 == 0:
            cols = np.exp(_lse(ka + lu[:, :, None] + lv[:, None, :], axis=1))
            err = np.linalg.norm(np.where(bb > 0, cols, 0.0) - bb, axis=1)
            done = err < tol
            bad = ~np.isfinite(err)
            leave = done | bad
            if leave.any():
                lu_all[act.idx[leave]] = lu[leave]
                lv_all[act.idx[leave]] = lv[leave]
                keep = act.finish(leave, it, done)
                ka, la, lb, lu, bb = ka[keep], la[keep], lb[keep], lu[keep], bb[keep]
                if not len(act.idx):
                    break
    if len(act.idx):
        lu_all[act.idx], lv_all[act.idx] = lu, lv
    plans = np.exp(logk + lu_all[:, :, None] + lv_all[:, None, :])
    return plans, act.iterations, act.converged


def _unbalanced(c, a, b, eps, tau, tol, max_iter):
    fi = tau / (tau + eps)
    if eps < LOG_DOMAIN_BELOW:
        return _unbalanced_log(c, a, b, eps, fi, tol, max_iter)
    k = np.exp(-c / eps) * a[:, :, None] * b[:, None, :]  # reference measure a b^T
    u_all = (a > 0).astype(np.float64)
    v_all = (b > 0).astype(np.float64)
    act = _Active(len(c), max_iter)
    ka, aa, ba, ua, va = k, a, b, u_all.copy(), v_all.copy()
    for it in range(max_iter):
        u_prev, v_prev = ua, va
        ua = np.where(aa > 0, (aa / _mv(ka, va)) ** fi, 0.0)
        ktu = _mtv(ka, ua)
        va = np.where(ba > 0, (ba / ktu) ** fi, 0.0)
        bad = ((ktu == 0) & (ba > 0)).any(1) | ~(np.isfinite(ua).all(1) & np.isfinite(va).all(1))
        ua = np.where(bad[:, None], u_prev, ua)
        va = np.where(bad[:, None], v_prev, va)
        err_u = np.abs(ua - u_prev).max(1) / np.maximum(
            np.maximum(np.abs(ua).max(1), np.abs(u_prev).max(1)), 1.0
        )
        err_v = np.abs(va - v_prev).max(1) / np.maximum(
            np.maximum(np.abs(va).max(1), np.abs(v_prev).max(1)), 1.0
        )
        done = (0.5 * (err_u + err_v) < tol) & ~bad
        leave = done | bad
        if leave.any():
            u_all[act.idx[leave]] = ua[leave]
            v_all[act.idx[leave]] = va[leave]
            # POT counts an iteration that hit a numerical error as not done
            act_it = np.where(bad[leave], it - 1, it)
            gone = act.idx[leave]
            keep = act.finish(leave, it, done)
            act.iterations[gone] = act_it + 1
            ka, aa, ba, ua, va = ka[keep], aa[keep], ba[keep], ua[keep], va[keep]
            if not len(act.idx):
                break
    if len(act.idx):
        u_all[act.idx], v_all[act.idx] = ua, va
    plans = u_all[:, :, None] * k * v_all[:, None, :]
    return plans, act.iterations, act.converged


def _unbalanced_log(c, a, b, eps, fi, tol, max_iter):
    """Unbalanced scaling in the log domain (small ε); stops when the scalings' relative
    change ``max |Δ log u| + max |Δ log v|`` (halved) is below ``tol``."""
    real_a, real_b = a > 0, b > 0
    loga, logb = np.log(a), np.log(b)
    logk = -c / eps + loga[:, :, None] + logb[:, None, :]
    lu_all = np.where(real_a, 0.0, -np.inf)
    lv_all = np.where(real_b, 0.0, -np.inf)
    act = _Active(len(c), max_iter)
    ka, la, lb, ra, rb, lu, lv = logk, loga, logb, real_a, real_b, lu_all.copy(), lv_all.copy()
    for it in range(max_iter):
        lu_prev, lv_prev = lu, lv
        lu = np.where(ra, fi * (la - _lse(ka + lv[:, None, :], axis=2)), -np.inf)
        lv = np.where(rb, fi * (lb - _lse(ka + lu[:, :, None], axis=1)), -np.inf)
        du = np.where(ra, np.abs(lu - lu_prev), 0.0).max(1)
        dv = np.where(rb, np.abs(lv - lv_prev), 0.0).max(1)
        err = 0.5 * (du + dv)
        done = err < tol
        bad = ~np.isfinite(err)
        leave = done | bad
        if leave.any():
            lu_all[act.idx[leave]] = lu[leave]
            lv_all[act.idx[leave]] = lv[leave]
            keep = act.finish(leave, it, done)
            ka, la, lb, ra, rb, lu, lv = (x[keep] for x in (ka, la, lb, ra, rb, lu, lv))
            if not len(act.idx):
                break
    if len(act.idx):
        lu_all[act.idx], lv_all[act.idx] = lu, lv
    plans = np.exp(logk + lu_all[:, :, None] + lv_all[:, None, :])
    return plans, act.iterations, act.converged


def _emd_loop(c, a, b, return_plans):
    import ot

    size = len(c)
    total = np.zeros(size)
    ok = np.zeros(size, dtype=bool)
    plans = np.zeros_like(c) if return_plans else None
    for p in range(size):
        rows, cols = np.flatnonzero(a[p] > 0), np.flatnonzero(b[p] > 0)
        sub = np.ascontiguousarray(c[p][np.ix_(rows, cols)])
        plan, log = ot.emd(a[p, rows], b[p, cols], sub, log=True)
        total[p] = float(np.sum(plan * sub))
        ok[p] = int(log["result_code"]) == 1
        if plans is not None:
            plans[p][np.ix_(rows, cols)] = plan
    return total, np.full(size, -1, dtype=np.int64), ok, plans
