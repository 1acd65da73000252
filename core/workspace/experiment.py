"""A reproducible evaluation: several retrievers over the directions of a parallel dataset.

For every document language the corpus is prepared once per model (embeddings cached on
disk), then every query language is searched against it; each run is evaluated against the
dataset's qrels (:func:`clirlens.core.evaluation.metrics.evaluate`). With two or more models, the
first two are compared per direction and measure (paired t-test and permutation test, Holm
across directions). :func:`save` writes the TREC runs, per-query metrics, ``metrics.json``
and a manifest that records everything needed to reproduce the numbers.
"""

from __future__ import annotations

import csv
import json
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clirlens.core.data import trec
from clirlens.core.data.xquad import XQuAD
from clirlens.core.errors import UserError
from clirlens.core.evaluation.metrics import DEFAULT_MEASURES, Evaluation, evaluate, parse_measures
from clirlens.core.evaluation.significance import PairedTest, compare_directions_job
from clirlens.core.progress import Job, relabel
from clirlens.core.retrieval.retriever import Retriever
from clirlens.core.types import Direction, RetrievalTask, Run


@dataclass(frozen=True)
class DirectionResult:
    query_lang: str
    doc_lang: str
    runs: dict[str, Run]
    evaluations: dict[str, Evaluation]

    @property
    def label(self) -> str:
        return Direction(self.query_lang, self.doc_lang).label


@dataclass(frozen=True)
class ExperimentResult:
    models: tuple[str, ...]
    measures: tuple[str, ...]
    directions: tuple[DirectionResult, ...]
    comparisons: tuple[PairedTest, ...]  # model A vs model B, empty with one model
    timings: dict[str, float] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    def metric_records(self) -> list[dict[str, Any]]:
        """``metrics.json`` records: model, query_lang, doc_lang, measure, value (0-1)."""
        return [
            {
                "model": model,
                "query_lang": d.query_lang,
                "doc_lang": d.doc_lang,
                "measure": m,
                "value": ev.aggregate[m],
            }
            for d in self.directions
            for model, ev in d.evaluations.items()
            for m in self.measures
        ]


