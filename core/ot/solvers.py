"""Transport plans for one cost matrix, computed with POT (Flamary et al. 2021).

Given a cost matrix ``C`` (n x m) and marginals ``a`` (n), ``b`` (m), each summing to 1:

**EMD** (exact, ε = 0), solved by network simplex (``ot.emd``)::

    P* = argmin_{P in U(a, b)} <P, C>_F,   U(a, b) = {P >= 0 : P 1 = a, P^T 1 = b}

**Sinkhorn** (entropic, Cuturi 2013; ``ot.sinkhorn``)::

    P_ε = argmin_{P in U(a, b)} <P, C>_F - ε H(P),   H(P) = -sum_ij P_ij (log P_ij - 1)

whose solution is ``P = diag(u) K diag(v)`` with ``K = exp(-C / ε)``, found by alternating
``v <- b / (K^T u)``, ``u <- a / (K v)``. The log-domain variant (``method="sinkhorn_log"``)
iterates ``log u``, ``log v`` with log-sum-exp and cannot underflow; it is used when
ε < :data:`LOG_DOMAIN_BELOW`. Cosine costs lie in [0, 2], so at or above that threshold
``K >= e^-400 ≈ 1e-174`` stays inside float64 (which underflows near 1e-308, i.e. below
ε ≈ 0.0028) and the plain iteration, several times faster, gives the same plans (checked on
random and extreme problems, costs all 0 or 2 or all ≈ 1.9, at ε = 0.005: plain and
log-domain plans agree to 1e-14 with no numerical failure).
Both stop when the column marginal error ``||P^T 1 - b||_2 < tol`` (checked every 10
iterations, as POT does); after each ``u`` update ``P 1 = a`` holds to rounding.

**Unbalanced** (KL-relaxed marginals, Chizat et al. 2018; ``ot.unbalanced.sinkhorn_unbalanced``
with ``reg_type="kl"``)::

    P = argmin_{P >= 0} <P, C>_F + ε KL(P | a b^T) + τ KL(P 1 | a) + τ KL(P^T 1 | b)

with the generalised KL ``KL(p|q) = sum p log(p/q) - p + q``; scaling iterations
``u <- (a / K v)^(τ/(τ+ε))``, ``v <- (b / K^T u)^(τ/(τ+ε))`` with ``K = exp(-C/ε) ⊙ a b^T``,
stopped when the relative change of ``u`` and ``v`` is below ``tol``. Mass that has no cheap
counterpart is not transported, so unaligned tokens stay visibly unaligned; τ -> ∞ recovers
the balanced problem. For ε < :data:`LOG_DOMAIN_BELOW` the same iteration runs in the log
domain (:mod:`clirlens.core.ot.scaling`; it stops when ``max |Δ log u| + max |Δ log v|``,
halved, is below ``tol``): POT 0.9.7's stabilised variant was measured to stop far from the
optimum on random problems, and its plain one underflows below ε ≈ 0.003.

Rows or columns with zero mass are removed before solving and put back as zeros (exact: a
zero-mass token receives and sends nothing in any of the three problems).

References: M. Cuturi, *Sinkhorn Distances: Lightspeed Computation of Optimal Transport*,
NeurIPS 2013. L. Chizat, G. Peyré, B. Schmitzer, F.-X. Vialard, *Scaling algorithms for
unbalanced optimal transport problems*, Math. Comp. 87, 2018. R. Flamary et al., *POT:
Python Optimal Transport*, JMLR 22(78), 2021.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.ot.problem import DEFAULT_MAX_ITER, DEFAULT_TOL, LOG_DOMAIN_BELOW, resolve_solver
from clirlens.core.ot.scaling import blas_single_thread, solve_padded


@dataclass(frozen=True, eq=False)
class PlanResult:
    """A transport plan and how it was obtained. ``solver`` is the method actually run
    (``"sinkhorn"`` becomes ``"sinkhorn_log"`` for small ε); ``iterations`` is ``None`` for
    EMD (network simplex reports no iteration count). ``converged``: the stopping rule was
    met within ``max_iter`` without numerical failure (EMD: the simplex reached optimality).
    """

    plan: np.ndarray
    solver: str
    iterations: int | None
    converged: bool


def solve(
    cost: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    solver: str = "sinkhorn",
    eps: float = 0.05,
    tau: float | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> PlanResult:
    """The transport plan for ``cost`` between marginals ``a`` and ``b`` (see module notes).

    ``cost`` is float64 (n, m); ``a``, ``b`` are non-negative with positive sums (they are
    normalised to sum to 1).
    """
    method = resolve_solver(solver, eps, tau)
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if cost.shape != (a.size, b.size) or a.size == 0 or b.size == 0:
        raise UserError(
            f"OT problem shapes do not match: cost {cost.shape}, marginals {a.size} and {b.size}"
        )
    a, b = a / a.sum(), b / b.sum()
    rows, cols = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    if rows.size < a.size or cols.size < b.size:
        sub = solve(
            cost[np.ix_(rows, cols)],
            a[rows],
            b[cols],
            solver=method,
            eps=eps,
            tau=tau,
            tol=tol,
            max_iter=max_iter,
        )
        full = np.zeros_like(cost)
        full[np.ix_(rows, cols)] = sub.plan
        return PlanResult(full, sub.solver, sub.iterations, sub.converged)
    if method == "emd":
        return _emd(cost, a, b)
    if method == "sinkhorn_log":
        return _sinkhorn_log(cost, a, b, eps, tol, max_iter)
    if method == "sinkhorn":
        return _sinkhorn(cost, a, b, method, eps, tol, max_iter)
    return _unbalanced(cost, a, b, eps, float(tau), tol, max_iter)


def _emd(cost: np.ndarray, a: np.ndarray, b: np.ndarray) -> PlanResult:
    import ot

    plan, log = ot.emd(a, b, cost, log=True)
    return PlanResult(np.asarray(plan), "emd", None, int(log["result_code"]) == 1)


def _sinkhorn(
    cost: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    method: str,
    eps: float,
    tol: float,
    max_iter: int,
) -> PlanResult:
    import ot

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan, log = ot.sinkhorn(
            a, b, cost, eps, method=method, numItermax=max_iter, stopThr=tol, log=True, warn=True
        )
    errors = log.get("err") or [np.inf]
    failed = any("numerical errors" in str(w.message) for w in caught)
    converged = bool(errors[-1] < tol) and not failed and bool(np.all(np.isfinite(plan)))
    return PlanResult(np.asarray(plan), method, int(log["niter"]) + 1, converged)


def _sinkhorn_log(
    cost: np.ndarray, a: np.ndarray, b: np.ndarray, eps: float, tol: float, max_iter: int
) -> PlanResult:
    """Log-domain Sinkhorn through the batched loop of :mod:`clirlens.core.ot.scaling` with a
    batch of one: the same iteration, stopping rule and check interval as POT's
    ``sinkhorn_log`` (plans agree to ~1e-15 with identical iteration counts, tested), and
    faster on a heatmap-sized problem, where POT's generic log-sum-exp dominates its
    iteration (``benchmarks/bench_ot.py``)."""
    with blas_single_thread():
        return _solve_one(cost, a, b, "sinkhorn_log", eps=eps, tol=tol, max_iter=max_iter)


def _solve_one(
    cost: np.ndarray, a: np.ndarray, b: np.ndarray, solver: str, **params: float
) -> PlanResult:
    """One problem through the batched log-domain loop of :mod:`clirlens.core.ot.scaling`."""
    _, iterations, converged, plans = solve_padded(
        cost[None], a[None], b[None], solver=solver, return_plans=True, **params
    )
    assert plans is not None
    return PlanResult(plans[0], solver, int(iterations[0]), bool(converged[0]))


def _unbalanced(
    cost: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    eps: float,
    tau: float,
    tol: float,
    max_iter: int,
) -> PlanResult:
    if eps < LOG_DOMAIN_BELOW:
        # POT 0.9.7's "sinkhorn_stabilized" was measured to stop far from the optimum on
        # random problems (plan entries off by orders of magnitude) and the plain scaling
        # underflows below ε ≈ 0.003: use the log-domain scaling of the scaling module.
        return _solve_one(cost, a, b, "unbalanced", eps=eps, tau=tau, tol=tol, max_iter=max_iter)
    import ot

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan, log = ot.unbalanced.sinkhorn_unbalanced(
            a,
            b,
            cost,
            eps,
            tau,
            method="sinkhorn",
            reg_type="kl",
            numItermax=max_iter,
            stopThr=tol,
            log=True,
        )
    errors = log.get("err") or [np.inf]
    failed = any("umerical errors" in str(w.message) for w in caught)
    converged = bool(errors[-1] < tol) and not failed and bool(np.all(np.isfinite(plan)))
    # POT records the error once per completed iteration
    return PlanResult(np.asarray(plan), "unbalanced", len(errors), converged)
