"""The ridge map of the linear-map baseline and of a student's head: equal to scikit-learn's
Ridge at the λ it chose, and the cross-validation picks a small λ for clean data and a large
one when a few noisy pairs would otherwise be fitted exactly."""

from __future__ import annotations

import numpy as np
import pytest

from clirlens.core.distill.linear import LAMBDAS, fit_ridge


def test_the_fit_equals_scikit_learns_ridge_with_an_unpenalised_bias():
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(80, 6)), rng.normal(size=(80, 3))
    ours = fit_ridge(x, y)
    ref = linear_model.Ridge(alpha=ours.lam, fit_intercept=True).fit(x, y)
    np.testing.assert_allclose(ours.weight, ref.coef_.T, atol=1e-9)
    np.testing.assert_allclose(ours.bias, ref.intercept_, atol=1e-9)
    np.testing.assert_allclose(ours.apply(x[:5]), ref.predict(x[:5]), atol=1e-9)


def test_cross_validation_chooses_lambda_by_the_data():
    rng = np.random.default_rng(1)
    w, b = rng.normal(size=(8, 4)), rng.normal(size=4)
    x = rng.normal(size=(200, 8))
    clean = fit_ridge(x, x @ w + b)
    assert clean.lam == LAMBDAS[0]
    np.testing.assert_allclose(clean.apply(x), x @ w + b, atol=1e-3)
    # as many features as pairs, pure noise targets: only a strong penalty generalises
    xn, yn = rng.normal(size=(40, 30)), rng.normal(size=(40, 4))
    assert fit_ridge(xn, yn).lam == LAMBDAS[-1]
