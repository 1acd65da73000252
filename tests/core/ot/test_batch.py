"""Batched OT: padding with zero-mass entries is exact; results equal a loop of POT calls."""

from __future__ import annotations

import numpy as np
import ot
import pytest

from clirlens.core.errors import UserError
from clirlens.core.ot.alignment import cosine_cost
from clirlens.core.ot.batch import TokenSets, cross_costs, paired_costs
from clirlens.core.ot.scaling import solve_padded
from clirlens.core.ot.solvers import solve
from clirlens.core.progress import run
from clirlens.core.types import Progress, TokenStates

SETTINGS = [
    ("sinkhorn", 0.05, None),
    ("sinkhorn", 0.5, None),
    ("sinkhorn_log", 0.05, None),
    ("sinkhorn", 0.005, None),  # plain iteration at the log-domain threshold
    ("sinkhorn", 0.002, None),
    ("unbalanced", 0.05, 1.0),
    ("unbalanced", 0.002, 0.5),
    ("emd", 0.0, None),
]


def padded_batch(rng, size=30, max_len=12):
    ns, ms = rng.integers(1, max_len, size), rng.integers(1, max_len, size)
    n, m = ns.max(), ms.max()
    cost = rng.uniform(0, 2, (size, n, m))
    a, b = np.zeros((size, n)), np.zeros((size, m))
    for k in range(size):
        cost[k, ns[k] :, :] = 7.0  # garbage on padding: must not matter (exp(3/ε) overflows)
        cost[k, :, ms[k] :] = -3.0
        w = rng.uniform(0.1, 1, ns[k])
        a[k, : ns[k]] = w / w.sum()
        w = rng.uniform(0.1, 1, ms[k])
        b[k, : ms[k]] = w / w.sum()
    return cost, a, b, ns, ms


@pytest.mark.parametrize("solver, eps, tau", SETTINGS)
def test_padded_batch_equals_one_pot_call_per_problem(solver, eps, tau):
    rng = np.random.default_rng(7)
    cost, a, b, ns, ms = padded_batch(rng, size=16)
    total, iters, ok, plans = solve_padded(
        cost, a, b, solver=solver, eps=eps, tau=tau, max_iter=2000, return_plans=True
    )
    for k in range(len(cost)):
        c, ak, bk = cost[k, : ns[k], : ms[k]], a[k, : ns[k]], b[k, : ms[k]]
        ref = solve(c, ak, bk, solver=solver, eps=eps, tau=tau, max_iter=2000)
        assert np.all(plans[k, ns[k] :, :] == 0) and np.all(plans[k, :, ms[k] :] == 0)
        np.testing.assert_allclose(plans[k, : ns[k], : ms[k]], ref.plan, atol=1e-13)
        assert total[k] == pytest.approx(np.sum(ref.plan * c), abs=1e-13)
        assert ok[k] == ref.converged
        assert iters[k] == (-1 if ref.iterations is None else ref.iterations)


def test_padded_sinkhorn_matches_pot_directly_and_keeps_marginals():
    rng = np.random.default_rng(3)
    cost, a, b, ns, ms = padded_batch(rng, size=12)
    total, _, ok, plans = solve_padded(cost, a, b, eps=0.1, return_plans=True)
    assert ok.all()
    np.testing.assert_allclose(total, np.einsum("bij,bij->b", plans, cost), atol=1e-15)
    for k in range(len(cost)):
        want = ot.sinkhorn(a[k, : ns[k]], b[k, : ms[k]], cost[k, : ns[k], : ms[k]], 0.1)
        np.testing.assert_allclose(plans[k, : ns[k], : ms[k]], want, atol=1e-13)
        np.testing.assert_allclose(plans[k].sum(1), a[k], atol=1e-6)
        np.testing.assert_allclose(plans[k].sum(0), b[k], atol=1e-6)


