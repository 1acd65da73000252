"""The evaluation dashboard's computation: a workspace's runs evaluated per
direction against gold and/or human qrels, the paired comparisons, OT alignment scores.

:func:`evaluate_workspace` is a job (a generator yielding
:class:`~clirlens.core.types.Progress`, docs/architecture.md §2.2) that the GUI runs in a worker. For
every direction it takes the runs the workspace computed (:meth:`Workspace.prepare`: a
prepared direction is returned at once, others are encoded and searched, with embeddings
from the cache), evaluates each model with :func:`clirlens.core.evaluation.metrics.evaluate`,
compares models A and B of ``pair`` on every measure
(:func:`~clirlens.core.evaluation.significance.compare_directions_job`: paired permutation and t-tests,
Holm across the directions of one source), and, for XQuAD, scores each model's alignment of
every query language with English (:func:`clirlens.core.ot.scoring.score_languages`).
The result is a :class:`~clirlens.core.evaluation.report.Report`.

Human judgments as qrels (:func:`human_qrels`): a grade below ``min_grade`` (default 2,
"relevant"; 1 is "related") counts as not relevant, higher grades keep their value as
nDCG gain; passages nobody judged count as not relevant (they were outside every pool);
queries without any passage at ``min_grade`` or above are left out, as trec_eval-style
evaluations do, since no system can score on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from clirlens.core.errors import UserError
from clirlens.core.evaluation.metrics import DEFAULT_MEASURES, Evaluation, evaluate, parse_measures
from clirlens.core.evaluation.report import AlignmentScore, DirectionEvaluation, Report
from clirlens.core.evaluation.significance import compare_directions_job
from clirlens.core.ot.problem import DEFAULT_OT, DEFAULT_SCORING, OTParams, ScoringOptions
from clirlens.core.progress import Job
from clirlens.core.types import Direction, Progress, Qrels, Query

if TYPE_CHECKING:
    from clirlens.core.workspace.workspace import Workspace


def human_qrels(qrels: Qrels, min_grade: int = 2) -> Qrels:
    """Judgment grades as evaluation qrels (module notes): grades below ``min_grade``
    become 0, queries without a grade of at least ``min_grade`` are dropped."""
    out: dict[str, dict[str, int]] = {}
    for qid, docs in qrels.data.items():
        if any(g >= min_grade for g in docs.values()):
            out[qid] = {pid: (g if g >= min_grade else 0) for pid, g in docs.items()}
    return Qrels(out)


def _pairs(
    directions: Sequence[DirectionEvaluation], a: str, b: str
) -> dict[str, tuple[Evaluation, Evaluation]]:
    return {
        d.label: (d.evaluations[a], d.evaluations[b])
        for d in directions
        if a in d.evaluations and b in d.evaluations
    }


def evaluate_workspace(
    workspace: Workspace,
    directions: Sequence[Direction],
    *,
    measures: Sequence[str] = DEFAULT_MEASURES,
    gold: bool = True,
    human: Mapping[Direction, Qrels] | None = None,
    min_grade: int = 2,
    pair: tuple[int, int] | None = (0, 1),
    alignment: bool = True,
    ot: OTParams = DEFAULT_OT,
    scoring: ScoringOptions = DEFAULT_SCORING,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> Job[Report]:
    """Evaluate the workspace's models on ``directions`` (module notes); returns the
    :class:`Report`. ``human`` maps a direction to its judgments' qrels (raw grades; see
    :func:`human_qrels`); directions without judgments have no human rows."""
    if not directions:
        raise UserError("choose at least one direction to evaluate")
    if not gold and not human:
        raise UserError("nothing to evaluate against: no gold qrels chosen and no judgments")
    names = tuple(str(m) for m in parse_measures(measures))
    models = workspace.models
    results: list[DirectionEvaluation] = []
    human_results: list[DirectionEvaluation] = []
    notes: list[str] = []
    query_ids: set[str] = set()
    total = len(directions)
    for i, (q, d) in enumerate(directions):
        yield Progress(i, total, f"evaluating {q}→{d}")
        comparison = yield from workspace.prepare(q, d)
        task = comparison.task
        query_ids.update(x.id for x in task.queries)
        if gold:
            evals = {r.name: evaluate(r, task.qrels, names) for r in comparison.runs}
            results.append(DirectionEvaluation("gold", q, d, evals))
        judged = (human or {}).get((q, d))
        if judged is not None:
            qrels = human_qrels(judged, min_grade)
            if qrels.query_ids:
                evals = {r.name: evaluate(r, qrels, names) for r in comparison.runs}
                human_results.append(DirectionEvaluation("human", q, d, evals))
            else:
                notes.append(f"{q}→{d}: no query has a judgment of grade {min_grade} or more")
    yield Progress(total, total, "evaluated")
    for q, d in human or {}:
        if (q, d) not in directions:
            notes.append(f"judgments on {q}→{d} not evaluated: that direction was not chosen")

    comparisons = []
    pair_names = None
    if pair is not None and len(models) >= 2:
        pair_names = (models[pair[0]], models[pair[1]])
        for source, dirs in (("gold", results), ("human", human_results)):
            pairs = _pairs(dirs, *pair_names)
            if pairs:
                found = yield from compare_directions_job(
                    pairs, names, n_resamples=n_resamples, seed=seed
                )
                comparisons += [(source, c) for c in found]

    scores: list[AlignmentScore] = []
    if alignment:
        langs = [q for q, _ in directions]
        doc_lang = directions[0][1]
        found_scores, note = yield from alignment_scores(
            workspace, langs, doc_lang, query_ids, params=ot, options=scoring
        )
        scores = [AlignmentScore.of(s) for s in found_scores]
        if note:
            notes.append(note)
    return Report(
        models=models,
        measures=names,
        directions=(*results, *human_results),
        pair=pair_names,
        comparisons=tuple(comparisons),
        alignment=tuple(scores),
        notes=tuple(notes),
    )


class _Subset:
    """Parallel questions (``queries(lang)``) restricted to the workspace's queries."""

    def __init__(self, data: Any, keep: set[str]) -> None:
        self.data = data
        self.keep = keep

    def queries(self, lang: str) -> tuple[Query, ...]:
        return tuple(q for q in self.data.queries(lang) if q.id in self.keep)


