"""Finding and loading a model's files (docs/architecture.md §3, loading rules).

* Local directories load as they are; hub ids resolve to a snapshot directory through
  ``huggingface_hub`` (respecting ``HF_HOME`` and ``HF_HUB_OFFLINE``), downloading only the
  files an encoder needs, safetensors preferred.
* ``trust_remote_code=False`` always. Weights are read from safetensors when the model has
  them; otherwise transformers reads ``pytorch_model.bin`` with ``weights_only=True`` (no
  arbitrary unpickling).
* A model that is neither local nor reachable raises :class:`ModelError` naming it and how
  to get it.
* The same model (source, revision, device) loaded twice in one process is reused; weights
  are kept in fp32 (bf16 encoders share them: see the encoder's notes).
* A tokenizer built once is kept, pickled, under the cache folder's ``tokenizers/`` and
  loaded from there while its files and the library versions stay the same; models whose
  tokenizer files are the same share one tokenizer in the process (tokcache.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clirlens.core.errors import ModelError, library_message
from clirlens.core.memory import no_gc
from clirlens.core.models.head import Head, read_head
from clirlens.core.models.spec import ModelSpec
from clirlens.core.models.st_files import apply_sentence_transformers_config, cap_max_length
from clirlens.core.models.tokcache import cached_tokenizer
from clirlens.core.paths import cache_dir

# Files an encoder needs from a hub snapshot; *.bin only when no safetensors exist.
_NEEDED = [
    "*.json", "*.txt", "*.model", "sentencepiece*", "*.safetensors", "1_Pooling/*", "*_Dense/*",
]  # fmt: skip


@dataclass(frozen=True)
class ResolvedModel:
    """A spec whose files are on disk, with the identity that keys caches."""

    spec: ModelSpec  # conventions completed from the folder's sentence-transformers files
    path: Path
    revision: str  # hub commit hash, or "sha256:<weights hash>" for a local directory


def resolve(spec: ModelSpec, memo_dir: Path | None = None) -> ResolvedModel:
    """Locate ``spec``'s files (downloading from the hub when allowed and needed);
    ``memo_dir`` keeps the memo of local weight hashes (default: the cache folder)."""
    if spec.kind != "dense":
        raise ModelError(f"model {spec.name!r} is not a dense encoder")
    local = Path(spec.source).expanduser()
    if local.is_dir():
        path = local.resolve()
        if not (path / "config.json").is_file():
            raise ModelError(
                f"model directory {path} has no config.json: not a transformers model folder"
            )
        revision = "sha256:" + weights_hash(path, memo_dir)
    else:
        path, revision = _snapshot(spec)
    completed = cap_max_length(apply_sentence_transformers_config(spec, path), path)
    return ResolvedModel(completed, path, revision)


def _snapshot(spec: ModelSpec) -> tuple[Path, str]:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    local = f"--model {spec.preset}=/path/to/model" if spec.preset else "--model /path/to/model"
    how = (
        f"download it where there is internet with `hf download {spec.source}` (then copy "
        f"the HF cache), or pass a local directory: {local}"
    )
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    kwargs: dict[str, Any] = {"repo_id": spec.source, "revision": spec.revision}
    try:
        path = Path(
            snapshot_download(**kwargs, local_files_only=True, allow_patterns=[*_NEEDED, "*.bin"])
        )
        if not _has_weights(path):
            raise LocalEntryNotFoundError("no weights in cached snapshot")
    except (LocalEntryNotFoundError, FileNotFoundError, OSError):
        if offline:
            raise ModelError(
                f"model {spec.source!r} is not in the local Hugging Face cache "
                f"and HF_HUB_OFFLINE is set: {how}"
            ) from None
        try:
            path = Path(snapshot_download(**kwargs, allow_patterns=_NEEDED))
            if not _has_weights(path):  # no safetensors on the hub: take the .bin
                path = Path(snapshot_download(**kwargs, allow_patterns=[*_NEEDED, "*.bin"]))
        except (RepositoryNotFoundError, GatedRepoError, RevisionNotFoundError) as exc:
            raise ModelError(
                f"model {spec.source!r} (revision {spec.revision or 'main'}) "
                f"is not available on the hub: {type(exc).__name__}"
            ) from None
        except Exception as exc:  # connection errors come in many types
            raise ModelError(
                f"model {spec.source!r} is neither local nor reachable "
                f"({type(exc).__name__}): {how}"
            ) from None
    if not _has_weights(path):
        raise ModelError(f"model {spec.source!r}: the snapshot at {path} has no weights")
    return path, path.name  # snapshot folders are named by commit hash


def peek_conventions(spec: ModelSpec) -> ModelSpec:
    """``spec`` with the conventions its files give, when they are on this machine (a local
    folder, or a snapshot in the Hugging Face cache); nothing is downloaded, no weight is
    read or hashed. For showing a model's conventions before it is opened."""
    return peek(spec)[0]


