"""Paired significance tests between two models evaluated on the same queries.

Significance between two models on the same queries (per direction, per measure): the paired
t-test (Student 1908; same numbers as :func:`scipy.stats.ttest_rel`) and a paired
randomisation test (Fisher 1935; Smucker, Allan & Carterette 2007): under H0 the two
systems' labels are exchangeable within each query, i.e. each per-query difference d_i has
a random sign; the statistic is mean(d) and the two-sided p-value is estimated from
``n_resamples`` random sign assignments (seeded; the exact distribution is used when
2^n <= n_resamples), with :func:`scipy.stats.permutation_test`'s conventions. Across directions, p-values
are corrected with Holm's step-down method (:func:`holm`).

Beside each test, a 95% confidence interval of mean(A) − mean(B) from the paired bootstrap
(Efron & Tibshirani 1993, percentile interval): the queries are resampled with replacement
``n_resamples`` times (seeded) and the 2.5th and 97.5th percentiles of the resampled mean
differences are the bounds (:func:`bootstrap_ci`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.evaluation.metrics import DEFAULT_MEASURES, Evaluation
from clirlens.core.progress import Job, run
from clirlens.core.types import Progress

N_RESAMPLES = 10_000  # permutation and bootstrap resamples, the same on every path


@dataclass(frozen=True)
class PairedTest:
    """Paired comparison of model A and model B on one measure over the same queries.

    ``p_*_holm`` are filled by :func:`compare_directions` (Holm-corrected across the
    directions compared together); ``None`` for a single comparison.
    """

    label: str  # the direction, e.g. "th-en"
    measure: str
    n: int
    mean_a: float
    mean_b: float
    t_statistic: float
    p_ttest: float
    p_permutation: float
    p_ttest_holm: float | None = None
    p_permutation_holm: float | None = None
    ci_low: float = float("nan")  # 95% paired-bootstrap interval of mean(A) − mean(B)
    ci_high: float = float("nan")
    n_resamples: int = 0

    @property
    def difference(self) -> float:
        """mean(A) − mean(B)."""
        return self.mean_a - self.mean_b


def paired_ttest(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sided paired t-test of mean(a − b) = 0: ``(t, p)``.

    ``t = mean(d) / (sd(d) / sqrt(n))`` with ``d = a − b`` and the sample standard deviation
    (n − 1), ``p = 2 · F_{n−1}(−|t|)`` with Student's t CDF (:func:`scipy.special.stdtr`):
    the same numbers as :func:`scipy.stats.ttest_rel` (a test checks it), without importing
    ``scipy.stats`` (0.7 s), which dominated a warm ``clirlens eval``.

    Degenerate cases, where scipy returns NaN or warns: all differences zero → (0, 1);
    fewer than two pairs → (nan, 1) (no evidence either way); constant non-zero
    differences → (±inf, 0) (the limit of t as the variance goes to 0).
    """
    from scipy.special import stdtr

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.size and not d.any():
        return 0.0, 1.0
    if d.size < 2:
        return float("nan"), 1.0
    if np.ptp(d) == 0:
        return float(np.sign(d[0]) * np.inf), 0.0
    n = d.size
    t = float(d.mean() / (d.std(ddof=1) / np.sqrt(n)))
    return t, float(min(1.0, 2.0 * stdtr(n - 1, -abs(t))))