def run_experiment(
    dataset: XQuAD,
    retrievers: Sequence[Retriever],
    query_langs: Sequence[str],
    doc_langs: Sequence[str],
    *,
    measures: Sequence[str] = DEFAULT_MEASURES,
    k: int = 100,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Job[ExperimentResult]:
    """Evaluate every retriever on every direction ``q -> d``; a generator (Progress)."""
    names = [r.name for r in retrievers]
    if len(set(names)) != len(names):
        raise UserError(f"two models share the label {names}: give each a distinct model")
    lexical = [r.name for r in retrievers if r.kind == "bm25"]
    crossing = [f"{q}->{d}" for q in query_langs for d in doc_langs if q != d]
    if lexical and crossing:
        raise UserError(
            f"{lexical[0]} is a same-language baseline but the directions "
            f"{', '.join(crossing)} cross languages: evaluate it with "
            "--query-langs equal to --doc-langs"
        )
    measure_names = tuple(str(m) for m in parse_measures(measures))
    for lang in dict.fromkeys([*query_langs, *doc_langs]):
        dataset.queries(lang)  # parse and check parallelism before any model work
    timings: dict[str, float] = {}
    directions: list[DirectionResult] = []
    for dlang in doc_langs:
        corpus = dataset.passages(dlang)
        for r in retrievers:
            t0 = time.perf_counter()
            yield from relabel(r.prepare(corpus), f"{r.name} {dlang} corpus")
            timings[f"prepare/{r.name}/{dlang}"] = time.perf_counter() - t0
        for qlang in query_langs:
            task: RetrievalTask = dataset.task(qlang, dlang)
            runs, evals = {}, {}
            for r in retrievers:
                t0 = time.perf_counter()
                run = yield from relabel(r.search(task.queries, k), f"{r.name} {qlang}->{dlang}")
                timings[f"search/{r.name}/{qlang}-{dlang}"] = time.perf_counter() - t0
                runs[r.name] = run
                evals[r.name] = evaluate(run, task.qrels, measure_names)
            directions.append(DirectionResult(qlang, dlang, runs, evals))
    comparisons: list[PairedTest] = []
    if len(retrievers) >= 2:
        a, b = names[0], names[1]
        pairs = {d.label: (d.evaluations[a], d.evaluations[b]) for d in directions}
        t0 = time.perf_counter()
        comparisons = yield from compare_directions_job(
            pairs, measure_names, n_resamples=n_resamples, seed=seed
        )
        timings["significance"] = time.perf_counter() - t0
    manifest = _manifest(
        dataset, retrievers, query_langs, doc_langs, measure_names, k, n_resamples, seed
    )
    return ExperimentResult(
        tuple(names), measure_names, tuple(directions), tuple(comparisons), timings, manifest
    )


def _manifest(
    dataset: XQuAD,
    retrievers: Sequence[Retriever],
    query_langs: Sequence[str],
    doc_langs: Sequence[str],
    measures: Sequence[str],
    k: int,
    n_resamples: int,
    seed: int,
) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    packages = {}
    for pkg in (
        "clirlens",
        "torch",
        "transformers",
        "faiss-cpu",
        "ir-measures",
        "bm25s",
        "numpy",
        "scipy",
    ):
        try:
            packages[pkg] = version(pkg)
        except PackageNotFoundError:
            packages[pkg] = None
    langs = sorted(set(query_langs) | set(doc_langs))
    return {
        "dataset": {
            "kind": "xquad",
            "folder": str(dataset.folder),
            "sha256": {lang: dataset.fingerprint(lang) for lang in langs},
        },
        "models": [r.describe() for r in retrievers],
        "query_langs": list(query_langs),
        "doc_langs": list(doc_langs),
        "measures": list(measures),
        "k": k,
        "significance": {
            "tests": ["paired t-test", "paired permutation"],
            "correction": "Holm across directions",
            "n_resamples": n_resamples,
            "seed": seed,
        },
        "packages": packages,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def save(result: ExperimentResult, out: Path, config: dict[str, Any] | None = None) -> None:
    """Write runs (TREC), per-query metrics (CSV), metrics.json, comparisons.json,
    manifest.json and the config (TOML) that produced them into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "runs").mkdir(exist_ok=True)
    for d in result.directions:
        for model, run in d.runs.items():
            trec.write_run(run, out / "runs" / f"{_safe(model)}.{d.label}.trec", tag=model)
    tmp = out / "per_query.csv.tmp"
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["model", "query_lang", "doc_lang", "query_id", "measure", "value"])
        for d in result.directions:
            for model, ev in d.evaluations.items():
                for qid, measure, value in ev.rows():
                    w.writerow([model, d.query_lang, d.doc_lang, qid, measure, f"{value:.6f}"])
    tmp.replace(out / "per_query.csv")
    _write_json(out / "metrics.json", result.metric_records())
    _write_json(
        out / "comparisons.json",
        [
            {
                "direction": c.label,
                "measure": c.measure,
                "model_a": result.models[0],
                "model_b": result.models[1],
                "n": c.n,
                "mean_a": c.mean_a,
                "mean_b": c.mean_b,
                "t": c.t_statistic,
                "p_ttest": c.p_ttest,
                "p_permutation": c.p_permutation,
                "p_ttest_holm": c.p_ttest_holm,
                "p_permutation_holm": c.p_permutation_holm,
            }
            for c in result.comparisons
        ],
    )
    _write_json(out / "manifest.json", {**result.manifest, "timings_s": result.timings})
    if config is not None:
        import tomli_w

        (out / "config.toml").write_text(tomli_w.dumps(config), encoding="utf-8")


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        json.dumps(obj, indent=1, ensure_ascii=False, default=_json_default), encoding="utf-8"
    )
    tmp.replace(path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    return str(obj)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
