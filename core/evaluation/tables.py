"""The report's table as files: CSV (every row, six decimals, marks and p-values) and a
booktabs LaTeX table (best value per direction in bold, significance marks as
superscripts)."""

from __future__ import annotations

import csv
import io
import math

from clirlens.core.evaluation.report import SOURCES, Report, Row

# ---------------------------------------------------------------------------- CSV


def to_csv(report: Report) -> str:
    """The table as CSV: one line per row of :meth:`Report.rows`; metric values with six
    decimals, then per measure the significance mark and the Holm-corrected p-value of the
    pair comparison, then the OT columns (empty where not computed) and whether the model's
    fine-tuning saw the direction's languages."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    ms = report.measures
    w.writerow(
        [
            "source",
            "direction",
            "query_lang",
            "doc_lang",
            "model",
            "queries",
            *ms,
            *(f"{m} sig" for m in ms),
            *(f"{m} p_holm" for m in ms),
            "ot_mean_cost",
            "ot_p@1",
            "fine_tuning_saw",
        ]
    )
    for r in report.rows():
        w.writerow(
            [
                r.source,
                r.label,
                r.query_lang,
                r.doc_lang,
                r.model,
                r.n,
                *(f"{r.values[m]:.6f}" for m in ms),
                *(r.marks.get(m, "") for m in ms),
                *(f"{r.p[m]:.6g}" if m in r.p else "" for m in ms),
                "" if r.ot_cost is None else f"{r.ot_cost:.6f}",
                "" if r.ot_accuracy is None else f"{r.ot_accuracy:.6f}",
                "" if r.average else report.saw(r.model, r.query_lang, r.doc_lang),
            ]
        )
    return buf.getvalue()


# ---------------------------------------------------------------------------- LaTeX

_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex_escape(text: str) -> str:
    return "".join(_TEX.get(c, c) for c in text)


def _tex_label(row: Row) -> str:
    if not row.average:
        return f"{row.query_lang}$\\rightarrow${row.doc_lang}"
    where = f"$\\rightarrow${row.doc_lang}" if row.doc_lang else " same lang."
    return f"LR avg{where} ({', '.join(row.langs)})"


def to_latex(report: Report, *, digits: int = 3, caption: str | None = None) -> str:
    """A booktabs table (``\\usepackage{booktabs}``): the best value of each direction and
    measure in bold, significance marks as superscripts, OT mean cost when computed."""
    ms = report.measures
    rows = report.rows()
    has_ot = any(r.ot_cost is not None for r in rows)
    cols = len(ms) + 2 + (1 if has_ot else 0)
    head = ["Direction", "Model", *(tex_escape(m) for m in ms)] + (["OT cost"] if has_ot else [])
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{ll" + "r" * (cols - 2) + "}",
        r"\toprule",
        " & ".join(head) + r" \\",
    ]
    best: dict[tuple[str, str, str], float] = {}
    for r in rows:
        for m in ms:
            key = (r.source, r.label, m)
            best[key] = max(best.get(key, -math.inf), round(r.values[m], digits))
    two_sources = len(report.sources) > 1
    previous: tuple[str, str] | None = None
    for r in rows:
        if two_sources and (previous is None or previous[0] != r.source):
            lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{cols}}}{{l}}{{\emph{{{SOURCES[r.source]}}}}} \\")
        if previous != (r.source, r.label):
            lines.append(r"\midrule")
            label = _tex_label(r)
        else:
            label = ""
        cells = [label, tex_escape(r.model)]
        for m in ms:
            v = round(r.values[m], digits)
            text = f"{v:.{digits}f}"
            if v == best[(r.source, r.label, m)] and len(report.models) > 1:
                text = rf"\textbf{{{text}}}"
            mark = r.marks.get(m, "")
            cells.append(text + (f"$^{{{mark}}}$" if mark else ""))
        if has_ot:
            cells.append("--" if r.ot_cost is None else f"{r.ot_cost:.{digits}f}")
        lines.append(" & ".join(cells) + r" \\")
        previous = (r.source, r.label)
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    lines.append(rf"\caption{{{caption or _caption(report, has_ot)}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def _caption(report: Report, has_ot: bool) -> str:
    parts = ["Retrieval effectiveness per direction (query$\\rightarrow$passage language)."]
    if report.pair is not None:
        a, b = (tex_escape(x) for x in report.pair)
        parts.append(
            f"$^{{*}}$/$^{{**}}$: better than the other of {a} and {b} (paired permutation "
            "test, Holm-corrected across directions, $p<0.05$/$0.01$)."
        )
    parts.append("LR avg: mean over the low-resource query languages (el, hi, ro, th, tr).")
    if has_ot:
        parts.append(
            "OT cost: mean optimal-transport cost between the query language's questions and "
            "their English parallels (lower = better aligned)."
        )
    return " ".join(parts)