def peek(spec: ModelSpec) -> tuple[ModelSpec, bool]:
    """:func:`peek_conventions`, and whether the model's files were found here."""
    if spec.kind != "dense":
        return spec, True
    local = Path(spec.source).expanduser()
    if local.is_dir():
        return cap_max_length(apply_sentence_transformers_config(spec, local), local), True
    try:
        from huggingface_hub import snapshot_download

        path = Path(
            snapshot_download(
                repo_id=spec.source,
                revision=spec.revision,
                local_files_only=True,
                allow_patterns=["*.json", "1_Pooling/*"],
            )
        )
    except Exception:  # not cached (or huggingface_hub absent): the files are not here
        return spec, False
    return cap_max_length(apply_sentence_transformers_config(spec, path), path), True


def _has_weights(path: Path) -> bool:
    return any(path.glob("*.safetensors")) or (path / "pytorch_model.bin").is_file()


def weights_hash(path: Path, memo_dir: Path | None = None) -> str:
    """sha256 over the weight files of a local model folder, remembered so a 500 MB file is
    hashed once, not at every start.

    The memo is keyed by each file's inode, size, modification and *change* time: a copy
    can keep the modification time (``cp -p``, ``touch -r``, unpacking an archive) but not
    the inode change time, which the system sets on every write, so new weights of the same
    size are never taken for the old ones."""
    files = sorted(path.glob("*.safetensors")) or sorted(path.glob("pytorch_model*.bin"))
    if not files:
        raise ModelError(f"model directory {path} has no model.safetensors or pytorch_model.bin")
    memo_file = (memo_dir or cache_dir()) / "weight-hashes.json"
    try:
        memo = json.loads(memo_file.read_text())
    except (OSError, ValueError, RecursionError):
        memo = {}
    stamp = ";".join(
        f"{f}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"
        for f in files
        if (st := f.stat())
    )
    if memo.get(stamp):
        return memo[stamp]
    h = hashlib.sha256()
    for f in files:
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                h.update(block)
    digest = h.hexdigest()
    memo[stamp] = digest
    try:
        memo_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_file.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo))
        os.replace(tmp, memo_file)
    except OSError:
        pass  # a memo that cannot be written only costs time
    return digest


@dataclass
class LoadedModel:
    resolved: ResolvedModel
    tokenizer: Any
    model: Any
    device: str
    dtype: str
    head: Head | None = None  # a Dense projection after pooling (core/models/head.py)


_CACHE: dict[tuple[str, str, str, str], LoadedModel] = {}
_LOCK = threading.Lock()


def pick_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def load(
    spec: ModelSpec, device: str = "auto", dtype: str = "fp32", memo_dir: Path | None = None
) -> LoadedModel:
    """Tokenizer and model for ``spec``, reused within the process."""
    if dtype not in ("fp32", "bf16"):
        raise ModelError(f"dtype {dtype!r} is not supported (fp32 or bf16)")
    resolved = resolve(spec, memo_dir)
    dev = pick_device(device)
    # weights stay fp32 whatever ``dtype`` is (bf16 runs under autocast or from the packed
    # path's own bf16 copy, see encoder), so an fp32 and a bf16 encoder share one copy
    key = (str(resolved.path), resolved.revision, dev, "fp32")
    with _LOCK:
        if key in _CACHE:
            cached = _CACHE[key]
            # same weights, possibly other conventions (e.g. a preset bound to a folder)
            return LoadedModel(resolved, cached.tokenizer, cached.model, dev, dtype, cached.head)
        loaded = _load_uncached(resolved, dev, dtype, memo_dir, share=True)
        _CACHE[key] = loaded
        return loaded


def load_copy(
    spec: ModelSpec, device: str = "auto", dtype: str = "fp32", memo_dir: Path | None = None
) -> LoadedModel:
    """A private copy of ``spec``'s tokenizer and model (not shared with any encoder): what
    a training run changes without touching the weights others read."""
    return _load_uncached(resolve(spec, memo_dir), pick_device(device), dtype, memo_dir)


def _load_uncached(
    resolved: ResolvedModel,
    device: str,
    dtype: str,
    memo_dir: Path | None = None,
    share: bool = False,
) -> LoadedModel:
    # the cyclic GC paused: loading builds a tokenizer's vocabulary (hundreds of thousands
    # of pieces, parsed from JSON more than once) and imports the model's modules, and the
    # collector would walk those young objects again and again (README, "Corpora at scale")
    with no_gc():
        return _load_now(resolved, device, dtype, (memo_dir or cache_dir()) / "tokenizers", share)


