"""OT solvers on random problems: marginals, optimality, agreement with POT's reference calls."""

from __future__ import annotations

import numpy as np
import ot
import pytest
from scipy.optimize import linear_sum_assignment

from clirlens.core.errors import UserError
from clirlens.core.ot.problem import LOG_DOMAIN_BELOW, resolve_solver
from clirlens.core.ot.solvers import solve

RNG = np.random.default_rng(20240601)


def problem(n: int, m: int, rng=RNG, uniform: bool = False):
    cost = rng.uniform(0.0, 2.0, (n, m))
    if uniform:
        return cost, np.full(n, 1 / n), np.full(m, 1 / m)
    a, b = rng.uniform(0.1, 1.0, n), rng.uniform(0.1, 1.0, m)
    return cost, a / a.sum(), b / b.sum()


def unbalanced_residual(plan, cost, a, b, eps, tau):
    """First-order optimality of <P,C> + ε KL(P|ab^T) + τ KL(P1|a) + τ KL(P^T1|b):
    C_ij + ε log(P_ij / a_i b_j) + τ log(r_i / a_i) + τ log(c_j / b_j) = 0 for all i, j
    (checked where P_ij has not underflowed)."""
    r, c = plan.sum(1), plan.sum(0)
    seen = plan > 1e-250
    grad = (
        cost
        + eps * np.log(np.where(seen, plan, 1.0) / np.outer(a, b))
        + tau * np.log(r / a)[:, None]
        + tau * np.log(c / b)[None, :]
    )
    assert seen.sum(1).all() and seen.sum(0).all()
    return np.abs(grad[seen]).max()


@pytest.mark.parametrize(
    "solver, eps",
    [
        ("sinkhorn", 0.05),
        ("sinkhorn", 0.5),
        ("sinkhorn_log", 0.02),
        ("sinkhorn", 0.002),
        ("emd", 0.0),
    ],
)
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (8, 8), (13, 40), (32, 256)])
def test_balanced_marginals_to_1e6(solver, eps, shape):
    cost, a, b = problem(*shape)
    res = solve(cost, a, b, solver=solver, eps=eps, max_iter=50_000)
    assert res.converged
    assert res.plan.shape == shape and np.all(res.plan >= 0)
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-6, rtol=0)
    np.testing.assert_allclose(res.plan.sum(0), b, atol=1e-6, rtol=0)
    if solver == "sinkhorn" and eps < LOG_DOMAIN_BELOW:
        assert res.solver == "sinkhorn_log"


@pytest.mark.parametrize("n", [1, 2, 5, 17, 40])
def test_emd_on_square_uniform_problem_is_the_optimal_assignment(n):
    for trial in range(5):
        cost, a, b = problem(n, n, np.random.default_rng(n * 100 + trial), uniform=True)
        res = solve(cost, a, b, solver="emd")
        rows, cols = linear_sum_assignment(cost)
        assert np.sum(res.plan * cost) == pytest.approx(cost[rows, cols].sum() / n, abs=1e-12)
        # Birkhoff: a vertex of the assignment polytope, i.e. a permutation matrix / n
        perm = np.zeros((n, n))
        perm[rows, cols] = 1.0 / n
        if len(np.unique(cost)) == cost.size:  # optimum unique for generic costs
            np.testing.assert_allclose(res.plan, perm, atol=1e-12)
        assert res.iterations is None and res.converged