def paired_permutation(
    a: np.ndarray, b: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0
) -> float:
    """Two-sided paired randomisation (sign-flip) test of mean(a − b) = 0; the p-value.

    Under H0 each per-query difference d_i keeps or flips its sign with probability 1/2;
    the null distribution of mean(d) comes from all 2^n sign vectors when 2^n <=
    ``n_resamples`` (exact), else from ``n_resamples`` random ones (seeded). p-values follow
    :func:`scipy.stats.permutation_test` (``permutation_type="samples"``, which for this
    statistic is the same test): one-sided ``p = (#{null >= obs} + 1) / (n_resamples + 1)``
    for random draws (the observed assignment counts, Phipson & Smyth 2010), ``#/2^n`` when
    exact, two-sided = twice the smaller one-sided value; the smallest reachable random
    p-value is 2 / (n_resamples + 1). Identical scores give p = 1. Written out (a signs
    matrix times d) because it is much faster than scipy's general resampler and avoids
    importing ``scipy.stats``; a test checks it against scipy.
    """
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    if d.size == 0 or not d.any():
        return 1.0
    n = d.size
    observed = d.mean()
    exact = n < 63 and 2**n <= n_resamples
    if exact:
        bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
        null = ((2.0 * bits - 1.0) @ d) / n
    else:
        rng = np.random.default_rng(seed)
        null = np.empty(n_resamples)
        total = d.sum()
        for start in range(0, n_resamples, 1000):
            size = min(1000, n_resamples - start)
            # one random byte gives eight signs (8x fewer draws than one integer per sign);
            # with bits b in {0, 1}, sum((2b - 1) d) = 2 (b . d) - sum(d)
            packed = rng.integers(0, 256, size=(size, (n + 7) // 8), dtype=np.uint8)
            bits = np.unpackbits(packed, axis=1, count=n)
            null[start : start + size] = (2.0 * (bits @ d) - total) / n
    gamma = abs(1e-14 * observed)  # scipy's tolerance for ties with the observed value
    greater = np.count_nonzero(null >= observed - gamma)
    less = np.count_nonzero(null <= observed + gamma)
    if exact:
        p_greater, p_less = greater / null.size, less / null.size
    else:
        p_greater = (greater + 1) / (n_resamples + 1)
        p_less = (less + 1) / (n_resamples + 1)
    return float(min(1.0, 2.0 * min(p_greater, p_less)))


def bootstrap_ci(
    d: np.ndarray, n_resamples: int = N_RESAMPLES, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of mean(d) under the paired bootstrap (module notes): ``d`` are the
    per-query differences; NaNs for fewer than two queries.

    Each resample is a vector of counts (how often each query was drawn), so the resampled
    means are one product ``counts @ d / n``; the counts for a given (n, resamples, seed)
    are drawn once and reused by every measure and direction of that size, which keeps a
    warm evaluation fast (a gather per comparison cost seconds)."""
    d = np.asarray(d, dtype=np.float64)
    if d.size < 2:
        return float("nan"), float("nan")
    counts = _resample_counts(d.size, n_resamples, seed)
    means = (
        np.concatenate(
            [counts[i : i + 1000].astype(np.float64) @ d for i in range(0, n_resamples, 1000)]
        )
        / d.size
    )
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


_COUNTS: dict[tuple[int, int, int], np.ndarray] = {}
_COUNTS_LOCK = threading.Lock()


def _resample_counts(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """``(n_resamples, n)`` draw counts of ``n`` items sampled with replacement (seeded), as
    bytes (a count above 255 has probability far below 1e-300); the last size asked for is
    kept."""
    key = (n, n_resamples, seed)
    with _COUNTS_LOCK:
        counts = _COUNTS.get(key)
        if counts is None:
            rng = np.random.default_rng(seed)
            counts = np.empty((n_resamples, n), dtype=np.uint8)
            step = max(1, 2_000_000 // n)  # rows per block: at most 2M draws at once
            for start in range(0, n_resamples, step):
                rows = min(step, n_resamples - start)
                draws = rng.integers(0, n, size=(rows, n)) + n * np.arange(rows)[:, None]
                block = np.bincount(draws.ravel(), minlength=rows * n)
                counts[start : start + rows] = block.reshape(rows, n)
            _COUNTS.clear()
            _COUNTS[key] = counts
        return counts


def compare(
    a: Evaluation,
    b: Evaluation,
    measure: str,
    *,
    label: str = "",
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> PairedTest:
    """Compare two evaluations of the same queries on ``measure`` (both tests, uncorrected)."""
    if set(a.query_ids) != set(b.query_ids):
        only = sorted(set(a.query_ids) ^ set(b.query_ids))
        raise UserError(
            f"cannot compare {a.run_name!r} and {b.run_name!r}"
            f"{' on ' + label if label else ''}: they cover different queries "
            f"({len(only)} differ, e.g. {only[0]!r})"
        )
    x, y = a.values(measure), b.values(measure, a.query_ids)
    t, p_t = paired_ttest(x, y)
    p_perm = paired_permutation(x, y, n_resamples=n_resamples, seed=seed)
    low, high = bootstrap_ci(x - y, n_resamples=n_resamples, seed=seed)
    return PairedTest(
        label,
        measure,
        int(x.size),
        float(x.mean()),
        float(y.mean()),
        t,
        p_t,
        p_perm,
        ci_low=low,
        ci_high=high,
        n_resamples=n_resamples,
    )


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (Holm 1979, "A simple sequentially rejective
    multiple test procedure", Scand. J. Statist. 6:65–70), in the input order.

    With the m p-values sorted ascending, p_(1) <= ... <= p_(m)::

        adj_(i) = max_{j <= i} min(1, (m − j + 1) · p_(j))

    Rejecting H_(i) when adj_(i) <= alpha is Holm's procedure at family-wise level alpha.
    """
    if any(np.isnan(p) for p in pvalues):
        raise ValueError("holm: p-values must not be NaN")
    m = len(pvalues)
    adjusted = [0.0] * m
    running = 0.0
    for j, i in enumerate(sorted(range(m), key=lambda i: pvalues[i])):
        running = max(running, min(1.0, (m - j) * float(pvalues[i])))
        adjusted[i] = running
    return adjusted


def compare_directions_job(
    pairs: Mapping[str, tuple[Evaluation, Evaluation]],
    measures: Sequence[str] = DEFAULT_MEASURES,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Job[list[PairedTest]]:
    """Compare A (first) with B (second) in every direction of ``pairs`` (label -> pair) on
    each measure; for each measure, Holm-correct both tests' p-values across the directions.

    A generator yielding :class:`Progress` per comparison; returns the comparisons ordered
    by direction, then measure.
    """
    total = len(pairs) * len(measures)
    results: dict[tuple[str, str], PairedTest] = {}
    for label, (a, b) in pairs.items():
        for measure in measures:
            yield Progress(len(results), total, f"significance {label} {measure}")
            results[label, measure] = compare(
                a, b, measure, label=label, n_resamples=n_resamples, seed=seed
            )
    for measure in measures:
        keys = [(label, measure) for label in pairs]
        p_t = holm([results[k].p_ttest for k in keys])
        p_p = holm([results[k].p_permutation for k in keys])
        for k, pt, pp in zip(keys, p_t, p_p, strict=True):
            results[k] = replace(results[k], p_ttest_holm=pt, p_permutation_holm=pp)
    yield Progress(total, total, "significance")
    return [results[label, m] for label in pairs for m in measures]


def compare_directions(
    pairs: Mapping[str, tuple[Evaluation, Evaluation]],
    measures: Sequence[str] = DEFAULT_MEASURES,
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> list[PairedTest]:
    """:func:`compare_directions_job` driven to completion."""
    return run(compare_directions_job(pairs, measures, n_resamples=n_resamples, seed=seed))
