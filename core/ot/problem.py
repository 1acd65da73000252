"""The OT problem a user asks for: which solvers exist, the parameters of an alignment
(:class:`OTParams`, the one record the command line, the align view and the dashboard
build), their defaults, and which method runs.

Kept apart from the solvers (:mod:`clirlens.core.ot.solvers` for one problem,
:mod:`clirlens.core.ot.scaling` for padded batches) so that both, and every caller that
validates parameters before any model work, share one definition.

``resolve_solver`` picks the method actually run: ``"sinkhorn"`` becomes the log-domain
iteration below :data:`LOG_DOMAIN_BELOW`, where ``K = exp(-C / ε)`` would underflow for
cosine costs in [0, 2] (see :mod:`clirlens.core.ot.solvers` for the formulations).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from clirlens.core.errors import UserError

Solver = Literal["sinkhorn", "sinkhorn_log", "emd", "unbalanced"]
WeightScheme = Literal["uniform", "norm"]
WEIGHT_SCHEMES: tuple[str, ...] = ("uniform", "norm")
SOLVERS: tuple[str, ...] = ("sinkhorn", "sinkhorn_log", "emd", "unbalanced")
LOG_DOMAIN_BELOW = 0.005
# below this ε the entropic plans of cosine costs need far more than the iteration budget
# (measured: random 15 x 12 problems stop unconverged at 10,000 iterations from ε ≈ 3e-4),
# so such a value is refused rather than answered with a plan that is not the asked one
MIN_EPS = 1e-4
DEFAULT_TOL = 1e-9
DEFAULT_MAX_ITER = 10_000


def resolve_solver(solver: str, eps: float, tau: float | None) -> str:
    """Validate the parameters and return the method that will run."""
    if solver not in SOLVERS:
        raise UserError(f"unknown OT solver {solver!r} (choose from {', '.join(SOLVERS)})")
    if solver == "emd":
        return solver
    if not (eps > 0 and np.isfinite(eps)):
        raise UserError(
            f"entropic regularisation ε must be a positive number, got {eps!r} "
            "(use the EMD solver for ε = 0)"
        )
    if eps < MIN_EPS:
        raise UserError(
            f"ε = {eps:g} is below {MIN_EPS:g}, where the entropic solvers cannot converge: "
            "use a larger ε, or the exact EMD solver (--emd)"
        )
    if solver == "unbalanced":
        if tau is None or not tau > 0:
            raise UserError(f"unbalanced OT needs a marginal relaxation τ > 0, got {tau!r}")
        return solver
    if solver == "sinkhorn" and eps < LOG_DOMAIN_BELOW:
        return "sinkhorn_log"
    return solver


@dataclass(frozen=True)
class OTParams:
    """One alignment's transport problem and the token states it is posed on.

    ``solver``: one of :data:`SOLVERS`; ``eps``: the entropic regularisation ε (ignored by
    EMD); ``tau``: the marginal relaxation τ (unbalanced OT only, ignored otherwise);
    ``weights``: the token masses (uniform, or by vector norm); ``layer``: the hidden layer
    (-1 the last, 0 the embeddings); ``words``: sub-word pieces merged into words.
    """

    solver: str = "sinkhorn"
    eps: float = 0.05
    tau: float | None = None
    weights: str = "uniform"
    layer: int = -1
    words: bool = False

    @property
    def method(self) -> str:
        """The method that will run (validates everything; :class:`UserError` otherwise)."""
        if self.weights not in WEIGHT_SCHEMES:
            raise UserError(
                f"unknown token weighting {self.weights!r} ({' or '.join(WEIGHT_SCHEMES)})"
            )
        return resolve_solver(self.solver, self.eps, self.tau)

    def solve_args(self) -> dict[str, Any]:
        """``solver``, ``eps``, ``tau`` as the solvers take them (τ only for unbalanced OT)."""
        return {
            "solver": self.solver,
            "eps": self.eps,
            "tau": self.tau if self.solver == "unbalanced" else None,
        }

    def replace(self, **changes: Any) -> OTParams:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OTParams:
        """Inverse of :meth:`to_dict`; an unknown key is a :class:`UserError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise UserError(
                f"unknown OT parameter {unknown[0]!r} (known: {', '.join(sorted(names))})"
            )
        return cls(**data)


DEFAULT_OT = OTParams()


@dataclass(frozen=True)
class ScoringOptions:
    """Which parallel pairs an alignment score uses: the mean cost over the first
    ``cost_pairs`` pairs (None: all) and translation retrieval among ``n`` candidates,
    ``pick`` ed evenly over the dataset (``"spread"``) or the first ``n``; ``pivot`` is the
    language of the parallel side. The same defaults serve ``clirlens align-score`` and the
    dashboard, so both print the same scores."""

    pivot: str = "en"
    n: int = 200
    cost_pairs: int | None = 300
    pick: str = "spread"


DEFAULT_SCORING = ScoringOptions()
