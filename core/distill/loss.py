"""The OPTICAL distillation loss (Huang, Yu & Allan, WSDM 2023, arXiv 2301.12566), batched.

For pair ``k`` with student token states ``s_1..s_n`` (low-resource side, content tokens)
and teacher token states ``t_1..t_m`` (English side, content tokens, frozen):

    C_k[i, j] = 1 - cos(s_i, t_j)
    P_k = argmin_P <P, C_k> - ε H(P)  subject to  P 1 = a,  P^T 1 = b   (Sinkhorn, no gradient)
    loss = (1/B) sum_k <P_k, C_k>_F

with ``a``, ``b`` uniform over each side's tokens (or proportional to the token vectors'
norms, ``weights="norm"``). The plans of a mini-batch are solved together on the padded
``(B, n, m)`` cost by the project's batched solver
(:func:`clirlens.core.ot.scaling.solve_padded`, exact for padding, the same iterations as
POT's ``ot.sinkhorn`` per problem); the gradient flows through ``C`` only, so
``dloss/dC_k = P_k / B``.

:func:`sentence_loss` is the optional sentence-level term: the squared distance between the
student's and the teacher's L2-normalised retrieval embeddings, ``||u/|u| - v/|v|||^2``
(= 2 - 2 cos), averaged over the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clirlens.core.ot.scaling import blas_single_thread, solve_padded

TRAIN_TOL = 1e-6  # Sinkhorn stopping tolerance while training (plans change every step)
TRAIN_MAX_ITER = 2000


def masses(mask: Any, vectors: Any | None = None, weights: str = "uniform") -> np.ndarray:
    """Token marginals ``(B, n)`` summing to 1 per row, zero on padding."""
    import torch

    m = mask.to(torch.float64)
    if weights == "norm" and vectors is not None:
        m = m * vectors.detach().to(torch.float64).norm(dim=-1)
    return (m / m.sum(dim=1, keepdim=True).clamp(min=1e-300)).numpy()


def ot_loss(
    student: Any,
    student_mask: Any,
    teacher: Any,
    teacher_mask: Any,
    *,
    eps: float = 0.05,
    weights: str = "uniform",
    tol: float = TRAIN_TOL,
    max_iter: int = TRAIN_MAX_ITER,
) -> tuple[Any, np.ndarray, int]:
    """``(loss, per-pair costs, unconverged plans)`` for padded token states ``student``
    ``(B, n, H)`` (with gradient) and ``teacher`` ``(B, m, H)``, masks ``(B, n)`` / ``(B, m)``
    true on content tokens (module notes)."""
    import torch

    dtype = torch.float64 if student.dtype == torch.float64 else torch.float32  # (bf16: fp32)
    s = torch.nn.functional.normalize(student.to(dtype), dim=-1)
    t = torch.nn.functional.normalize(teacher.to(dtype), dim=-1)
    cost = 1.0 - s @ t.transpose(1, 2)
    a = masses(student_mask, student, weights)
    b = masses(teacher_mask, teacher, weights)
    with blas_single_thread():
        _, _, ok, plans = solve_padded(
            cost.detach().to(torch.float64).numpy(), a, b, solver="sinkhorn", eps=eps,
            tol=tol, max_iter=max_iter, return_plans=True,
        )  # fmt: skip
    plan = torch.from_numpy(plans).to(cost.dtype)
    per_pair = (plan * cost).sum(dim=(1, 2))
    return per_pair.mean(), per_pair.detach().to(torch.float64).numpy(), int((~ok).sum())


def sentence_loss(student: Any, teacher: Any) -> Any:
    """Mean of ``||u/|u| - v/|v|||^2`` over the batch (``(B, H)`` each, ``teacher`` frozen)."""
    import torch

    u = torch.nn.functional.normalize(student.float(), dim=-1)
    v = torch.nn.functional.normalize(teacher.float(), dim=-1)
    return ((u - v) ** 2).sum(dim=-1).mean()