def alignment_scores(
    workspace: Workspace,
    langs: Sequence[str],
    doc_lang: str,
    query_ids: set[str],
    *,
    params: OTParams = DEFAULT_OT,
    options: ScoringOptions = DEFAULT_SCORING,
) -> Job[tuple[list, str]]:
    """Each dense model's OT alignment score (:class:`~clirlens.core.ot.scoring.LanguageScore`)
    of every language in ``langs`` with the pivot (English), over the parallel questions
    among ``query_ids``; returns ``(scores, note)`` where the note says why some are missing.

    The encoders are the workspace's own (those of the retrievers on ``doc_lang``), so no
    model is loaded twice."""
    from clirlens.core.data.xquad import load_xquad
    from clirlens.core.ot.scoring import TokenStateCache, score_languages
    from clirlens.core.retrieval.cache import Cache

    pivot = options.pivot
    wanted = [lang for lang in dict.fromkeys(langs) if lang != pivot]
    if workspace.config.kind != "xquad":
        return [], "OT alignment scores need parallel questions (an XQuAD workspace)"
    if not wanted:
        return [], f"OT alignment scores: every query language is the pivot ({pivot})"
    dense = [i for i, s in enumerate(workspace.specs) if s.kind == "dense"]
    skipped = [s.name for s in workspace.specs if s.kind != "dense"]
    note = f"no OT score for {', '.join(skipped)} (not a dense encoder)" if skipped else ""
    if not dense:
        return [], note
    # the workspace's retriever for doc_lang exists once the direction is prepared
    encoders = [workspace.encoder(i, doc_lang) for i in dense]
    data = _Subset(load_xquad(workspace.config.dataset, [*wanted, pivot]), query_ids)
    cache = TokenStateCache(workspace.cache if workspace.cache is not None else Cache())
    scores = yield from score_languages(
        encoders, data, wanted, params=params, options=options, cache=cache
    )
    return list(scores), note
