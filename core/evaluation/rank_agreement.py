"""Agreement between two rankings of the same query: Kendall's tau, weighted tau, RBO, overlap.

All four look at the top ``k`` of each ranking (``k = 10`` by default).

* **Kendall's tau-b** (Kendall 1945; :func:`scipy.stats.kendalltau`) and **weighted tau**
  (Vigna 2015, hyperbolic weights 1/(r + 1); :func:`scipy.stats.weightedtau`) need both
  rankings over the same items. Convention: the items are the *union* of the two top-k
  lists; an item missing from one list gets rank k + 1 in it (all missing items tie there,
  which tau-b accounts for). Scores are ``-rank`` (higher = better). Undefined cases
  (fewer than two items, or one list empty) give NaN; two identical non-empty lists give 1.
  Both are computed here from their pairwise definitions (:func:`_pairwise_taus`) and held
  equal to scipy's by a test on thousands of tied and untied lists: on the at most 2k
  items of a comparison scipy's per-call overhead and the import of ``scipy.stats`` were
  most of a reopened workspace's time to its first query (README, "Corpora at scale").
* **RBO** (rank-biased overlap, Webber, Moffat & Zobel 2010, "A similarity measure for
  indefinite rankings", ACM TOIS 28(4)), extrapolated form RBO_ext for lists S (length l)
  and T (length s <= l), eq. (32)::

      RBO_ext = (1-p)/p · ( Σ_{d=1..l} X_d/d · p^d + Σ_{d=s+1..l} X_s·(d-s)/(s·d) · p^d )
                + ( (X_l - X_s)/l + X_s/s ) · p^l

  where X_d = |S_{:d} ∩ T_{:d}| is the overlap at depth d (for d > s, T contributes its s
  items). With s = l this is eq. (30), X_k/k · p^k + (1-p)/p · Σ X_d/d · p^d. Two empty
  lists give 1, one empty list gives 0.
* **overlap@k** = |top_k(A) ∩ top_k(B)| / k.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from clirlens.core.types import Run


@dataclass(frozen=True)
class RankAgreement:
    """Agreement of two rankings of one query, over their top ``k`` (RBO with persistence
    ``p``). Any value may be NaN where undefined (see the module notes)."""

    query_id: str
    k: int
    kendall_tau: float
    weighted_tau: float
    rbo: float
    overlap: float


def _top(ids: Sequence[str], k: int) -> list[str]:
    top = list(ids[:k])
    if len(set(top)) != len(top):
        dup = next(x for x in top if top.count(x) > 1)
        raise ValueError(f"ranking lists {dup!r} twice")
    return top


def _union_ranks(a: list[str], b: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Ranks (1-based; k + 1 for missing) of the union of ``a`` and ``b`` in each list."""
    items = list(dict.fromkeys(a + b))
    ra = {x: i + 1 for i, x in enumerate(a)}
    rb = {x: i + 1 for i, x in enumerate(b)}
    return (
        np.array([ra.get(x, k + 1) for x in items], dtype=np.float64),
        np.array([rb.get(x, k + 1) for x in items], dtype=np.float64),
    )


def _taus(a: Sequence[str], b: Sequence[str], k: int) -> tuple[float, float]:
    """Kendall's tau-b and weighted tau over the union of the top ``k`` of ``a`` and ``b``
    (missing items at rank k+1); 1 for identical lists, NaN where undefined."""
    ta, tb = _top(a, k), _top(b, k)
    if ta and ta == tb:
        return 1.0, 1.0
    ra, rb = _union_ranks(ta, tb, k)
    if ra.size < 2 or np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return math.nan, math.nan
    return _pairwise_taus(-ra, -rb)


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, 1)


