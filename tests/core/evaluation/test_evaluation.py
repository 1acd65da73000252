"""Metrics through ir-measures against hand-computed values; significance and Holm."""

from __future__ import annotations

import math

import ir_measures
import numpy as np
import pytest

from clirlens.core.errors import UserError
from clirlens.core.evaluation.metrics import DEFAULT_MEASURES, Evaluation, evaluate
from clirlens.core.evaluation.significance import (
    PairedTest,
    compare,
    compare_directions,
    compare_directions_job,
    holm,
    paired_permutation,
    paired_ttest,
)
from clirlens.core.types import Qrels, Run, ScoredPassage

QRELS = Qrels(
    {"q1": {"d1": 1, "d0": 0}, "q2": {"d2": 1, "d3": 2}, "q3": {"d5": 1}, "q4": {"d9": 1}}
)
# q1: the relevant passage at rank 2; q2: grade 2 at rank 1 and grade 1 at rank 3;
# q3: an empty ranking; q4: absent from the run; qx: not judged (ignored)
RUN = Run.from_scores(
    "A",
    {
        "q1": {"d0": 0.9, "d1": 0.8, "d7": 0.1},
        "q2": {"d3": 3.0, "dx": 2.0, "d2": 1.0},
        "q3": {},
        "qx": {"d1": 1.0},
    },
)
L2_3 = 1 / math.log2(3)  # the discount at rank 2


def test_measure_names_as_ir_measures_prints_them() -> None:
    assert DEFAULT_MEASURES == ("nDCG@10", "RR@10", "R@1", "R@5", "R@100")
    assert tuple(str(ir_measures.parse_measure(m)) for m in DEFAULT_MEASURES) == DEFAULT_MEASURES


def test_per_query_values_by_hand() -> None:
    ev = evaluate(RUN, QRELS)
    assert ev.run_name == "A" and ev.measures == DEFAULT_MEASURES
    assert ev.query_ids == ("q1", "q2", "q3", "q4")
    expected = {  # trec_eval's nDCG: linear gain = grade, discount log2(rank + 1)
        "nDCG@10": {"q1": L2_3, "q2": (2 + 1 / 2) / (2 + L2_3), "q3": 0, "q4": 0},
        "RR@10": {"q1": 0.5, "q2": 1.0, "q3": 0, "q4": 0},
        "R@1": {"q1": 0.0, "q2": 0.5, "q3": 0, "q4": 0},
        "R@5": {"q1": 1.0, "q2": 1.0, "q3": 0, "q4": 0},
        "R@100": {"q1": 1.0, "q2": 1.0, "q3": 0, "q4": 0},
    }
    for m, values in expected.items():
        assert dict(ev.per_query[m]) == pytest.approx(values), m
        assert ev.aggregate[m] == pytest.approx(sum(values.values()) / 4), m
    assert ev.aggregate["RR@10"] == pytest.approx(0.375)
    assert ev.aggregate["R@1"] == pytest.approx(0.125)
    np.testing.assert_allclose(ev.values("RR@10"), [0.5, 1.0, 0.0, 0.0])
    assert ("q2", "R@1", 0.5) in ev.rows() and len(ev.rows()) == 20


def test_aggregate_agrees_with_ir_measures_calc_aggregate() -> None:
    """Means are over every qrels query, as ir_measures.calc_aggregate's are."""
    ev = evaluate(RUN, QRELS)
    ir_run = {q: {sp.passage_id: sp.score for sp in r} for q, r in RUN.rankings.items()}
    ir_qrels = {q: dict(d) for q, d in QRELS.data.items()}
    theirs = ir_measures.calc_aggregate(
        [ir_measures.parse_measure(m) for m in DEFAULT_MEASURES], ir_qrels, ir_run
    )
    assert {str(m): v for m, v in theirs.items()} == pytest.approx(dict(ev.aggregate))


def test_rank_order_decides_ties() -> None:
    """Tied scores: the run's ranks count, not the providers' document-id tie-breaks
    (pytrec_eval would put 'b' first, the MS MARCO provider 'a')."""
    run = Run("tied", {"q": (ScoredPassage("a", 1.0, 1), ScoredPassage("b", 1.0, 2))})
    ev = evaluate(run, Qrels({"q": {"b": 1}}))
    assert ev.per_query["R@1"]["q"] == 0.0
    assert ev.per_query["RR@10"]["q"] == 0.5
    assert ev.per_query["nDCG@10"]["q"] == pytest.approx(L2_3)
    ev = evaluate(run, Qrels({"q": {"a": 1}}))
    assert ev.per_query["RR@10"]["q"] == ev.per_query["R@1"]["q"] == 1.0


def test_empty_run_and_bad_input() -> None:
    ev = evaluate(Run("none", {}), QRELS, ["RR@10", "P@5"])
    assert ev.measures == ("RR@10", "P@5")
    assert ev.aggregate == {"RR@10": 0.0, "P@5": 0.0}
    with pytest.raises(UserError, match=r"unknown measure 'Rcl@5'"):
        evaluate(RUN, QRELS, ["Rcl@5"])
    with pytest.raises(UserError, match="the qrels have no queries"):
        evaluate(RUN, Qrels({}))


# ------------------------------------------------------------------ significance


def _ev(name: str, values: list[float], measure: str = "R@1") -> Evaluation:
    qids = tuple(f"q{i}" for i in range(len(values)))
    return Evaluation(
        name,
        (measure,),
        qids,
        {measure: dict(zip(qids, values, strict=True))},
        {measure: float(np.mean(values))},
    )