def _load_now(
    resolved: ResolvedModel, device: str, dtype: str, tokenizers: Path, share: bool
) -> LoadedModel:
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # our own progress reporting, not tqdm on stderr
    path = resolved.path
    try:
        tokenizer = cached_tokenizer(
            path,
            tokenizers,
            lambda: AutoTokenizer.from_pretrained(path, trust_remote_code=False),
            share=share,  # a private copy for training (load_copy)
            variant=resolved.spec.lowercase,
            prepare=lambda tok: fix_letter_case(tok, resolved.spec.lowercase),
        )
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"model {resolved.spec.source!r}: cannot load its tokenizer from {path} "
            f"({library_message(exc)})"
        ) from None
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # its tables of missing weights: checked below instead
    try:
        model, info = AutoModel.from_pretrained(
            path,
            trust_remote_code=False,
            dtype=torch.float32,
            use_safetensors=True if any(path.glob("*.safetensors")) else None,
            output_loading_info=True,
        )
    except Exception as exc:
        raise ModelError(
            f"model {resolved.spec.source!r}: cannot load its weights from {path} "
            f"({library_message(exc)})"
        ) from None
    finally:
        hf_logging.set_verbosity(verbosity)
    check_weights(path, info, len(model.state_dict()))
    model.eval().to(device)
    return LoadedModel(resolved, tokenizer, model, device, dtype, read_head(path))


# weights a retriever does not use (an unused pooler, heads of other tasks): not loading
# them changes no embedding
_UNUSED = ("pooler.", "cls.", "lm_head.", "classifier.", "qa_outputs.", "score.")


def _unused(key: str) -> bool:
    return key.endswith("position_ids") or any(key.startswith(p) or f".{p}" in key for p in _UNUSED)


def check_weights(path: Path, info: dict[str, Any], total: int) -> None:
    """Refuse a model whose weight file does not hold its architecture's tensors:
    transformers would initialise the missing layers at random and carry on, and every
    embedding would be silently wrong (and cached). Missing or mismatched backbone
    tensors, or backbone tensors the architecture has no place for, are a
    :class:`ModelError`; heads a retriever does not use may be missing or extra."""
    missing = sorted(k for k in info.get("missing_keys", ()) if not _unused(k))
    unexpected = sorted(k for k in info.get("unexpected_keys", ()) if not _unused(k))
    mismatched = sorted(
        str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys", ())
    )
    if not (missing or unexpected or mismatched):
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} of its {total} tensors are missing (e.g. {missing[0]})")
    if mismatched:
        parts.append(f"{len(mismatched)} have the wrong shape (e.g. {mismatched[0]})")
    if unexpected:
        parts.append(f"{len(unexpected)} are not in its architecture (e.g. {unexpected[0]})")
    raise ModelError(
        f"model folder {path}: the weights do not match config.json ({'; '.join(parts)}), so "
        "layers would run with random values: check that the weights and config.json belong "
        "to the same model"
    )


def fix_letter_case(tokenizer: Any, lowercase: bool | None) -> None:
    """Make a fast tokenizer's normaliser agree with the intended letter case.

    transformers 5's DPR tokenizer classes take ``do_lower_case=False`` but do not pass it to
    ``BertTokenizer``, whose normaliser then lower-cases cased mBERT input (seen with
    castorini's mDPR). When ``lowercase`` is given (a preset pins it), or the tokenizer itself
    says ``do_lower_case=False`` while its normaliser lower-cases, the normaliser is rebuilt.
    """
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or backend.normalizer is None:
        return
    wanted = lowercase
    if wanted is None and getattr(tokenizer, "do_lower_case", None) is False:
        wanted = False
    if wanted is None:
        return
    lowers = backend.normalizer.normalize_str("AÉ") != "AÉ"
    if lowers == wanted:
        return
    from tokenizers import normalizers

    state = json.loads(backend.to_str()).get("normalizer") or {}
    if state.get("type") != "BertNormalizer":
        raise ModelError(
            f"tokenizer {type(tokenizer).__name__}: cannot set letter case on a "
            f"{state.get('type')} normaliser"
        )
    backend.normalizer = normalizers.BertNormalizer(
        clean_text=state.get("clean_text", True),
        handle_chinese_chars=state.get("handle_chinese_chars", True),
        strip_accents=state.get("strip_accents") if wanted else False,
        lowercase=wanted,
    )
    tokenizer.do_lower_case = wanted
