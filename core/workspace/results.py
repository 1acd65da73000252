"""One writer of an evaluation's files, for ``clirlens eval --out`` and the dashboard's
"Export report…" alike (the same names from both)::

    metrics.json       one record per (qrels, model, direction, measure): the mean value
    per_query.csv      qrels, model, query_lang, doc_lang, query_id, measure, value
    comparisons.json   model A vs B per (qrels, direction, measure): means, A − B with its
                       95% bootstrap interval, t, p-values (raw and Holm-corrected)
    table.csv          the dashboard's table (rows, marks, p-values, OT columns)
    table.tex          the same as a booktabs LaTeX table
    runs/MODEL.DIRECTION.trec   every run, TREC format
    manifest.json      what reproduces the numbers (:mod:`clirlens.core.workspace.manifest`)
    config.toml        the parameters that produced them

Every file is written to a temporary name and renamed into place, so a crash leaves whole
files only.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from clirlens.core.data import trec
from clirlens.core.errors import UserError
from clirlens.core.evaluation.report import Report
from clirlens.core.evaluation.tables import to_csv, to_latex

FILES = (
    "metrics.json",
    "per_query.csv",
    "comparisons.json",
    "table.csv",
    "table.tex",
    "manifest.json",
    "config.toml",
    "runs",
)


def metric_records(report: Report) -> list[dict[str, Any]]:
    """``metrics.json`` records: qrels, model, query_lang, doc_lang, measure, value (0-1)."""
    return [
        {
            "qrels": d.source,
            "model": model,
            "query_lang": d.query_lang,
            "doc_lang": d.doc_lang,
            "measure": m,
            "value": ev.aggregate[m],
        }
        for d in report.directions
        for model, ev in d.evaluations.items()
        for m in report.measures
    ]


def comparison_records(report: Report) -> list[dict[str, Any]]:
    if report.pair is None:
        return []
    a, b = report.pair
    return [
        {
            "qrels": source,
            "direction": c.label,
            "measure": c.measure,
            "model_a": a,
            "model_b": b,
            "n": c.n,
            "mean_a": c.mean_a,
            "mean_b": c.mean_b,
            "difference": c.difference,
            "ci95_low": c.ci_low,
            "ci95_high": c.ci_high,
            "t": c.t_statistic,
            "p_ttest": c.p_ttest,
            "p_permutation": c.p_permutation,
            "p_ttest_holm": c.p_ttest_holm,
            "p_permutation_holm": c.p_permutation_holm,
            "n_resamples": c.n_resamples,
        }
        for source, c in report.comparisons
    ]


def per_query_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["qrels", "model", "query_lang", "doc_lang", "query_id", "measure", "value"])
    for d in report.directions:
        for model, ev in d.evaluations.items():
            for qid, measure, value in ev.rows():
                w.writerow(
                    [d.source, model, d.query_lang, d.doc_lang, qid, measure, f"{value:.6f}"]
                )
    return buf.getvalue()


def check_out(out: str | os.PathLike[str], force: bool = False) -> Path:
    """Make sure the report can be written into ``out`` before any work starts: a new or
    empty folder (an earlier run's files are only replaced with ``force``), that this
    process can write. Creates the folder; :class:`UserError` in one line otherwise."""
    folder = Path(out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--out {folder} is a file, not a folder: choose a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise UserError(
            f"--out {folder} is not empty (an earlier run's results?): choose a new folder, "
            "or add --force to replace clirlens' files in it"
        )
    probe_writable(folder, f"--out {folder}")
    return folder


def probe_writable(folder: Path, what: str) -> None:
    """Create ``folder`` and check this process can write in it (a temporary file made and
    removed); :class:`UserError` naming ``what`` otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".clirlens-probe-"):
            pass
    except OSError as exc:
        raise UserError(f"{what} cannot be written ({exc.strerror or exc})") from None


def clear_report(folder: Path) -> None:
    """Remove the files a report writes (and no other) from ``folder``, so nothing of an
    earlier run stays beside a new one (``--force``)."""
    for name in FILES:
        target = folder / name
        if target.is_dir():
            for run in target.glob("*.trec"):
                run.unlink()
        elif target.is_file():
            target.unlink()


def save_report(
    report: Report,
    out: str | os.PathLike[str],
    config: Mapping[str, Any] | None = None,
    *,
    replace: bool = False,
) -> list[Path]:
    """Write the report's files (module notes) into ``out``; returns the paths written.
    ``replace`` first removes the files of an earlier report there."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    if replace:
        clear_report(folder)
    written = [
        _write(folder / "metrics.json", _json(metric_records(report))),
        _write(folder / "per_query.csv", per_query_csv(report)),
        _write(folder / "comparisons.json", _json(comparison_records(report))),
        _write(folder / "table.csv", to_csv(report)),
        _write(folder / "table.tex", to_latex(report)),
        _write(folder / "manifest.json", _json(dict(report.manifest))),
    ]
    if config is not None:
        import tomli_w

        written.append(_write(folder / "config.toml", tomli_w.dumps(_toml_safe(config))))
    runs = folder / "runs"
    for label, by_model in report.runs.items():
        for model, run in by_model.items():
            written.append(trec.write_run(run, runs / f"{_safe(model)}.{label}.trec", tag=model))
    return written


def _write(path: Path, text: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _json(obj: Any) -> str:
    return json.dumps(_nan_to_none(obj), indent=1, ensure_ascii=False, default=str) + "\n"


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def _toml_safe(obj: Any) -> Any:
    """TOML has no null: keys whose value is None are left out."""
    if isinstance(obj, Mapping):
        return {str(k): _toml_safe(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list | tuple):
        return [_toml_safe(v) for v in obj if v is not None]
    return obj


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
