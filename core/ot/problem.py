"""The OT problem a user asks for: which solvers exist, their defaults, and which method runs.

Kept apart from the solvers (:mod:`clirlens.core.ot.solvers` for one problem,
:mod:`clirlens.core.ot.scaling` for padded batches) so that both, and every caller that
validates parameters before any model work, share one definition.

``resolve_solver`` picks the method actually run: ``"sinkhorn"`` becomes the log-domain
iteration below :data:`LOG_DOMAIN_BELOW`, where ``K = exp(-C / ε)`` would underflow for
cosine costs in [0, 2] (see :mod:`clirlens.core.ot.solvers` for the formulations).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from clirlens.core.errors import UserError

Solver = Literal["sinkhorn", "sinkhorn_log", "emd", "unbalanced"]
SOLVERS: tuple[str, ...] = ("sinkhorn", "sinkhorn_log", "emd", "unbalanced")
LOG_DOMAIN_BELOW = 0.005
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
    if solver == "unbalanced":
        if tau is None or not tau > 0:
            raise UserError(f"unbalanced OT needs a marginal relaxation τ > 0, got {tau!r}")
        return solver
    if solver == "sinkhorn" and eps < LOG_DOMAIN_BELOW:
        return "sinkhorn_log"
    return solver
