"""Agreement figures against hand computation and the libraries called directly."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from clirlens.core.errors import UserError
from clirlens.storage.agreement import (
    aggregate_qrels,
    compute_agreement,
    majority_grade,
    weighted_kappa,
)
from clirlens.storage.records import Judgment
from clirlens.storage.repository import JudgmentRepository

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _judgments(table: dict[str, list[int | None]]) -> list[Judgment]:
    out = []
    for who, grades in table.items():
        for i, g in enumerate(grades):
            if g is not None:
                out.append(Judgment(0, "c", who, i, "q", f"d{i}", g, None, None, T0, T0))
    return out


def _kappa_by_hand(y1: list[int], y2: list[int], power: int) -> float:
    """κ_w = 1 − Σ w·O / Σ w·E with w_ij = |i−j|^power over the labels 0–3 (Cohen 1968)."""
    k = 4
    observed = np.zeros((k, k))
    for a, b in zip(y1, y2, strict=True):
        observed[a, b] += 1
    expected = np.outer(observed.sum(1), observed.sum(0)) / observed.sum()
    w = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) ** power
    return 1 - (w * observed).sum() / (w * expected).sum()


def test_weighted_kappa_matches_the_formula():
    y1 = [0, 1, 2, 3, 3, 2, 1, 0, 2, 2]
    y2 = [0, 2, 2, 3, 2, 2, 0, 0, 3, 1]
    quad, lin = weighted_kappa(y1, y2, "quadratic"), weighted_kappa(y1, y2, "linear")
    assert quad == pytest.approx(_kappa_by_hand(y1, y2, 2))
    assert lin == pytest.approx(_kappa_by_hand(y1, y2, 1))
    assert quad > lin  # near-misses cost less under quadratic weights
    assert weighted_kappa([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert math.isnan(weighted_kappa([], []))
    assert math.isnan(weighted_kappa([2, 2], [2, 2]))  # no variation: undefined
    with pytest.raises(UserError, match="weights"):
        weighted_kappa(y1, y2, "cubic")


def test_agreement_of_three_annotators_with_missing_judgments():
    table = {
        "ann": [3, 2, 0, 1, 2, None, 3],
        "bob": [3, 1, 0, 1, 3, 2, None],
        "cat": [2, 2, 1, None, 3, 2, 0],
    }
    result = compute_agreement("c", _judgments(table))
    assert result.annotators == ("ann", "bob", "cat") and result.weights == "quadratic"
    assert result.n_items == 7
    pairs = {(p.a, p.b): p for p in result.pairs}
    ab = [(x, y) for x, y in zip(table["ann"], table["bob"], strict=True) if None not in (x, y)]
    assert pairs[("ann", "bob")].n == len(ab) == 5
    assert pairs[("ann", "bob")].kappa == pytest.approx(
        cohen_kappa_score(*zip(*ab, strict=True), labels=[0, 1, 2, 3], weights="quadratic")
    )
    matrix = np.array([[np.nan if g is None else g for g in row] for row in table.values()])
    assert result.alpha == pytest.approx(
        krippendorff.alpha(matrix, level_of_measurement="ordinal", value_domain=[0, 1, 2, 3])
    )
    assert math.isnan(result.kappa)  # only defined for exactly two annotators


def test_perfect_and_undefined_agreement():
    perfect = compute_agreement("c", _judgments({"a": [0, 1, 2, 3], "b": [0, 1, 2, 3]}))
    assert perfect.kappa == pytest.approx(1.0) and perfect.alpha == pytest.approx(1.0)
    flat = compute_agreement("c", _judgments({"a": [2, 2], "b": [2, 2]}))
    assert math.isnan(flat.kappa) and math.isnan(flat.alpha)
    alone = compute_agreement("c", _judgments({"a": [1, 2]}))
    assert alone.pairs == () and math.isnan(alone.alpha)


def test_aggregation_rules():
    assert majority_grade([1, 2, 2]) == 2 and majority_grade([3, 0]) == 0
    js = _judgments({"a": [3, 0], "b": [2, 0], "c": [0, 1]})
    assert dict(aggregate_qrels(js).data["q"]) == {"d0": 0, "d1": 0}  # d0: 3/2/0 tie -> 0
    assert dict(aggregate_qrels(js, method="mean", threshold=1.5).data["q"]) == {"d0": 1, "d1": 0}
    assert dict(aggregate_qrels(js, annotator="a").data["q"]) == {"d0": 3, "d1": 0}
    with pytest.raises(UserError, match="method"):
        aggregate_qrels(js, method="median")


def test_repository_agreement_and_qrels(repo: JudgmentRepository, campaign):
    items = repo.items(campaign.name)[:6]
    for n, it in enumerate(items):
        repo.judge(it.id, "ann", n % 4)
        repo.judge(it.id, "bob", (n + (n % 2)) % 4)
    result = repo.agreement(campaign.name, weights="linear")
    assert result.n_items == 6 and result.pairs[0].n == 6
    assert result.kappa == pytest.approx(
        cohen_kappa_score(
            [n % 4 for n in range(6)],
            [(n + n % 2) % 4 for n in range(6)],
            labels=[0, 1, 2, 3],
            weights="linear",
        )
    )
    qrels = repo.qrels(campaign.name, annotator="bob")
    assert len(qrels) == 6
    with pytest.raises(UserError, match="no judgments"):
        repo.qrels(campaign.name, annotator="zoe")
