"""XQuAD-R language preference of a workspace's models, as the dashboard runs it (the same
construction and scoring as ``clirlens eval --task xquad-r``,
:mod:`clirlens.core.evaluation.lareqa`; a test holds the two equal)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clirlens.core.data.xquad import load_xquad
from clirlens.core.errors import UserError
from clirlens.core.evaluation.lareqa import (
    LAREQA_LANGS,
    LanguagePreference,
    XquadR,
    build_xquad_r,
    language_preference,
)
from clirlens.core.progress import Job, relabel
from clirlens.core.retrieval.retriever import make_retriever


def default_langs(workspace: Any) -> list[str]:
    """LAReQA's eleven languages, those the workspace's XQuAD folder has."""
    if workspace.config.kind != "xquad":
        return []
    return [lang for lang in LAREQA_LANGS if lang in load_xquad(workspace.config.dataset).langs]


def workspace_preference(
    workspace: Any, models: Sequence[int], langs: Sequence[str], k: int = 10
) -> Job[tuple[XquadR, list[LanguagePreference]]]:
    """XQuAD-R over ``langs`` of the workspace's XQuAD folder, scored by ``models`` (fresh
    retrievers sharing the workspace's embedding cache: the workspace's own indexes stay)."""
    cfg = workspace.config
    if cfg.kind != "xquad":
        raise UserError("XQuAD-R is built from an XQuAD folder: open an XQuAD workspace")
    specs = [workspace.specs[m] for m in models]
    lazy = [s.name for s in specs if s.kind != "dense"]
    if lazy:
        raise UserError(f"{lazy[0]} is not a dense model: XQuAD-R compares embeddings")
    task = build_xquad_r(load_xquad(cfg.dataset, langs), langs, cfg.subset)
    results = []
    for spec in specs:
        retriever = make_retriever(spec, device=cfg.device, dtype=cfg.dtype,
                                   batch_size=cfg.batch_size, cache=workspace.cache)  # fmt: skip
        result = yield from relabel(language_preference(retriever, task, k=k), spec.name)
        results.append(result)
    return task, results