def _pairwise_taus(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Over the pairs i < j, with s_ij = sgn(x_i − x_j)·sgn(y_i − y_j)::

        tau-b = Σ s_ij / ( sqrt(#{x_i ≠ x_j}) · sqrt(#{y_i ≠ y_j}) )        (Kendall 1945)
        tau_w = Σ w_ij s_ij / ( sqrt(Σ_{x_i ≠ x_j} w_ij) · sqrt(Σ_{y_i ≠ y_j} w_ij) )

    with hyperbolic additive weights w_ij = 1/(r_i + 1) + 1/(r_j + 1), r the decreasing
    lexicographic rank by (x, y), averaged with the one by (y, x) (Vigna 2015, "A weighted
    correlation index for rankings with ties", WWW; scipy's ``weightedtau`` defaults)."""
    i, j = _pairs(x.size)
    dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    s = dx * dy
    tau_b = s.sum() / math.sqrt(np.count_nonzero(dx)) / math.sqrt(np.count_nonzero(dy))
    weighted = 0.0
    for first, second in ((x, y), (y, x)):
        rank = np.empty(x.size)
        rank[np.lexsort((second, first))[::-1]] = np.arange(x.size)
        w = 1.0 / (rank + 1.0)
        wij = w[i] + w[j]
        den = math.sqrt(wij[dx != 0].sum()) * math.sqrt(wij[dy != 0].sum())
        weighted += (wij * s).sum() / den / 2
    return float(min(1.0, max(-1.0, tau_b))), float(weighted)


def kendall_tau(a: Sequence[str], b: Sequence[str], k: int = 10) -> float:
    """Kendall's tau-b between the top ``k`` of ``a`` and of ``b`` (union, missing at k+1)."""
    return _taus(a, b, k)[0]


def weighted_tau(a: Sequence[str], b: Sequence[str], k: int = 10) -> float:
    """Vigna's weighted tau (hyperbolic weigher, additive, ranks from both lists averaged, as
    :func:`scipy.stats.weightedtau` does by default) over the union of the top ``k``."""
    return _taus(a, b, k)[1]


def rbo(a: Sequence[str], b: Sequence[str], p: float = 0.9, k: int | None = None) -> float:
    """Extrapolated rank-biased overlap RBO_ext (Webber et al. 2010, eq. 32) of the top ``k``
    of ``a`` and ``b`` (whole lists when ``k`` is None); persistence ``0 < p < 1``."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"RBO persistence p must be in (0, 1), got {p}")
    ta = _top(a, len(a) if k is None else k)
    tb = _top(b, len(b) if k is None else k)
    long_, short = (ta, tb) if len(ta) >= len(tb) else (tb, ta)
    n_long, s = len(long_), len(short)
    if s == 0:
        return 1.0 if n_long == 0 else 0.0
    short_set, seen_long, seen_short = set(short), set(), set()
    x = 0  # X_d, the overlap at depth d
    total = 0.0
    x_s = 0
    for d in range(1, n_long + 1):
        item = long_[d - 1]
        seen_long.add(item)
        if d <= s:
            other = short[d - 1]
            seen_short.add(other)
            x += (item in seen_short) + (other in seen_long and other != item)
            if d == s:
                x_s = x
        else:
            x += item in short_set
            total += x_s * (d - s) / (s * d) * p**d
        total += x / d * p**d
    return (1 - p) / p * total + ((x - x_s) / n_long + x_s / s) * p**n_long


def overlap(a: Sequence[str], b: Sequence[str], k: int = 10) -> float:
    """|top_k(a) ∩ top_k(b)| / k."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    return len(set(_top(a, k)) & set(_top(b, k))) / k


def rank_agreement(
    a: Sequence[str], b: Sequence[str], *, k: int = 10, p: float = 0.9, query_id: str = ""
) -> RankAgreement:
    """All four agreement measures between two rankings (passage ids, best first)."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    return RankAgreement(query_id, k, *_taus(a, b, k), rbo(a, b, p, k), overlap(a, b, k))


def run_agreement(
    a: Run, b: Run, *, k: int = 10, p: float = 0.9, query_ids: Iterable[str] | None = None
) -> list[RankAgreement]:
    """Per-query agreement of two runs. Queries default to those of ``a`` followed by those
    only in ``b``; a query missing from a run counts as an empty ranking there."""
    if query_ids is None:
        query_ids = list(dict.fromkeys([*a.rankings, *b.rankings]))
    out = []
    for q in query_ids:
        ids_a = [sp.passage_id for sp in a.top(q, k)]
        ids_b = [sp.passage_id for sp in b.top(q, k)]
        out.append(rank_agreement(ids_a, ids_b, k=k, p=p, query_id=q))
    return out
