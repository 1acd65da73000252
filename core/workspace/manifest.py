"""What an evaluation needs to be reproduced: the dataset and its checksums, each model with
its resolved revision or weight hash and the conventions it ran with (and where each came
from), every parameter of the plan, package versions, the machine, timings.

Written as ``manifest.json`` beside every saved report (:mod:`clirlens.core.workspace.results`)
by the CLI and the dashboard alike.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clirlens.core.hashing import file_sha256

if TYPE_CHECKING:
    from clirlens.core.workspace.workspace import Workspace

PACKAGES = (
    "clirlens",
    "torch",
    "transformers",
    "faiss-cpu",
    "ir-measures",
    "bm25s",
    "pot",
    "numpy",
    "scipy",
)


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def dataset_record(workspace: Workspace) -> dict[str, Any]:
    cfg = workspace.config
    if cfg.kind == "irds":  # ir_datasets verifies its downloads against its own hashes
        import ir_datasets

        return {"kind": "irds", "dataset": cfg.dataset, "ir_datasets": ir_datasets.__version__,
                **({"subset": cfg.subset} if cfg.subset else {})}  # fmt: skip
    record: dict[str, Any] = {"kind": cfg.kind, "folder": str(Path(cfg.dataset).resolve())}
    if cfg.subset:
        record["subset"] = cfg.subset
    if cfg.kind == "xquad":
        langs = sorted(set(workspace.query_langs) | set(workspace.doc_langs))
        xquad = workspace._xquad
        assert xquad is not None
        record["sha256"] = {lang: xquad.fingerprint(lang) for lang in langs}
    else:
        folder = Path(cfg.dataset)
        files = ["corpus.jsonl", "queries.jsonl", f"qrels/{cfg.split}.tsv"]
        record["split"] = cfg.split
        record["sha256"] = {f: file_sha256(folder / f) for f in files if (folder / f).is_file()}
    return record


def workspace_record(workspace: Workspace, doc_lang: str) -> dict[str, Any]:
    """The dataset and every model (resolved revision or weight hash, the conventions it ran
    with and where each came from) of ``workspace``, and how it retrieves."""
    return {
        "dataset": dataset_record(workspace),
        "models": [
            workspace.retriever(i, doc_lang).describe() for i in range(len(workspace.specs))
        ],
        "depth": workspace.config.k,
        "dtype": workspace.config.dtype,
        "index": workspace.config.index,
    }


def environment(timings: Mapping[str, float]) -> dict[str, Any]:
    """Package versions, Python, the platform, when, and how long each step took."""
    return {
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "timings_s": dict(timings),
    }
