"""The one evaluation pipeline: a workspace's models on chosen directions, against the
dataset's gold qrels and/or human judgments, with paired tests, bootstrap intervals and OT
alignment scores. ``clirlens eval`` and the dashboard both run :func:`evaluate_workspace`
and get the same :class:`~clirlens.core.evaluation.report.Report`, so a figure cannot depend
on the path that produced it.

For every direction the workspace's runs are taken (:meth:`Workspace.runs`: embeddings from
the cache, searched to the workspace's depth), each model is evaluated with
:func:`clirlens.core.evaluation.metrics.evaluate`, models A and B of ``pair`` are compared on
every measure (:func:`~clirlens.core.evaluation.significance.compare_directions_job`: paired
permutation and t-tests Holm-corrected across the directions of one source, and a 95%
bootstrap interval of A − B), and, for XQuAD, each dense model's alignment of every query
language with English is scored (:func:`clirlens.core.ot.scoring.score_languages`).

**Human judgments as qrels** (:func:`human_qrels`): a grade below ``min_grade`` (default 2,
"relevant"; 1 is "related") counts as not relevant, higher grades keep their value as nDCG
gain; queries without any passage at ``min_grade`` or above are left out, as trec_eval-style
evaluations do, since no system can score on them. Two rows per model then:

* ``human`` — passages nobody judged count as not relevant (they were outside every pool);
* ``judged`` — the same measures on *condensed* runs (Sakai 2007, "Alternatives to Bpref"):
  passages nobody judged are removed from each ranking before it is evaluated, so a model
  is not penalised for passages the pool never showed an annotator.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clirlens.core.errors import UserError
from clirlens.core.evaluation.metrics import DEFAULT_MEASURES, Evaluation, evaluate, parse_measures
from clirlens.core.evaluation.report import AlignmentScore, DirectionEvaluation, Report
from clirlens.core.evaluation.significance import N_RESAMPLES, compare_directions_job
from clirlens.core.models.training import (
    TrainingLanguages,
    read_user_records,
    training_file,
    training_languages,
)
from clirlens.core.ot.problem import DEFAULT_OT, DEFAULT_SCORING, OTParams, ScoringOptions
from clirlens.core.progress import Job
from clirlens.core.types import Direction, Progress, Qrels, Query, Run, ScoredPassage

if TYPE_CHECKING:
    from clirlens.core.workspace.workspace import Workspace


@dataclass(frozen=True)
class EvalPlan:
    """What to evaluate. ``human`` maps a direction to its judgments (raw grades; see
    :func:`human_qrels`), ``human_source`` says where they came from (shown and recorded);
    ``pair`` are the two models compared (indices; None: no comparison)."""

    directions: tuple[Direction, ...]
    measures: tuple[str, ...] = DEFAULT_MEASURES
    gold: bool = True
    human: Mapping[Direction, Qrels] | None = None
    human_source: str = ""
    min_grade: int = 2
    pair: tuple[int, int] | None = (0, 1)
    alignment: bool = False
    ot: OTParams = DEFAULT_OT
    scoring: ScoringOptions = DEFAULT_SCORING
    n_resamples: int = N_RESAMPLES
    seed: int = 0
    extra_manifest: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "directions", tuple(Direction(*d) for d in self.directions))
        object.__setattr__(self, "measures", tuple(self.measures))


def human_qrels(qrels: Qrels, min_grade: int = 2) -> Qrels:
    """Judgment grades as evaluation qrels (module notes): grades below ``min_grade``
    become 0, queries without a grade of at least ``min_grade`` are dropped."""
    out: dict[str, dict[str, int]] = {}
    for qid, docs in qrels.data.items():
        if any(g >= min_grade for g in docs.values()):
            out[qid] = {pid: (g if g >= min_grade else 0) for pid, g in docs.items()}
    return Qrels(out)


def condensed(run: Run, qrels: Qrels) -> Run:
    """``run`` with every passage the qrels do not judge removed, ranks renumbered (queries
    without judgments keep nothing): the condensed list of Sakai (2007)."""
    rankings = {}
    for qid, ranking in run.rankings.items():
        judged = qrels.data.get(qid, {})
        kept = [sp for sp in ranking if sp.passage_id in judged]
        rankings[qid] = tuple(
            ScoredPassage(sp.passage_id, sp.score, i + 1) for i, sp in enumerate(kept)
        )
    return Run(run.name, rankings)


def _check(workspace: Workspace, plan: EvalPlan) -> tuple[str, ...]:
    if not plan.directions:
        raise UserError("choose at least one direction to evaluate")
    if not plan.gold and not plan.human:
        raise UserError("nothing to evaluate against: no gold qrels chosen and no judgments")
    workspace.check_data(plan.directions)
    lexical = [s.name for s in workspace.specs if s.kind == "bm25"]
    crossing = [Direction(q, d).arrow for q, d in plan.directions if q != d]
    if lexical and crossing:
        raise UserError(
            f"{lexical[0]} is a same-language baseline but the directions "
            f"{', '.join(crossing)} cross languages: evaluate it with "
            "--query-langs equal to --doc-langs"
        )
    if plan.pair is not None:
        n = len(workspace.specs)
        if not all(0 <= m < n for m in plan.pair) or plan.pair[0] == plan.pair[1]:
            raise UserError(f"pair {plan.pair} does not name two of the {n} models")
    if plan.alignment:
        plan.ot.method  # noqa: B018 - validates before any model work
    return tuple(str(m) for m in parse_measures(plan.measures))


def evaluate_workspace(workspace: Workspace, plan: EvalPlan) -> Job[Report]:
    """Evaluate ``workspace`` as ``plan`` says (module notes); returns the :class:`Report`,
    with the runs it was computed from, timings and a manifest."""
    import time

    names = _check(workspace, plan)
    models = workspace.models
    rows: dict[str, list[DirectionEvaluation]] = {"gold": [], "human": [], "judged": []}
    runs: dict[str, dict[str, Run]] = {}
    notes: list[str] = []
    query_ids: set[str] = set()
    started = time.perf_counter()
    total = len(plan.directions)
    for i, direction in enumerate(plan.directions):
        q, d = direction
        yield Progress(i, total, f"evaluating {direction.arrow}")
        task, found = yield from workspace.runs(q, d)
        runs[direction.label] = {r.name: r for r in found}
        query_ids.update(x.id for x in task.queries)
        if plan.gold:
            evals = {r.name: evaluate(r, task.qrels, names) for r in found}
            rows["gold"].append(DirectionEvaluation("gold", q, d, evals))
        judged = (plan.human or {}).get(direction)
        if judged is None:
            continue
        qrels = _in_task_order(human_qrels(judged, plan.min_grade), task.queries)
        if not qrels.query_ids:
            notes.append(
                f"{direction.arrow}: no query has a judgment of grade {plan.min_grade} or more"
            )
            continue
        evals = {r.name: evaluate(r, qrels, names) for r in found}
        rows["human"].append(DirectionEvaluation("human", q, d, evals))
        evals = {r.name: evaluate(condensed(r, qrels), qrels, names) for r in found}
        rows["judged"].append(DirectionEvaluation("judged", q, d, evals))
    yield Progress(total, total, "evaluated")
    for direction in plan.human or {}:
        if Direction(*direction) not in plan.directions:
            notes.append(
                f"judgments on {Direction(*direction).arrow} not evaluated: "
                "that direction was not chosen"
            )
    timings = {"evaluation": time.perf_counter() - started}

    comparisons = []
    pair_names = None
    if plan.pair is not None and len(models) >= 2:
        pair_names = (models[plan.pair[0]], models[plan.pair[1]])
        t0 = time.perf_counter()
        for source, dirs in rows.items():
            pairs = _pairs(dirs, *pair_names)
            if pairs:
                found_tests = yield from compare_directions_job(
                    pairs, names, n_resamples=plan.n_resamples, seed=plan.seed
                )
                comparisons += [(source, c) for c in found_tests]
        timings["significance"] = time.perf_counter() - t0

    scores: list[AlignmentScore] = []
    if plan.alignment:
        t0 = time.perf_counter()
        langs = [q for q, _ in plan.directions]
        found_scores, note = yield from alignment_scores(
            workspace,
            langs,
            plan.directions[0].doc_lang,
            query_ids,
            params=plan.ot,
            options=plan.scoring,
        )
        scores = [AlignmentScore.of(s) for s in found_scores]
        if note:
            notes.append(note)
        timings["alignment"] = time.perf_counter() - t0

    manifest = _manifest(workspace, plan, names, {**workspace.timings, **timings})
    training = training_records(workspace)
    manifest["training_languages"] = {
        m: (rec.to_dict() if rec is not None else None) for m, rec in training.items()
    }
    return Report(
        training=training,
        models=models,
        measures=names,
        directions=(*rows["gold"], *rows["human"], *rows["judged"]),
        pair=pair_names,
        comparisons=tuple(comparisons),
        alignment=tuple(scores),
        notes=tuple(notes),
        runs=runs,
        timings={**workspace.timings, **timings},
        manifest=manifest,
    )


def training_records(workspace: Workspace) -> dict[str, TrainingLanguages | None]:
    """Each model's fine-tuning languages (:mod:`clirlens.core.models.training`), by name."""
    user = read_user_records(training_file())
    return {spec.name: training_languages(spec, user) for spec in workspace.specs}