def states(rng, n, dim=16, text=None, model="m"):
    text = text or " ".join(f"w{i}" for i in range(n))
    offs, pos = [], 0
    for word in text.split(" ")[:n]:
        offs.append((pos, pos + len(word)))
        pos += len(word) + 1
    return TokenStates(
        text,
        tuple(f"t{i}" for i in range(n)),
        tuple(offs),
        (False,) * n,
        rng.standard_normal((n, dim)).astype(np.float32),
        model,
        -1,
    )


def reference_cost(x: TokenStates, y: TokenStates, solver="sinkhorn", eps=0.05, tau=None):
    c = cosine_cost(x.vectors, y.vectors)
    plan = solve(
        c, np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), solver=solver, eps=eps, tau=tau
    ).plan
    return np.sum(plan * c)


@pytest.mark.parametrize(
    "solver, eps, tau", [("sinkhorn", 0.05, None), ("emd", 0.0, None), ("unbalanced", 0.1, 2.0)]
)
def test_cross_and_paired_costs_equal_a_loop(solver, eps, tau):
    rng = np.random.default_rng(11)
    src = [states(rng, int(n)) for n in rng.integers(1, 20, 23)]
    tgt = [states(rng, int(n)) for n in rng.integers(1, 25, 17)]
    want = np.array([[reference_cost(x, y, solver, eps, tau) for y in tgt] for x in src])
    seen: list[Progress] = []
    got = run(
        cross_costs(
            TokenSets.from_states(src),
            TokenSets.from_states(tgt),
            solver=solver,
            eps=eps,
            tau=tau,
            block=5,
            max_entries=3000,
        ),
        seen.append,
    )
    assert got.cost.shape == (23, 17) and got.converged.all()
    np.testing.assert_allclose(got.cost, want, atol=1e-12)
    assert seen[0].done == 0 and seen[-1].done == seen[-1].total == 23 * 17
    pairs = np.array([[i, (3 * i) % 17] for i in range(23)])
    got = run(
        paired_costs(
            TokenSets.from_states(src),
            TokenSets.from_states(tgt),
            pairs,
            solver=solver,
            eps=eps,
            tau=tau,
            max_entries=500,
        )
    )
    np.testing.assert_allclose(got.cost, want[pairs[:, 0], pairs[:, 1]], atol=1e-12)


def test_token_sets_drop_special_tokens_and_normalise():
    rng = np.random.default_rng(0)
    s = states(rng, 4)
    with_special = TokenStates(
        s.text,
        ("[CLS]", *s.tokens, "[SEP]"),
        ((0, 0), *s.offsets, (0, 0)),
        (True, False, False, False, False, True),
        np.concatenate([np.ones((1, 16)), s.vectors, np.ones((1, 16))]).astype(np.float32),
        "m",
        -1,
    )
    sets = TokenSets.from_states([with_special, s], weights="norm")
    assert sets.lengths.tolist() == [4, 4]
    np.testing.assert_allclose(np.linalg.norm(sets.vectors, axis=1), 1.0)
    np.testing.assert_allclose(sets.masses[:4], sets.masses[4:])
    np.testing.assert_allclose(sets.masses[:4].sum(), 1.0)


def test_token_set_errors():
    rng = np.random.default_rng(0)
    empty = TokenStates(
        "\u200b",
        ("[CLS]", "[SEP]"),
        ((0, 0), (0, 0)),
        (True, True),
        np.zeros((2, 16), np.float32),
        "tiny",
        -1,
    )
    with pytest.raises(UserError, match="no content tokens"):
        TokenSets.from_states([states(rng, 3), empty])
    with pytest.raises(UserError, match="no texts"):
        TokenSets.from_states([])
    a = TokenSets.from_states([states(rng, 3, dim=16)])
    b = TokenSets.from_states([states(rng, 3, dim=8)])
    with pytest.raises(UserError, match="differ in size"):
        run(cross_costs(a, b))
    with pytest.raises(UserError, match="cannot pair"):
        run(paired_costs(a, TokenSets.from_states([states(rng, 2)] * 2)))
