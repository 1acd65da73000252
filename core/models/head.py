"""A linear projection head after pooling: a sentence-transformers ``Dense`` module.

A distilled student may carry one (``--head``, :mod:`clirlens.core.distill.student`): the
chain ``Transformer → Pooling → [Normalize] → Dense(identity) → Normalize`` of its
``modules.json``. The head maps ``x`` (the pooled vector, made unit first when a
``Normalize`` module precedes the ``Dense`` one) to ``W x + b``. The same map applies to
each last-layer token state (unit first, always: the OT cost is a cosine), which is what
the student was trained with, so the align view shows the student's own alignment.

Only the identity activation is read: anything else is refused with one line, since
clirlens would otherwise give embeddings that differ from sentence-transformers'.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clirlens.core.errors import ModelError

IDENTITY = "torch.nn.modules.linear.Identity"


@dataclass(frozen=True, eq=False)
class Head:
    """``W`` ``(out, in)``, ``b`` ``(out,)``; ``unit_input``: a Normalize module precedes."""

    weight: np.ndarray
    bias: np.ndarray
    unit_input: bool
    digest: str  # identity of the weights, for cache keys

    def apply(self, x: np.ndarray, unit: bool | None = None) -> np.ndarray:
        """``W x + b`` for each row of ``x`` (made unit first if ``unit``, default: as the
        module chain says)."""
        x = np.asarray(x, dtype=np.float32)
        if self.unit_input if unit is None else unit:
            x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)
        return x @ self.weight.T + self.bias


def read_head(folder: Path) -> Head | None:
    """The ``Dense`` head named in ``folder/modules.json``, or None when there is none."""
    path = Path(folder) / "modules.json"
    if not path.is_file():
        return None
    try:
        modules = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # st_files reports a broken modules.json in clirlens' words
    if not isinstance(modules, list):
        return None
    unit = False
    for module in modules:
        mtype = str(module.get("type", "")) if isinstance(module, dict) else ""
        if mtype.endswith("Normalize"):
            unit = True
        elif mtype.endswith("Dense"):
            return _load_dense(Path(folder) / str(module.get("path", "")), unit)
    return None


def _load_dense(where: Path, unit: bool) -> Head:
    try:
        config = json.loads((where / "config.json").read_text(encoding="utf-8"))
        activation = config.get("activation_function", IDENTITY)
    except (OSError, ValueError, AttributeError):
        raise ModelError(
            f"{where / 'config.json'}: cannot read the Dense module's config"
        ) from None
    if activation != IDENTITY:
        raise ModelError(
            f"{where}: a Dense head with activation {activation!r} is not supported "
            "(clirlens reads identity heads only)"
        )
    file = where / "model.safetensors"
    try:
        from safetensors.numpy import load_file

        tensors = load_file(str(file))
        weight = np.asarray(tensors["linear.weight"], dtype=np.float32)
        bias = tensors.get("linear.bias")
        bias = np.zeros(weight.shape[0], np.float32) if bias is None else bias.astype(np.float32)
        digest = hashlib.sha256(file.read_bytes()).hexdigest()[:16]
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(
            f"{file}: cannot read the Dense head's weights ({type(exc).__name__})"
        ) from None
    return Head(weight, bias, unit, digest)


def write_head(where: Path, weight: np.ndarray, bias: np.ndarray) -> None:
    """Write an identity ``Dense`` module (sentence-transformers' layout) into ``where``."""
    from safetensors.numpy import save_file

    where.mkdir(parents=True, exist_ok=True)
    out_features, in_features = weight.shape
    config = {
        "in_features": int(in_features),
        "out_features": int(out_features),
        "bias": True,
        "activation_function": IDENTITY,
    }
    (where / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    save_file(
        {
            "linear.weight": np.ascontiguousarray(weight, dtype=np.float32),
            "linear.bias": np.ascontiguousarray(bias, dtype=np.float32),
        },
        str(where / "model.safetensors"),
    )