def _in_task_order(qrels: Qrels, queries: Sequence[Query]) -> Qrels:
    """``qrels`` with its queries in the dataset's order (campaigns hold them shuffled), so
    per-query tables and resampled tests line up with the gold evaluation's; judged queries
    the task does not have come last."""
    order = [q.id for q in queries if q.id in qrels.data]
    rest = [q for q in qrels.data if q not in set(order)]
    return Qrels({q: qrels.data[q] for q in [*order, *rest]})


def _manifest(
    workspace: Workspace, plan: EvalPlan, measures: Sequence[str], timings: Mapping[str, float]
) -> dict[str, Any]:
    """What reproduces the report (:mod:`clirlens.core.workspace.manifest`)."""
    from clirlens.core.workspace.manifest import environment, workspace_record

    return {
        **workspace_record(workspace, plan.directions[0].doc_lang),
        "directions": [d.label for d in plan.directions],
        "query_langs": list(dict.fromkeys(q for q, _ in plan.directions)),
        "doc_langs": list(dict.fromkeys(d for _, d in plan.directions)),
        "measures": list(measures),
        "qrels": {
            "gold": plan.gold,
            "human": plan.human_source or None,
            "min_grade": plan.min_grade if plan.human else None,
        },
        "significance": {
            "tests": ["paired t-test", "paired permutation"],
            "correction": "Holm across directions",
            "interval": "95% paired bootstrap (percentile) of mean(A) - mean(B)",
            "n_resamples": plan.n_resamples,
            "seed": plan.seed,
        },
        "pair": [workspace.models[i] for i in plan.pair] if plan.pair else None,
        "alignment": {"ot": plan.ot.to_dict(), "scoring": dataclasses.asdict(plan.scoring)}
        if plan.alignment
        else None,
        **environment(timings),
        **dict(plan.extra_manifest),
    }


def _pairs(
    directions: Sequence[DirectionEvaluation], a: str, b: str
) -> dict[str, tuple[Evaluation, Evaluation]]:
    return {
        d.label: (d.evaluations[a], d.evaluations[b])
        for d in directions
        if a in d.evaluations and b in d.evaluations
    }


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
    encoders = [workspace.encoder(i, doc_lang) for i in dense]
    data = _Subset(load_xquad(workspace.config.dataset, [*wanted, pivot]), query_ids)
    cache = TokenStateCache(workspace.cache if workspace.cache is not None else Cache())
    scores = yield from score_languages(
        encoders, data, wanted, params=params, options=options, cache=cache
    )
    return list(scores), note
