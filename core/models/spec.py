"""What a retriever is: :class:`ModelSpec`, the presets of docs/architecture.md §3, and parsing of the
``--model`` argument.

A model is named on the command line or in the GUI as one of

* a preset name: ``webfaq``, ``tydi``, ``me5-small``, ``bm25``;
* a preset bound to a local directory: ``me5-small=/models/e5`` (keeps the preset's pooling
  and prefixes, loads the weights from the directory);
* a local directory (conventions read from its sentence-transformers files when present);
* a Hugging Face hub id such as ``org/name`` (likewise).

Conventions that are not pinned by a preset are read from sentence-transformers files
(``modules.json``, ``1_Pooling/config.json``, ``sentence_bert_config.json``,
``config_sentence_transformers.json``) by :func:`apply_sentence_transformers_config`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from clirlens.core.errors import ModelError

Pooling = Literal["cls", "mean"]
Similarity = Literal["cosine", "ip"]
Role = Literal["query", "passage"]


@dataclass(frozen=True)
class ModelSpec:
    """A retriever and the conventions that decide its correctness.

    ``similarity="cosine"`` means embeddings are L2-normalised and compared by inner
    product; ``"ip"`` means raw inner product (DPR-style). ``title_join`` is the string put
    between a passage's title and text (``None``: the title is not used). ``lowercase``
    pins the tokenizer's letter case when a tokenizer class is known to get it wrong
    (``None``: trust the tokenizer files).
    """

    name: str
    source: str
    kind: Literal["dense", "bm25"] = "dense"
    revision: str | None = None
    pooling: Pooling = "mean"
    similarity: Similarity = "cosine"
    query_prefix: str = ""
    passage_prefix: str = ""
    max_length: int = 512
    title_join: str | None = None
    lowercase: bool | None = None
    # True when pooling/prefixes/max_length come from the preset and must not be
    # overridden by files found in the model directory.
    pinned: bool = False

    @property
    def normalize(self) -> bool:
        return self.similarity == "cosine"

    def prefix(self, role: Role) -> str:
        return self.query_prefix if role == "query" else self.passage_prefix

    def conventions(self) -> dict[str, object]:
        """Everything but the label and the source: what changes embeddings."""
        d = dataclasses.asdict(self)
        for key in ("name", "source", "pinned"):
            d.pop(key)
        return d

    def with_source(self, source: str) -> ModelSpec:
        return dataclasses.replace(self, source=source)


PRESETS: dict[str, ModelSpec] = {
    # XLM-R base fine-tuned on MS MARCO then WebFAQ (PaDaS-Lab). Pooling comes from its own
    # sentence-transformers config (mean expected), hence not pinned.
    "webfaq": ModelSpec(
        name="webfaq",
        source="PaDaS-Lab/xlm-roberta-base-msmarco-webfaq",
        pooling="mean",
        similarity="cosine",
        max_length=512,
    ),
    # Tied mDPR (mBERT), MS MARCO then Mr.TyDi all languages (castorini). Pyserini encodes
    # with CLS pooling, raw inner product, passages as title + " " + text, max length 256.
    # Its DPR tokenizer class lower-cases under transformers 5 unless corrected: pinned cased.
    "tydi": ModelSpec(
        name="tydi",
        source="castorini/mdpr-tied-pft-msmarco-ft-all",
        pooling="cls",
        similarity="ip",
        max_length=256,
        title_join=" ",
        lowercase=False,
        pinned=True,
    ),
    "me5-small": ModelSpec(
        name="me5-small",
        source="intfloat/multilingual-e5-small",
        pooling="mean",
        similarity="cosine",
        query_prefix="query: ",
        passage_prefix="passage: ",
        max_length=512,
        pinned=True,
    ),
    "bm25": ModelSpec(name="bm25", source="bm25s", kind="bm25", similarity="ip", pinned=True),
}


def parse_model_arg(arg: str) -> ModelSpec:
    """Turn a ``--model`` value into a spec (no file is read beyond existence checks)."""
    text = arg.strip()
    if not text:
        raise ModelError(
            "empty --model value: give a preset ("
            + ", ".join(PRESETS)
            + "), a hub id, or a local directory"
        )
    if "=" in text:
        preset, _, location = text.partition("=")
        preset = preset.strip()
        if preset not in PRESETS:
            raise ModelError(
                f"unknown preset {preset!r} in --model {arg!r}; presets: " + ", ".join(PRESETS)
            )
        if PRESETS[preset].kind != "dense":
            raise ModelError(f"preset {preset!r} has no weights to load from {location!r}")
        path = Path(location).expanduser()
        if not path.is_dir():
            raise ModelError(f"model directory {location!r} (for preset {preset!r}) does not exist")
        return PRESETS[preset].with_source(str(path.resolve()))
    if text in PRESETS:
        return PRESETS[text]
    path = Path(text).expanduser()
    if path.is_dir():
        return ModelSpec(name=path.resolve().name, source=str(path.resolve()))
    if _looks_like_hub_id(text):
        return ModelSpec(name=text.split("/")[-1], source=text)
    raise ModelError(
        f"unknown model {arg!r}: not a preset ("
        + ", ".join(PRESETS)
        + "), not an existing directory, not a hub id of the form org/name"
    )


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and all(c.isalnum() or c in "-_." for c in text.replace("/", ""))
    )


def apply_sentence_transformers_config(spec: ModelSpec, folder: Path) -> ModelSpec:
    """Read a sentence-transformers model folder's own conventions into ``spec``.

    Pooling from ``1_Pooling/config.json`` (the module path named in ``modules.json``),
    normalisation from a ``Normalize`` module, ``max_seq_length`` from
    ``sentence_bert_config.json``, query/passage prompts from
    ``config_sentence_transformers.json``. A pinned preset keeps its own values.
    """
    if spec.pinned or spec.kind != "dense":
        return spec
    modules = _read_json(folder / "modules.json")
    if modules is None:
        return spec
    changes: dict[str, object] = {}
    has_normalize = False
    for module in modules:
        mtype = str(module.get("type", ""))
        if mtype.endswith("Pooling"):
            cfg = _read_json(folder / module.get("path", "") / "config.json") or {}
            if cfg.get("pooling_mode_cls_token"):
                changes["pooling"] = "cls"
            elif cfg.get("pooling_mode_mean_tokens"):
                changes["pooling"] = "mean"
            elif cfg.get("pooling_mode"):
                mode = cfg["pooling_mode"]
                if mode not in ("cls", "mean"):
                    raise ModelError(
                        f"{folder}: pooling mode {mode!r} is not supported (cls or mean)"
                    )
                changes["pooling"] = mode
            else:
                raise ModelError(
                    f"{folder / module.get('path', '')}/config.json: no supported "
                    "pooling mode (cls or mean) is switched on"
                )
        elif mtype.endswith("Normalize"):
            has_normalize = True
    if spec.name not in PRESETS:  # a preset's similarity is part of its documented recipe
        changes["similarity"] = "cosine" if has_normalize else "ip"
    st_cfg = _read_json(folder / "sentence_bert_config.json") or {}
    if isinstance(st_cfg.get("max_seq_length"), int):
        changes["max_length"] = st_cfg["max_seq_length"]
    if st_cfg.get("do_lower_case") is True:
        changes["lowercase"] = True
    prompts = (_read_json(folder / "config_sentence_transformers.json") or {}).get("prompts") or {}
    for role in ("query", "passage"):
        for key in (role, "document" if role == "passage" else "query"):
            if isinstance(prompts.get(key), str):
                changes[f"{role}_prefix"] = prompts[key]
                break
    return dataclasses.replace(spec, **changes)


def _read_json(path: Path) -> object | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable JSON ({exc})") from exc
