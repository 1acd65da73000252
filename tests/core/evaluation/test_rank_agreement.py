"""Rank agreement: hand-worked Kendall/weighted tau, RBO_ext (Webber et al. 2010), overlap."""

from __future__ import annotations

import math
import random

import pytest

from clirlens.core.evaluation.rank_agreement import (
    RankAgreement,
    kendall_tau,
    overlap,
    rank_agreement,
    rbo,
    run_agreement,
    weighted_tau,
)
from clirlens.core.types import Run


def test_kendall_tau_by_hand() -> None:
    assert kendall_tau("abc", "abc") == 1.0
    assert kendall_tau("abcd", "dcba") == pytest.approx(-1.0)
    # union {x, y, z}; ranks a: 1, 2, 3(missing); b: 3(missing), 1, 2
    # pairs xy and xz discordant, yz concordant: tau = (1 - 2) / 3
    assert kendall_tau("xy", "yz", k=2) == pytest.approx(-1 / 3)
    # b = [x]: y and z tie at rank k+1 = 4 in b; tau-b = 2 / sqrt(3 * 2)
    assert kendall_tau("xyz", "x", k=3) == pytest.approx(2 / math.sqrt(6))


def test_kendall_tau_undefined_cases_are_nan() -> None:
    assert math.isnan(kendall_tau("abc", ""))
    assert math.isnan(kendall_tau("", ""))
    assert kendall_tau("a", "a") == 1.0


def test_weighted_tau_weighs_the_top() -> None:
    top_swap, bottom_swap = "bacde", "abced"
    assert kendall_tau("abcde", top_swap) == pytest.approx(kendall_tau("abcde", bottom_swap))
    assert weighted_tau("abcde", top_swap) < weighted_tau("abcde", bottom_swap) < 1.0
    assert weighted_tau("abcde", "abcde") == 1.0
    assert weighted_tau("abcde", "edcba") == pytest.approx(-1.0)
    assert math.isnan(weighted_tau("ab", ""))


def test_rbo_even_lists_by_hand() -> None:
    """S = 1 2 3 4 5, T = 2 3 4 1 5, p = 0.9: X_d/d = 0, 1/2, 2/3, 1, 1 and eq. (30) gives
    (1-p)/p · Σ X_d/d p^d + X_5/5 p^5 = 0.828."""
    p = 0.9
    expected = (1 - p) / p * (p**2 / 2 + 2 / 3 * p**3 + p**4 + p**5) + p**5
    assert rbo([1, 2, 3, 4, 5], [2, 3, 4, 1, 5], p) == pytest.approx(expected)
    assert expected == pytest.approx(0.828, abs=5e-4)


def test_rbo_uneven_lists_by_hand() -> None:
    """S = a b c (l = 3), T = b (s = 1), p = 0.9: X = 0, 1, 1, X_s = 0, eq. (32):
    (1-p)/p (0 + .81/2 + .729/3) + ((1 - 0)/3 + 0) .729 = 0.072 + 0.243 = 0.315."""
    assert rbo("abc", "b", 0.9) == pytest.approx(0.315)
    assert rbo("b", "abc", 0.9) == pytest.approx(0.315)
    # a list that is a prefix of the other is extrapolated to agree: RBO_ext = 1
    assert rbo("abcdefg", "abc", 0.9) == pytest.approx(1.0)


def test_rbo_edge_cases() -> None:
    assert rbo("abcdef", "abcdef") == pytest.approx(1.0)
    assert rbo("abcde", "fghij") == 0.0
    assert rbo("", "") == 1.0
    assert rbo("a", "") == 0.0
    assert rbo("abcde", "abxyz", k=2) == pytest.approx(1.0)  # only the top 2 are compared
    with pytest.raises(ValueError, match="persistence"):
        rbo("ab", "ab", p=1.0)
    with pytest.raises(ValueError, match="twice"):
        rbo("aba", "ab")


def _rbo_naive(s: list, t: list, p: float) -> float:
    """Eq. (32) evaluated literally, with set intersections at every depth."""
    if len(s) < len(t):
        s, t = t, s
    n, sl = len(s), len(t)

    def x(d: int) -> int:
        return len(set(s[:d]) & set(t[: min(d, sl)]))

    total = sum(x(d) / d * p**d for d in range(1, n + 1))
    total += sum(x(sl) * (d - sl) / (sl * d) * p**d for d in range(sl + 1, n + 1))
    return (1 - p) / p * total + ((x(n) - x(sl)) / n + x(sl) / sl) * p**n