def test_emd_lower_bounds_sinkhorn_and_sinkhorn_approaches_it():
    cost, a, b = problem(12, 9)
    exact = np.sum(solve(cost, a, b, solver="emd").plan * cost)
    values = [np.sum(solve(cost, a, b, eps=eps).plan * cost) for eps in (0.5, 0.1, 0.02, 0.004)]
    assert all(v >= exact - 1e-9 for v in values)
    assert values == sorted(values, reverse=True)
    assert values[-1] - exact < 0.02


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")  # same for both at ε=0.002
@pytest.mark.parametrize("shape", [(6, 9), (20, 11)])
def test_plans_agree_with_pot_reference_calls(shape):
    cost, a, b = problem(*shape)
    ref = {
        ("sinkhorn", 0.1): ot.sinkhorn(a, b, cost, 0.1, stopThr=1e-9, numItermax=10_000),
        ("sinkhorn_log", 0.1): ot.sinkhorn(
            a, b, cost, 0.1, method="sinkhorn_log", stopThr=1e-9, numItermax=10_000
        ),
        ("sinkhorn", 0.002): ot.sinkhorn(
            a, b, cost, 0.002, method="sinkhorn_log", stopThr=1e-9, numItermax=10_000
        ),
        ("emd", 0.0): ot.emd(a, b, cost),
    }
    for (solver, eps), want in ref.items():
        got = solve(cost, a, b, solver=solver, eps=eps).plan
        np.testing.assert_allclose(got, want, atol=1e-12, err_msg=f"{solver} {eps}")
    want = ot.unbalanced.sinkhorn_unbalanced(
        a, b, cost, 0.1, 0.7, reg_type="kl", stopThr=1e-9, numItermax=10_000
    )
    got = solve(cost, a, b, solver="unbalanced", eps=0.1, tau=0.7).plan
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize(
    "eps, tau", [(0.1, 0.7), (0.05, 5.0), (0.02, 0.3), (0.005, 0.5), (0.001, 1.0)]
)
def test_unbalanced_plan_is_optimal(eps, tau):
    """Checked by the optimality conditions, so small ε (log domain) is checked too."""
    cost, a, b = problem(7, 11)
    res = solve(cost, a, b, solver="unbalanced", eps=eps, tau=tau, max_iter=100_000)
    assert res.converged and res.solver == "unbalanced"
    assert unbalanced_residual(res.plan, cost, a, b, eps, tau) < 1e-5
    assert res.plan.sum() < 1.0  # costly mass is left untransported


def test_unbalanced_tends_to_balanced_as_tau_grows():
    cost, a, b = problem(6, 8)
    bal = solve(cost, a, b, eps=0.1).plan
    unb = solve(cost, a, b, solver="unbalanced", eps=0.1, tau=1e5).plan
    np.testing.assert_allclose(unb, bal, atol=1e-4)


def test_zero_mass_tokens_get_nothing_and_the_rest_is_unchanged():
    cost, a, b = problem(6, 5)
    a0 = np.concatenate([a[:3], [0.0], a[3:]])
    cost0 = np.insert(cost, 3, 9.0, axis=0)
    for solver, eps in (("sinkhorn", 0.1), ("emd", 0.0), ("sinkhorn_log", 0.1)):
        full = solve(cost0, a0, b, solver=solver, eps=eps).plan
        assert np.all(full[3] == 0)
        np.testing.assert_allclose(
            np.delete(full, 3, axis=0), solve(cost, a, b, solver=solver, eps=eps).plan, atol=1e-15
        )


def test_non_convergence_is_reported():
    cost, a, b = problem(30, 30)
    res = solve(cost, a, b, eps=0.001, max_iter=20)
    assert not res.converged and res.iterations == 20


@pytest.mark.parametrize(
    "solver, eps, tau, culprit",
    [
        ("sinkhorn", 0.0, None, "ε must be a positive number"),
        ("sinkhorn", -1.0, None, "ε must be a positive number"),
        ("sinkhorn", float("nan"), None, "ε must be a positive number"),
        ("unbalanced", 0.1, None, "τ > 0"),
        ("unbalanced", 0.1, 0.0, "τ > 0"),
        ("greedy", 0.1, None, "unknown OT solver 'greedy'"),
    ],
)
def test_bad_parameters_are_user_errors(solver, eps, tau, culprit):
    with pytest.raises(UserError, match=culprit):
        resolve_solver(solver, eps, tau)
    cost, a, b = problem(2, 3)
    with pytest.raises(UserError, match=culprit):
        solve(cost, a, b, solver=solver, eps=eps, tau=tau)


def test_shape_mismatch_is_a_user_error():
    with pytest.raises(UserError, match="shapes do not match"):
        solve(np.zeros((2, 3)), np.ones(3), np.ones(3))
