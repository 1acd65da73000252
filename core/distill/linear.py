"""A linear map from the student's pooled space to the teacher's, by ridge regression.

``W = argmin ||X₁ W − Y||² + λ ||W||²`` with ``X₁ = [X, 1]`` (the bias is not penalised),
solved in closed form. ``λ`` is chosen by k-fold cross-validation on the fitting pairs
themselves (the mean squared error of the held-out fold), from a fixed grid, so no
evaluated question informs it. Plain least squares (λ = 0) over a few hundred English
questions in 384 dimensions overfits: the grid and the cross-validation are the measured
reason this is not ``np.linalg.lstsq``.

Used twice, so the two figures come from one fit: the linear-map baseline (fitted on the
English side only, :meth:`clirlens.core.distill.heldout.Judge.baselines`) and the
initialisation of a student's projection head (fitted on the bitext,
:meth:`clirlens.core.distill.student.Student.init_head`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LAMBDAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)


@dataclass(frozen=True)
class LinearMap:
    """``y ≈ x W + b`` (``W`` ``(in, out)``), and the λ cross-validation chose."""

    weight: np.ndarray
    bias: np.ndarray
    lam: float

    def apply(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) @ self.weight + self.bias


def _solve(x: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    mx, my = x.mean(0), y.mean(0)  # centring = an unpenalised bias
    xc, yc = x - mx, y - my
    w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ yc)
    return w, my - mx @ w


def fit_ridge(
    x: np.ndarray, y: np.ndarray, lambdas=LAMBDAS, folds: int = 5, seed: int = 0
) -> LinearMap:
    """The ridge map ``x → y`` with λ chosen by ``folds``-fold cross-validation."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 * folds:
        w, b = _solve(x, y, lambdas[-1])
        return LinearMap(w, b, lambdas[-1])
    fold = np.random.RandomState(seed).permutation(len(x)) % folds
    errors = []
    for lam in lambdas:
        err = 0.0
        for k in range(folds):
            w, b = _solve(x[fold != k], y[fold != k], lam)
            err += float(((x[fold == k] @ w + b - y[fold == k]) ** 2).sum())
        errors.append(err)
    lam = lambdas[int(np.argmin(errors))]
    w, b = _solve(x, y, lam)
    return LinearMap(w, b, lam)
