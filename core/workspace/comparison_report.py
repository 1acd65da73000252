"""A shareable comparison of two retrievers on chosen queries (``clirlens report`` and the
window's File → Export comparison…; both build it here, so they write the same page).

For each query: every model's ranked list as the compare view shows it (gold badges, answer
spans, the other model's rank), the pair's rank agreement, the judgments of a campaign if
given, and each dense model's OT plan between the query and one target text shared by the
models, so their plans have the same rows and comparable columns:

* the query's parallel question in the document language, when the dataset has one that
  differs from the query (a Thai question and its English original);
* else the first gold passage;
* else model A's best passage.

Queries are the ones given (in that order) or the ``top`` queries where models A and B
disagree most, by the same rule a judging campaign uses
(:func:`~clirlens.core.workspace.judging_plan.select_queries`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clirlens.core.data.trec import write_lines_atomic
from clirlens.core.errors import UserError
from clirlens.core.ot.alignment import Alignment, Role, align_states
from clirlens.core.ot.problem import DEFAULT_OT, OTParams
from clirlens.core.ot.session import AlignSession, model_encoder
from clirlens.core.progress import Job, relabel
from clirlens.core.types import Direction, Progress, Qrels
from clirlens.core.version import version
from clirlens.core.workspace.comparison import Comparison, Pair, QueryView
from clirlens.core.workspace.judging_plan import select_queries
from clirlens.core.workspace.results import probe_writable


@dataclass(frozen=True)
class ReportQuery:
    """One query's card: its compare view, what the plans' columns are, and the plans."""

    view: QueryView
    target_label: str  # e.g. "English parallel question", "gold passage a3-p1"
    target_text: str
    alignments: tuple[Alignment | None, ...]  # per model (None: lexical model, or no OT)


@dataclass(frozen=True)
class ComparisonReport:
    """Everything the page shows, computed (rendering is :mod:`comparison_html`)."""

    dataset: str
    direction: Direction
    models: tuple[str, ...]
    pair: Pair
    k: int
    shown: int
    selection: str  # how the queries were chosen, in words
    judgments: str  # where the judgments came from ("" without)
    ot: OTParams | None  # None: no alignments
    queries: tuple[ReportQuery, ...]
    config: dict[str, Any] = field(default_factory=dict)
    version: str = field(default_factory=version)


def choose_queries(
    comparison: Comparison, query_ids: Sequence[str] | None, top: int, pair: Pair
) -> tuple[list[str], str]:
    """The query ids of the page and how they were chosen."""
    if query_ids:
        known = {q.id for q in comparison.task.queries}
        missing = [q for q in query_ids if q not in known]
        if missing:
            raise UserError(
                f"query {missing[0]!r} is not in {comparison.task.name} "
                f"(ids look like {comparison.task.queries[0].id!r})"
            )
        ids = list(dict.fromkeys(query_ids))
        return ids, f"{len(ids)} chosen {'query' if len(ids) == 1 else 'queries'}"
    chosen = select_queries(comparison, "disagreement", top, pair=pair)
    a, b = (comparison.runs[i].name for i in pair)
    return [q.id for q in chosen], (
        f"the {len(chosen)} queries where {a} and {b} disagree most "
        "(gold-rank difference, then rank-biased overlap)"
    )


def _target(view: QueryView, comparison: Comparison) -> tuple[str, str, Role]:
    if view.parallel is not None and view.parallel.text != view.query.text:
        return f"{view.parallel.lang} parallel question", view.parallel.text, "query"
    if view.gold:
        pid = sorted(view.gold)[0]
        return f"gold passage {pid}", comparison.passage(pid).text, "passage"
    first = view.lists[view.pair[0]]
    if not first:
        return "", "", "passage"
    pid = first[0].passage.id
    return f"{view.models[view.pair[0]]}'s best passage {pid}", first[0].passage.text, "passage"


def build_report(
    workspace: Any,
    direction: Direction | tuple[str, str],
    *,
    query_ids: Sequence[str] | None = None,
    top: int = 20,
    shown: int = 10,
    pair: Pair = (0, 1),
    judgments: Qrels | None = None,
    judgments_source: str = "",
    ot: OTParams | None = DEFAULT_OT,
    session: AlignSession | None = None,
) -> Job[ComparisonReport]:
    """The comparison page of ``direction`` (prepared first when it is not): a generator
    yielding progress; ``ot=None`` leaves the plans out."""
    q_lang, d_lang = direction
    comparison = workspace.comparison(q_lang, d_lang)
    if comparison is None:
        comparison = yield from workspace.prepare(q_lang, d_lang)
    if len(comparison.runs) < 2:
        raise UserError("a comparison page needs two models")
    ids, selection = choose_queries(comparison, query_ids, top, pair)
    grades = judgments.data if judgments is not None else None

    def judged(qid: str, pid: str) -> int | None:
        return grades.get(qid, {}).get(pid) if grades is not None else None

    views = [
        comparison.view(qid, pair=pair, shown=shown, judged=judged if grades else None)
        for qid in ids
    ]
    targets = [_target(v, comparison) for v in views]
    plans: list[list[Alignment | None]] = [[None] * len(comparison.runs) for _ in views]
    if ot is not None:
        session = session or AlignSession(max_states=4 * len(views) + 8)
        dense = [m for m, spec in enumerate(workspace.specs) if spec.kind == "dense"]
        for step, m in enumerate(dense):
            encoder = model_encoder(workspace, m, d_lang)
            items: list[tuple[str, Role]] = []
            for v, (_, text, role) in zip(views, targets, strict=True):
                items += [(v.query.text, "query"), (text or v.query.text, role)]
            label = f"[{step + 1}/{len(dense)}] token states, {encoder.name}"
            states = yield from relabel(session.states(encoder, items, ot.layer), label)
            for i, (_, text, _role) in enumerate(targets):
                if text:
                    plans[i][m] = align_states(
                        states[2 * i],
                        states[2 * i + 1],
                        **ot.solve_args(),
                        weights=ot.weights,
                        words=ot.words,
                    )
                yield Progress(i + 1, len(views), f"aligning with {encoder.name}")
    queries = tuple(
        ReportQuery(v, label, text, tuple(p))
        for v, (label, text, _), p in zip(views, targets, plans, strict=True)
    )
    return ComparisonReport(
        dataset=str(Path(workspace.config.dataset).expanduser().resolve()),
        direction=(q_lang, d_lang),
        models=tuple(r.name for r in comparison.runs),
        pair=pair,
        k=comparison.k,
        shown=shown,
        selection=selection,
        judgments=judgments_source if grades else "",
        ot=ot,
        queries=queries,
        config=workspace.config.to_dict(),
    )


def check_page_out(path: str | os.PathLike[str], force: bool = False) -> Path:
    """Make sure the page can be written to ``path`` before any work starts (an existing
    file is only replaced with ``force``); :class:`UserError` in one line otherwise."""
    out = Path(path).expanduser()
    if out.is_dir():
        raise UserError(f"{out} is a folder: give the page a file name such as report.html")
    if out.exists() and not force:
        raise UserError(f"{out} exists: choose another name, or add --force to replace it")
    probe_writable(out.parent, str(out))
    return out


def write_page(path: str | os.PathLike[str], page: str) -> Path:
    """Write the page atomically (an existing file is replaced only once it is complete)."""
    try:
        return write_lines_atomic(Path(path).expanduser(), [page.rstrip("\n")])
    except OSError as exc:
        raise UserError(f"{path} cannot be written ({exc.strerror or exc})") from None