def test_rbo_matches_the_literal_formula_on_random_lists() -> None:
    rng = random.Random(5)
    for _ in range(200):
        pool = list(range(15))
        a = rng.sample(pool, rng.randint(1, 12))
        b = rng.sample(pool, rng.randint(1, 12))
        p = rng.choice([0.5, 0.9, 0.98])
        assert rbo(a, b, p) == pytest.approx(_rbo_naive(a, b, p)), (a, b, p)
        assert 0.0 <= rbo(a, b, p) <= 1.0 + 1e-12
        assert rbo(a, b, p) == pytest.approx(rbo(b, a, p))


def test_overlap() -> None:
    assert overlap("abc", "cde", k=3) == pytest.approx(1 / 3)
    assert overlap("abc", "cba", k=10) == pytest.approx(3 / 10)  # denominator is k
    assert overlap("abcd", "abxy", k=2) == 1.0
    with pytest.raises(ValueError):
        overlap("a", "a", k=0)


def test_rank_agreement_record() -> None:
    rec = rank_agreement(list("abcde"), list("abced"), k=5, p=0.9, query_id="q1")
    assert isinstance(rec, RankAgreement)
    assert (rec.query_id, rec.k, rec.overlap) == ("q1", 5, 1.0)
    assert rec.kendall_tau == pytest.approx(0.8)  # one discordant pair of 10
    assert rec.rbo == pytest.approx(rbo("abcde", "abced", 0.9))


def test_run_agreement_over_two_runs() -> None:
    a = Run.from_scores("A", {"q1": {"d1": 3, "d2": 2, "d3": 1}, "q2": {"d1": 1}})
    b = Run.from_scores("B", {"q1": {"d1": 3, "d3": 2, "d2": 1}, "q3": {"d4": 1}})
    out = run_agreement(a, b, k=10)
    assert [r.query_id for r in out] == ["q1", "q2", "q3"]
    q1, q2, q3 = out
    assert q1.kendall_tau == pytest.approx(1 / 3) and q1.overlap == pytest.approx(0.3)
    assert q2.rbo == 0.0 and q2.overlap == 0.0 and math.isnan(q2.kendall_tau)
    assert q3.rbo == 0.0
    only = run_agreement(a, b, k=2, query_ids=["q1"])
    assert len(only) == 1 and only[0].k == 2
    assert only[0].overlap == 0.5  # top 2: {d1, d2} vs {d1, d3}


def test_both_taus_equal_scipys_on_random_rankings_with_and_without_ties() -> None:
    import numpy as np
    from scipy import stats

    from clirlens.core.evaluation.rank_agreement import _pairwise_taus

    rng = random.Random(7)
    checked = 0
    for _ in range(3000):
        k = rng.choice([2, 3, 5, 10, 20])
        pool = [f"p{i}" for i in range(rng.randint(k, 3 * k))]
        a, b = rng.sample(pool, k), rng.sample(pool, rng.randint(1, k))
        assert kendall_tau(a, b, k) == pytest.approx(
            _scipy_or_nan(stats.kendalltau, a, b, k), abs=1e-12, nan_ok=True
        )
        assert weighted_tau(a, b, k) == pytest.approx(
            _scipy_or_nan(stats.weightedtau, a, b, k), abs=1e-12, nan_ok=True
        )
        checked += not math.isnan(kendall_tau(a, b, k))
    assert checked > 2500
    # arbitrary ties on both sides (not only the missing items' rank k + 1)
    np_rng = np.random.default_rng(3)
    for _ in range(500):
        n = int(np_rng.integers(2, 25))
        x, y = np_rng.integers(0, 6, n).astype(float), np_rng.integers(0, 6, n).astype(float)
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        tau_b, tau_w = _pairwise_taus(x, y)
        assert tau_b == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
        assert tau_w == pytest.approx(stats.weightedtau(x, y).statistic, abs=1e-12)


def _scipy_or_nan(f, a: list[str], b: list[str], k: int) -> float:
    import numpy as np

    from clirlens.core.evaluation.rank_agreement import _union_ranks

    if a[:k] == b[:k]:
        return 1.0
    ra, rb = _union_ranks(a[:k], b[:k], k)
    if ra.size < 2 or np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return math.nan
    return float(f(-ra, -rb).statistic)
