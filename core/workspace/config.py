"""What a workspace opens: the dataset, the models, the languages and the settings that
decide its figures (saved with a workspace, in the recent list and in report manifests)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clirlens.core.errors import UserError
from clirlens.core.retrieval.index import INDEX_KINDS

DATASET_KINDS = ("xquad", "beir", "irds")  # irds: an ir_datasets id, core/data/irds.py
DTYPES = ("fp32", "bf16")


@dataclass(frozen=True)
class WorkspaceConfig:
    """What a workspace opens. ``query_langs``/``doc_langs`` empty: every language of the
    dataset (BEIR folders carry one language each way, ``und`` unless given)."""

    dataset: str
    kind: str = "xquad"
    models: tuple[str, ...] = ()
    query_langs: tuple[str, ...] = ()
    doc_langs: tuple[str, ...] = ()
    subset: int | None = None
    k: int = 100
    agreement_k: int = 10
    dtype: str = "fp32"
    batch_size: int = 32
    split: str = "test"
    db: str | None = None
    device: str = "auto"
    index: str = "auto"

    def __post_init__(self) -> None:
        for name in ("models", "query_langs", "doc_langs"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.kind not in DATASET_KINDS:
            raise UserError(f"dataset kind {self.kind!r} is unknown (xquad, beir or irds)")
        if self.dtype not in DTYPES:
            raise UserError(f"dtype {self.dtype!r} is unknown (fp32 or bf16)")
        if self.index not in INDEX_KINDS:
            raise UserError(f"index {self.index!r} is unknown ({', '.join(INDEX_KINDS)})")
        for name in ("k", "agreement_k", "batch_size"):
            if int(getattr(self, name)) <= 0:
                raise UserError(f"{name} must be positive, got {getattr(self, name)}")
        if self.subset is not None and self.subset <= 0:
            raise UserError(f"subset must be positive, got {self.subset}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for name in ("models", "query_langs", "doc_langs"):
            d[name] = list(d[name])
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorkspaceConfig:
        """Inverse of :meth:`to_dict`; unknown keys are ignored (older/newer versions)."""
        names = {f.name for f in dataclasses.fields(cls)}
        if "dataset" not in data:
            raise UserError("workspace description has no dataset")
        try:
            return cls(**{k: v for k, v in data.items() if k in names})
        except TypeError as exc:
            raise UserError(f"workspace description is malformed: {exc}") from None

    @property
    def label(self) -> str:
        """A short human name, e.g. ``xquad · th→en · me5-small vs MiniLM``."""
        name = self.dataset if self.kind == "irds" else Path(self.dataset).name or self.dataset
        langs = ""
        if self.query_langs or self.doc_langs:
            q = self.query_langs[0] if self.query_langs else "*"
            d = self.doc_langs[0] if self.doc_langs else "*"
            langs = f" · {q}→{d}"
        models = " vs ".join(_short_model(m) for m in self.models)
        sub = f" · first {self.subset}" if self.subset else ""
        return f"{self.kind} {name}{langs}{sub} · {models}"


def _short_model(arg: str) -> str:
    if arg.startswith("run:"):
        return f"{arg[4:].split('=', 1)[0]} (run)"
    head = arg.split("=", 1)[0] if "=" in arg else arg
    return Path(head).name or head
