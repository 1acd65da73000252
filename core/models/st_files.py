"""A sentence-transformers model folder's own conventions.

Pooling from ``1_Pooling/config.json`` (the module path named in ``modules.json``),
normalisation from a ``Normalize`` module, ``max_seq_length`` from
``sentence_bert_config.json``, query/passage prompts from
``config_sentence_transformers.json``. Each value read is recorded as coming from its file.
"""

from __future__ import annotations

from pathlib import Path

from clirlens.core.errors import ModelError, UserError
from clirlens.core.jsonio import parse_json
from clirlens.core.models.spec import ModelSpec


def apply_sentence_transformers_config(spec: ModelSpec, folder: Path) -> ModelSpec:
    """``spec`` with the conventions ``folder``'s sentence-transformers files give (module
    notes), each recorded as coming from its file. A pinned preset keeps its own values;
    conventions set by hand are never overridden."""
    if spec.pinned or spec.kind != "dense":
        return spec
    modules = _read_json(folder / "modules.json")
    if modules is None:
        return spec
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise ModelError(
            f"{folder / 'modules.json'}: expected a list of modules (objects with type and "
            f"path), got {type(modules).__name__}"
        )
    changes: dict[str, tuple[object, str]] = {}
    has_normalize = False
    for module in modules:
        mtype = str(module.get("type", ""))
        if mtype.endswith("Pooling"):
            where = Path(str(module.get("path", ""))) / "config.json"
            cfg = _read_json(folder / where) or {}
            if not isinstance(cfg, dict):
                raise ModelError(f"{folder / where}: expected a JSON object")
            file = f"model files ({where.as_posix()})"
            if cfg.get("pooling_mode_cls_token"):
                changes["pooling"] = ("cls", file)
            elif cfg.get("pooling_mode_mean_tokens"):
                changes["pooling"] = ("mean", file)
            elif cfg.get("pooling_mode"):
                mode = cfg["pooling_mode"]
                if mode not in ("cls", "mean"):
                    raise ModelError(
                        f"{folder / where}: pooling mode {mode!r} is not supported (cls or mean)"
                    )
                changes["pooling"] = (mode, file)
            else:
                raise ModelError(
                    f"{folder / where}: no supported pooling mode (cls or mean) is switched on"
                )
        elif mtype.endswith("Normalize"):
            has_normalize = True
    if spec.preset is None:  # a preset's similarity is part of its documented recipe
        changes["similarity"] = ("cosine" if has_normalize else "ip", "model files (modules.json)")
    st_cfg = _read_json(folder / "sentence_bert_config.json") or {}
    if not isinstance(st_cfg, dict):
        raise ModelError(f"{folder / 'sentence_bert_config.json'}: expected a JSON object")
    length = st_cfg.get("max_seq_length")
    if length is not None:
        if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
            raise ModelError(
                f"{folder / 'sentence_bert_config.json'}: max_seq_length must be a positive "
                f"whole number, got {length!r}"
            )
        changes["max_length"] = (length, "model files (sentence_bert_config.json)")
    if st_cfg.get("do_lower_case") is True:
        changes["lowercase"] = (True, "model files (sentence_bert_config.json)")
    config = _read_json(folder / "config_sentence_transformers.json") or {}
    prompts = (config.get("prompts") if isinstance(config, dict) else None) or {}
    if not isinstance(prompts, dict):
        raise ModelError(
            f"{folder / 'config_sentence_transformers.json'}: prompts must be an object"
        )
    for role in ("query", "passage"):
        for key in (role, "document" if role == "passage" else "query"):
            if isinstance(prompts.get(key), str):
                changes[f"{role}_prefix"] = (
                    prompts[key],
                    "model files (config_sentence_transformers.json)",
                )
                break
    for key, (value, origin) in changes.items():
        if spec.origin(key) != "set by hand":
            spec = spec.with_conventions(origin, **{key: value})
    return spec


_ROBERTA = {"roberta", "xlm-roberta", "camembert"}  # positions start at pad_token_id + 1


def position_limit(folder: Path) -> int | None:
    """How many tokens the model's position embeddings cover (``config.json``), or None
    when it does not say."""
    config = _read_json(folder / "config.json")
    if not isinstance(config, dict):
        return None
    n = config.get("max_position_embeddings")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        return None
    if config.get("model_type") in _ROBERTA:
        n -= int(config.get("pad_token_id") or 1) + 1
    return n


def cap_max_length(spec: ModelSpec, folder: Path) -> ModelSpec:
    """``spec`` with ``max_length`` capped at the model's position limit (a longer text would
    index past its position embeddings); the origin says it was capped."""
    limit = position_limit(folder) if spec.kind == "dense" else None
    if limit is None or spec.max_length <= limit:
        return spec
    was = f"{spec.max_length} from {spec.origin('max_length')}"
    return spec.with_conventions(
        f"capped at the model's {limit} positions (config.json; was {was})", max_length=limit
    )


def _read_json(path: Path) -> object | None:
    if not path.is_file():
        return None
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        return parse_json(raw, str(path))
    except UserError as exc:
        raise ModelError(str(exc)) from None
