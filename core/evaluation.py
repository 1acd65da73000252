"""Retrieval metrics through ir-measures, and paired significance tests between two models.

Metrics (ir-measures names; Järvelin & Kekäläinen 2002 for nDCG, Voorhees 1999 for RR)::

    nDCG@k = DCG@k / IDCG@k,  DCG@k = sum_{i<=k} g_i / log2(i + 1)
             (trec_eval's linear gain g_i = the grade, not 2^g - 1; IDCG from the qrels)
    RR@k   = 1 / rank of the first relevant passage within the top k, else 0
    R@k    = |relevant ∩ top k| / |relevant|

Conventions (documented because they change numbers):

* **Which queries count.** Every query id in the qrels, including queries that are missing
  from the run or have an empty ranking: those score 0 for every measure. Queries in the run
  but not in the qrels are ignored. This is what ``ir_measures.calc_aggregate`` does since
  ir-measures 0.3 (its ``Evaluator.iter_calc`` fills missing qrels queries with the measure's
  default, 0); :func:`evaluate` fills them itself as well, so per-query tables are complete
  and aggregates are means over all qrels queries whatever the provider does.
* **Ties.** The run's ranks decide the order. ir-measures' providers break score ties
  differently (pytrec_eval by document id descending, the MS MARCO provider ascending), so
  scores handed to ir-measures are derived from the ranks (``-rank``), not the raw scores.

Significance between two models on the same queries (per direction, per measure): the paired
t-test (Student 1908; same numbers as :func:`scipy.stats.ttest_rel`) and a paired
randomisation test (Fisher 1935; Smucker, Allan & Carterette 2007): under H0 the two
systems' labels are exchangeable within each query, i.e. each per-query difference d_i has
a random sign; the statistic is mean(d) and the two-sided p-value is estimated from
``n_resamples`` random sign assignments (seeded; the exact distribution is used when
2^n <= n_resamples), with :func:`scipy.stats.permutation_test`'s conventions. Across directions, p-values
are corrected with Holm's step-down method (:func:`holm`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.progress import Job, run
from clirlens.core.types import Progress, Qrels, Run

DEFAULT_MEASURES: tuple[str, ...] = ("nDCG@10", "RR@10", "R@1", "R@5", "R@100")


@dataclass(frozen=True)
class Evaluation:
    """Per-query and mean metric values of one run against one set of qrels.

    ``per_query[measure][query_id]`` holds a value for every measure and every id in
    ``query_ids`` (the qrels' queries, in qrels order); ``aggregate[measure]`` is their mean.
    """

    run_name: str
    measures: tuple[str, ...]
    query_ids: tuple[str, ...]
    per_query: Mapping[str, Mapping[str, float]]
    aggregate: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "per_query",
            MappingProxyType({m: MappingProxyType(dict(v)) for m, v in self.per_query.items()}),
        )
        object.__setattr__(self, "aggregate", MappingProxyType(dict(self.aggregate)))

    def values(self, measure: str, query_ids: Sequence[str] | None = None) -> np.ndarray:
        """Per-query values of ``measure`` as float64, in ``query_ids`` order (default: own)."""
        table = self.per_query[measure]
        return np.array([table[q] for q in (query_ids or self.query_ids)], dtype=np.float64)

    def rows(self) -> list[tuple[str, str, float]]:
        """``(query_id, measure, value)`` rows, queries in order, for CSV export."""
        return [(q, m, self.per_query[m][q]) for q in self.query_ids for m in self.measures]


def parse_measures(names: Sequence[str]) -> list:
    """ir-measures ``Measure`` objects for ``names``; an unknown name is a :class:`UserError`."""
    import ir_measures

    out = []
    for name in names:
        try:
            out.append(ir_measures.parse_measure(name))
        except (NameError, ValueError, TypeError, SyntaxError) as e:
            raise UserError(f"unknown measure {name!r} ({e})") from None
    return out


def evaluate(run: Run, qrels: Qrels, measures: Sequence[str] = DEFAULT_MEASURES) -> Evaluation:
    """Evaluate ``run`` against ``qrels`` with ir-measures (see the module notes on which
    queries count and on ties)."""
    import ir_measures

    parsed = parse_measures(measures)
    names = tuple(str(m) for m in parsed)
    qids = qrels.query_ids
    if not qids:
        raise UserError(f"cannot evaluate run {run.name!r}: the qrels have no queries")
    ir_qrels = {q: dict(docs) for q, docs in qrels.data.items()}
    ir_run = {
        q: {sp.passage_id: -float(sp.rank) for sp in run.rankings[q]}
        for q in qids
        if run.rankings.get(q)
    }
    table: dict[str, dict[str, float]] = {n: dict.fromkeys(qids, 0.0) for n in names}
    if ir_run:
        # measures hash and print through repr(); ir-measures hands back the very objects
        # it was given, so they are looked up by identity (str() for any other)
        by_id = {id(m): table[n] for m, n in zip(parsed, names, strict=True)}
        for metric in ir_measures.iter_calc(parsed, ir_qrels, ir_run):
            column = by_id.get(id(metric.measure))
            if column is None:
                column = table[str(metric.measure)]
            if metric.query_id in column:
                column[metric.query_id] = float(metric.value)
    aggregate = {n: float(np.mean(list(table[n].values()))) for n in names}
    return Evaluation(run.name, names, qids, table, aggregate)


# --------------------------------------------------------------------------- significance


@dataclass(frozen=True)
class Comparison:
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
    a: np.ndarray, b: np.ndarray, n_resamples: int = 10_000, seed: int = 0
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
    matrix times d) because it is ~20x faster than scipy's general resampler and avoids
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


def compare(
    a: Evaluation,
    b: Evaluation,
    measure: str,
    *,
    label: str = "",
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Comparison:
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
    return Comparison(label, measure, int(x.size), float(x.mean()), float(y.mean()), t, p_t, p_perm)


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
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Job[list[Comparison]]:
    """Compare A (first) with B (second) in every direction of ``pairs`` (label -> pair) on
    each measure; for each measure, Holm-correct both tests' p-values across the directions.

    A generator yielding :class:`Progress` per comparison; returns the comparisons ordered
    by direction, then measure.
    """
    total = len(pairs) * len(measures)
    results: dict[tuple[str, str], Comparison] = {}
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
    n_resamples: int = 10_000,
    seed: int = 0,
) -> list[Comparison]:
    """:func:`compare_directions_job` driven to completion."""
    return run(compare_directions_job(pairs, measures, n_resamples=n_resamples, seed=seed))
