"""Agreement between annotators, and qrels for evaluation from several annotators' grades.

Agreement (from well-kept libraries, not re-derived here):

* **weighted Cohen's κ** for every pair of annotators, over the items both judged, with
  :func:`sklearn.metrics.cohen_kappa_score` on the labels 0–3. κ = 1 − Σ w·O / Σ w·E, with O the
  observed and E the chance-expected (product of marginals) confusion matrix and disagreement
  weights w_ij = |i − j|² (``"quadratic"``, the default: grades are ordinal and a 0-vs-3
  disagreement should cost nine times a 0-vs-1 one; quadratic κ is also the one comparable with
  an intraclass correlation) or |i − j| (``"linear"``). Cohen (1968), Psychological Bulletin 70.
* **Krippendorff's α**, ordinal metric, for all annotators together, with the
  ``krippendorff`` package: α = 1 − D_o / D_e over every item judged by at least two
  annotators; it allows missing judgments and any number of annotators. Krippendorff (2004),
  Content Analysis, ch. 11.

Both are ``nan`` when undefined (no shared items, or nobody ever disagrees by chance because
every grade given was the same).

Aggregated qrels (``method``): ``"majority"`` — the most frequent grade of an item, ties broken
towards the lower grade (conservative); ``"mean"`` — binary relevance, 1 when the mean grade is
at least ``threshold`` (default 2.0 = "relevant"), else 0.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.types import Qrels

from .records import GRADES, Judgment

WEIGHTS = ("quadratic", "linear")
METHODS = ("majority", "mean")


@dataclass(frozen=True)
class PairAgreement:
    a: str
    b: str
    kappa: float  # weighted Cohen's kappa (nan when undefined)
    n: int  # items both judged


@dataclass(frozen=True)
class Agreement:
    campaign: str
    annotators: tuple[str, ...]
    weights: str
    pairs: tuple[PairAgreement, ...]
    alpha: float  # Krippendorff's alpha, ordinal (nan when undefined)
    n_items: int  # items judged by at least two annotators

    @property
    def kappa(self) -> float:
        """Cohen's kappa when there are exactly two annotators (nan otherwise)."""
        return self.pairs[0].kappa if len(self.pairs) == 1 else math.nan


def _grade_table(judgments: Iterable[Judgment]) -> dict[int, dict[str, int]]:
    table: dict[int, dict[str, int]] = defaultdict(dict)
    for j in judgments:
        table[j.item_id][j.annotator] = j.grade
    return table


def weighted_kappa(y1: Sequence[int], y2: Sequence[int], weights: str = "quadratic") -> float:
    if weights not in WEIGHTS:
        raise UserError(f"kappa weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    if len(y1) == 0:
        return math.nan
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(y1, y2, labels=list(GRADES), weights=weights)
    return float(value)


def ordinal_alpha(matrix: np.ndarray) -> float:
    """Krippendorff's ordinal α of an annotators × items matrix (nan = not judged)."""
    if matrix.shape[0] < 2 or (np.sum(~np.isnan(matrix), axis=0) >= 2).sum() == 0:
        return math.nan
    import krippendorff

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = krippendorff.alpha(
                reliability_data=matrix, level_of_measurement="ordinal", value_domain=list(GRADES)
            )
    except (ValueError, ZeroDivisionError):
        return math.nan
    return float(value)


def compute_agreement(
    campaign: str, judgments: Iterable[Judgment], weights: str = "quadratic"
) -> Agreement:
    table = _grade_table(judgments)
    annotators = tuple(sorted({a for grades in table.values() for a in grades}))
    pairs = []
    for a, b in combinations(annotators, 2):
        shared = [(g[a], g[b]) for g in table.values() if a in g and b in g]
        kappa = weighted_kappa([x for x, _ in shared], [y for _, y in shared], weights)
        pairs.append(PairAgreement(a, b, kappa, len(shared)))
    if weights not in WEIGHTS:  # also when there are no pairs to compute
        raise UserError(f"kappa weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    items = sorted(table)
    matrix = np.full((len(annotators), len(items)), np.nan)
    for col, item in enumerate(items):
        for row, a in enumerate(annotators):
            if a in table[item]:
                matrix[row, col] = table[item][a]
    n_items = sum(1 for g in table.values() if len(g) >= 2)
    return Agreement(campaign, annotators, weights, tuple(pairs), ordinal_alpha(matrix), n_items)


def majority_grade(grades: Sequence[int]) -> int:
    """Most frequent grade; ties go to the lowest tied grade."""
    counts = Counter(grades)
    best = max(counts.values())
    return min(g for g, c in counts.items() if c == best)


def mean_relevance(grades: Sequence[int], threshold: float) -> int:
    """1 when the mean grade reaches ``threshold``, else 0."""
    return int(sum(grades) / len(grades) >= threshold)


def aggregate_qrels(
    judgments: Iterable[Judgment],
    *,
    annotator: str | None = None,
    method: str = "majority",
    threshold: float = 2.0,
) -> Qrels:
    """Qrels of one annotator (``annotator`` given: their grades as they are), or of all
    annotators aggregated by ``method`` (module docstring)."""
    if annotator is not None:
        return Qrels.from_triples(
            (j.query_id, j.passage_id, j.grade) for j in judgments if j.annotator == annotator
        )
    if method not in METHODS:
        raise UserError(f"aggregation method must be one of {', '.join(METHODS)}, got {method!r}")
    if not math.isfinite(threshold):
        raise UserError(f"threshold must be a number, got {threshold!r}")
    by_pair: dict[tuple[str, str], list[int]] = defaultdict(list)
    for j in judgments:
        by_pair[(j.query_id, j.passage_id)].append(j.grade)
    if method == "majority":
        return Qrels.from_triples((q, d, majority_grade(g)) for (q, d), g in by_pair.items())
    return Qrels.from_triples((q, d, mean_relevance(g, threshold)) for (q, d), g in by_pair.items())