def test_identical_scores_give_p_one() -> None:
    a = _ev("A", [1, 0, 1, 0.5])
    c = compare(a, _ev("B", [1, 0, 1, 0.5]), "R@1")
    assert (c.t_statistic, c.p_ttest, c.p_permutation) == (0.0, 1.0, 1.0)
    assert c.difference == 0.0 and c.n == 4
    assert c.p_ttest_holm is None


def test_ttest_matches_the_formula() -> None:
    a = np.array([1, 0.5, 1, 0, 1, 1.0])
    b = np.array([0, 0.5, 0.5, 0, 1, 0.0])
    d = a - b  # [1, 0, .5, 0, 0, 1]: mean 5/12, sd 0.4916
    t, p = paired_ttest(a, b)
    assert t == pytest.approx(d.mean() / (d.std(ddof=1) / math.sqrt(6)))
    assert t == pytest.approx(2.0761, abs=1e-4)
    assert p == pytest.approx(0.0925, abs=1e-4)  # two-sided, 5 degrees of freedom
    assert paired_ttest(a + 1, a) == (math.inf, 0.0)  # constant non-zero difference
    assert paired_ttest(a[:1], b[:1])[1] == 1.0


def test_permutation_exact_by_hand() -> None:
    """With 2^n <= n_resamples scipy enumerates all sign flips. d = (1, 2, 3): of the 8
    sign assignments, |sum| >= 6 only for +++ and ---, so p = 2/8."""
    assert paired_permutation(np.array([1, 2, 3.0]), np.zeros(3)) == pytest.approx(0.25)
    # d = (1,1,1,1,1): only all-plus and all-minus reach |mean| = 1: p = 2/32
    assert paired_permutation(np.ones(5), np.zeros(5)) == pytest.approx(2 / 32)


def test_permutation_randomised_is_seeded() -> None:
    rng = np.random.default_rng(7)
    b = rng.random(300)
    a = b + 0.05 + rng.normal(0, 0.1, 300)
    p1 = paired_permutation(a, b, n_resamples=999, seed=1)
    assert p1 == paired_permutation(a, b, n_resamples=999, seed=1)
    assert p1 == pytest.approx(2 / 1000)  # the smallest reachable: 2 x (0 + 1) / (999 + 1)
    noise = rng.normal(0, 0.1, 300)
    p_null = paired_permutation(b + noise, b, n_resamples=999, seed=1)
    assert 0.01 < p_null <= 1.0


def test_holm_hand_worked() -> None:
    # sorted: .005*4 = .02, .01*3 = .03, .03*2 = .06, .04*1 = .04 -> running max .06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == [1.0, 1.0]
    assert holm([0.02]) == [0.02]
    assert holm([]) == []
    with pytest.raises(ValueError, match="NaN"):
        holm([0.1, float("nan")])


def test_compare_directions_applies_holm_per_measure() -> None:
    rng = np.random.default_rng(0)
    pairs = {}
    for label, shift in (("th-en", 0.3), ("hi-en", 0.02), ("el-en", 0.0)):
        base = rng.random(40)
        pairs[label] = (_ev("A", list(base + shift)), _ev("B", list(base + rng.normal(0, 0.2, 40))))
    out = compare_directions(pairs, ["R@1"], n_resamples=2000, seed=3)
    assert [c.label for c in out] == ["th-en", "hi-en", "el-en"]
    assert all(isinstance(c, PairedTest) and c.measure == "R@1" for c in out)
    assert [c.p_ttest_holm for c in out] == pytest.approx(holm([c.p_ttest for c in out]))
    assert [c.p_permutation_holm for c in out] == pytest.approx(
        holm([c.p_permutation for c in out])
    )
    assert out[0].p_permutation_holm < 0.01 < out[2].p_permutation_holm
    progress = list(compare_directions_job(pairs, ["R@1"], n_resamples=200))
    assert [(p.done, p.total) for p in progress] == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_compare_needs_the_same_queries() -> None:
    with pytest.raises(UserError, match=r"'A' and 'B' on th-en: they cover different queries"):
        compare(_ev("A", [1, 0]), _ev("B", [1, 0, 1]), "R@1", label="th-en")


def test_ttest_equals_scipy_ttest_rel() -> None:
    from scipy import stats

    rng = np.random.default_rng(3)
    for n in (5, 40, 1190):
        b = rng.random(n)
        a = b + rng.normal(0.02, 0.2, n)
        t, p = paired_ttest(a, b)
        ref = stats.ttest_rel(a, b)
        assert t == pytest.approx(ref.statistic, rel=1e-12)
        assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("shift", [0.0, 0.01, 0.03])
def test_permutation_agrees_with_scipy_permutation_test(shift) -> None:
    from scipy import stats

    rng = np.random.default_rng(11)
    b = rng.random(400)
    a = b + shift + rng.normal(0, 0.3, 400)
    ours = paired_permutation(a, b, n_resamples=20_000, seed=5)
    ref = stats.permutation_test(
        (a, b),
        lambda x, y, axis=-1: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=20_000,
        alternative="two-sided",
        rng=np.random.default_rng(5),
    ).pvalue
    # two Monte Carlo estimates of the same p-value: 4 standard errors apart at most
    se = np.sqrt(max(ref, 1e-4) * (1 - min(ref, 0.9999)) / 20_000)
    assert abs(ours - ref) <= 4 * se + 2 / 20_001


def test_permutation_exact_equals_scipy_exact() -> None:
    from scipy import stats

    a = np.array([0.3, 1.0, 0.0, 0.7, 0.2, 0.9, 0.4])
    b = np.array([0.1, 0.5, 0.2, 0.1, 0.2, 0.3, 0.0])
    ref = stats.permutation_test(
        (a, b),
        lambda x, y, axis=-1: np.mean(x - y, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=10_000,
        alternative="two-sided",
    ).pvalue
    assert paired_permutation(a, b) == pytest.approx(ref, rel=1e-12)
