"""The models a user can pick, and which of them work without the internet.

Choices come from four places: the presets of :mod:`clirlens.core.models.spec`, model
folders the user added before (remembered by the application), the Hugging Face cache
(``huggingface_hub.scan_cache_dir``; any repository whose snapshot has a ``config.json``
and weights), and hub ids typed by hand. A choice is *local* when its files are on this
machine (a folder, a cached snapshot, or BM25, which needs no weights); a preset is local
when its hub repository is in the cache. :func:`offline_help` explains what to do when too
few models are local to compare two.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clirlens.core.models.spec import PRESETS


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the model picker. ``arg`` is the ``--model`` value."""

    arg: str
    label: str
    origin: str  # "preset" | "folder" | "hf-cache" | "hub"
    local: bool
    detail: str = ""


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` is set to a true value."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def is_model_dir(path: Path) -> bool:
    """A folder with a transformers ``config.json`` and weights."""
    return (path / "config.json").is_file() and (
        any(path.glob("*.safetensors")) or (path / "pytorch_model.bin").is_file()
    )


def hf_cache_models(cache_dir: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Model repositories in the Hugging Face cache with a usable snapshot: repo id ->
    snapshot folder (the most recently modified one). Empty when huggingface_hub is not
    installed or the cache does not exist or cannot be read."""
    try:
        from huggingface_hub import scan_cache_dir
    except ImportError:
        return {}
    try:
        info = scan_cache_dir(cache_dir)
    except Exception:  # CacheNotFound, permission errors, a half-deleted cache...
        return {}
    found: dict[str, Path] = {}
    for repo in info.repos:
        if getattr(repo, "repo_type", "model") != "model":
            continue
        snapshots = sorted(
            (r for r in repo.revisions if is_model_dir(Path(r.snapshot_path))),
            key=lambda r: getattr(r, "last_modified", 0),
            reverse=True,
        )
        if snapshots:
            found[repo.repo_id] = Path(snapshots[0].snapshot_path)
    return found


def model_choices(
    folders: Iterable[str | os.PathLike[str]] = (), cache: dict[str, Path] | None = None
) -> list[ModelChoice]:
    """Presets, then remembered folders (those still on disk), then other cached hub
    models. ``cache`` defaults to :func:`hf_cache_models`."""
    cache = hf_cache_models() if cache is None else cache
    out: list[ModelChoice] = []
    for name, spec in PRESETS.items():
        if spec.kind == "bm25":
            out.append(
                ModelChoice(
                    name,
                    "BM25 (lexical baseline)",
                    "preset",
                    True,
                    "same-language only; no download",
                )
            )
            continue
        local = spec.source in cache
        out.append(
            ModelChoice(
                name,
                f"{name}  ({spec.source})",
                "preset",
                local,
                "in the Hugging Face cache"
                if local
                else "downloads from the Hugging Face Hub on first use",
            )
        )
    seen: set[str] = set()
    for folder in folders:
        path = Path(folder).expanduser()
        key = str(path.resolve()) if path.exists() else str(path)
        if key in seen or not is_model_dir(path):
            continue
        seen.add(key)
        out.append(
            ModelChoice(key, f"{path.name}  ({path.parent})", "folder", True, "local folder")
        )
    preset_sources = {s.source for s in PRESETS.values()}
    for repo_id in sorted(cache):
        if repo_id not in preset_sources:
            out.append(ModelChoice(repo_id, repo_id, "hf-cache", True, "in the Hugging Face cache"))
    return out


def hub_choice(repo_id: str) -> ModelChoice:
    """A hub id typed by the user (not known to be local)."""
    return ModelChoice(repo_id, repo_id, "hub", False, "downloads from the Hugging Face Hub")


def offline_help(choices: Sequence[ModelChoice], offline: bool | None = None) -> str | None:
    """A message when fewer than two dense models are on this machine, saying how to get
    one; ``None`` when at least two are. ``offline`` defaults to :func:`hub_offline`."""
    offline = hub_offline() if offline is None else offline
    dense_local = [c for c in choices if c.local and c.arg != "bm25" and c.origin != "run"]
    if len(dense_local) >= 2:
        return None
    example = PRESETS["me5-small"].source
    ways = (
        f"run `hf download {example}` on a machine with internet and copy its Hugging "
        "Face cache here, or use “Add model folder…” to pick a downloaded model "
        "directory (BM25 needs no download)"
    )
    if offline:
        return (
            "Offline (HF_HUB_OFFLINE is set) and "
            f"{'only one model is' if dense_local else 'no dense model is'} on this "
            f"machine. To get one: {ways}."
        )
    return (
        f"{'Only one dense model is' if dense_local else 'No dense model is'} on this "
        "machine yet. Presets and hub ids download on first use, which needs the "
        f"internet. Without it: {ways}."
    )
