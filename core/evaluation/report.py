"""The evaluation dashboard's table: rows, low-resource averages, CSV and LaTeX.

A :class:`Report` holds core's evaluations (:func:`clirlens.core.evaluation.metrics.evaluate`) of
every model on every direction, against one or two sources of qrels — ``"gold"`` (the
dataset's, e.g. XQuAD's parallel paragraphs) and ``"human"`` (judgments from a campaign) —
the paired comparisons of two models (:func:`~clirlens.core.evaluation.significance.compare_directions`:
permutation test, Holm-corrected across the directions of one source) and optionally the OT
alignment score of each model and query language (:mod:`clirlens.core.ot.scoring`).

:meth:`Report.rows` flattens it into the table the dashboard shows and exports:

* one row per (source, direction, model) with the mean of every measure over the qrels'
  queries, ``n`` = number of queries;
* a **significance mark** on the better model of the pair: ``**`` when the Holm-corrected
  permutation p-value is below 0.01, ``*`` below 0.05 (:data:`ALPHAS`); both rows of the
  pair carry that p-value;
* **low-resource average** rows per source and document language: the unweighted mean, over
  the directions whose query language is low-resource (el, hi, ro, th, tr, docs/architecture.md §4), of
  each direction's mean (a macro average; ``n`` sums the queries); same-language directions
  (th→th) are averaged apart from cross-language ones. Averages carry no significance test;
  when a model's fine-tuning saw some of those query languages and not others
  (:mod:`clirlens.core.models.training`), its average is also split into a *seen* and a
  *zero-shot* row;
* ``ot_cost`` / ``ot_accuracy``: the model's mean OT cost between the query language's
  questions and their English parallels, and OT translation retrieval P@1 (lower cost =
  better aligned; comparable across languages for one model, not across models).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from clirlens.core.data.xquad import LOW_RESOURCE
from clirlens.core.evaluation.metrics import Evaluation
from clirlens.core.evaluation.significance import PairedTest
from clirlens.core.models.training import UNKNOWN, Status, TrainingLanguages
from clirlens.core.types import Direction, Run

SOURCES: dict[str, str] = {
    "gold": "gold qrels",
    "human": "human judgments",
    "judged": "human judgments, judged passages only",
}
ALPHAS: tuple[tuple[float, str], ...] = ((0.01, "**"), (0.05, "*"))


def stars(p: float | None) -> str:
    """``**`` for p < 0.01, ``*`` for p < 0.05, else ``""`` (:data:`ALPHAS`)."""
    if p is None or math.isnan(p):
        return ""
    return next((mark for alpha, mark in ALPHAS if p < alpha), "")


@dataclass(frozen=True)
class DirectionEvaluation:
    """Every model's evaluation on one direction against one source of qrels."""

    source: str  # a key of SOURCES
    query_lang: str
    doc_lang: str
    evaluations: Mapping[str, Evaluation]  # model -> evaluation

    @property
    def label(self) -> str:
        return Direction(self.query_lang, self.doc_lang).label

    @property
    def n(self) -> int:
        return max((len(e.query_ids) for e in self.evaluations.values()), default=0)


@dataclass(frozen=True)
class AlignmentScore:
    """What the report takes from :class:`~clirlens.core.ot.scoring.LanguageScore`."""

    model: str
    lang: str
    mean_cost: float
    accuracy: float  # OT translation retrieval P@1
    pairs: int

    @classmethod
    def of(cls, score: object) -> AlignmentScore:
        return cls(
            score.model,  # type: ignore[attr-defined]
            score.lang,  # type: ignore[attr-defined]
            float(score.mean_cost),  # type: ignore[attr-defined]
            float(score.accuracy),  # type: ignore[attr-defined]
            int(score.pairs),  # type: ignore[attr-defined]
        )


@dataclass(frozen=True)
class Row:
    source: str
    label: str  # "th-en", or the average's description
    query_lang: str  # "" for an average row
    doc_lang: str
    model: str
    n: int
    values: Mapping[str, float]
    marks: Mapping[str, str] = field(default_factory=dict)
    p: Mapping[str, float] = field(default_factory=dict)  # Holm permutation p of the pair
    ot_cost: float | None = None
    ot_accuracy: float | None = None
    average: bool = False
    langs: tuple[str, ...] = ()  # the query languages an average row covers


@dataclass(frozen=True)
class Report:
    models: tuple[str, ...]
    measures: tuple[str, ...]
    directions: tuple[DirectionEvaluation, ...]
    pair: tuple[str, str] | None = None  # (model A, model B) of the comparisons
    comparisons: tuple[tuple[str, PairedTest], ...] = ()  # (source, comparison)
    alignment: tuple[AlignmentScore, ...] = ()
    notes: tuple[str, ...] = ()
    # direction label -> model -> run (what the evaluations were computed from)
    runs: Mapping[str, Mapping[str, Run]] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    manifest: Mapping[str, Any] = field(default_factory=dict)
    # model -> the languages of its retrieval fine-tuning (None: BM25), core/models/training.py
    training: Mapping[str, TrainingLanguages | None] = field(default_factory=dict)

    def status(self, model: str, lang: str) -> Status | None:
        """Whether ``model``'s fine-tuning saw ``lang`` (None: nothing trained, BM25)."""
        rec = self.training.get(model, UNKNOWN)
        return None if rec is None else rec.status(lang)

    def saw(self, model: str, query_lang: str, doc_lang: str) -> str:
        """``"queries th zero-shot, passages en seen"``; one language when both are the
        same; empty for BM25."""
        q, p = self.status(model, query_lang), self.status(model, doc_lang)
        if q is None or p is None:
            return ""
        if query_lang == doc_lang:
            return f"{query_lang} {q}"
        return f"queries {query_lang} {q}, passages {doc_lang} {p}"

    def __post_init__(self) -> None:
        cmp = {(s, c.label, c.measure): c for s, c in self.comparisons}
        ali = {(a.model, a.lang): a for a in self.alignment}
        object.__setattr__(self, "_cmp", MappingProxyType(cmp))
        object.__setattr__(self, "_ali", MappingProxyType(ali))

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d.source for d in self.directions))

    def comparison(self, source: str, label: str, measure: str) -> PairedTest | None:
        return self._cmp.get((source, label, measure))  # type: ignore[attr-defined]

    def alignment_score(self, model: str, lang: str) -> AlignmentScore | None:
        return self._ali.get((model, lang))  # type: ignore[attr-defined]

    def value(self, source: str, label: str, model: str, measure: str) -> float:
        for d in self.directions:
            if d.source == source and d.label == label:
                return d.evaluations[model].aggregate[measure]
        raise KeyError((source, label))

    # -- rows --------------------------------------------------------------------------------
    def _marks(self, d: DirectionEvaluation, model: str) -> tuple[dict, dict]:
        marks: dict[str, str] = {}
        pvalues: dict[str, float] = {}
        if self.pair is None or model not in self.pair:
            return marks, pvalues
        for m in self.measures:
            c = self.comparison(d.source, d.label, m)
            if c is None:
                continue
            p = c.p_permutation_holm if c.p_permutation_holm is not None else c.p_permutation
            pvalues[m] = p
            mine, other = (c.mean_a, c.mean_b) if model == self.pair[0] else (c.mean_b, c.mean_a)
            marks[m] = stars(p) if mine > other else ""
        return marks, pvalues

    def rows(self) -> list[Row]:
        out: list[Row] = []
        for source in self.sources:
            dirs = [d for d in self.directions if d.source == source]
            for d in dirs:
                for model in self.models:
                    ev = d.evaluations.get(model)
                    if ev is None:
                        continue
                    marks, pvalues = self._marks(d, model)
                    ot = self.alignment_score(model, d.query_lang)
                    out.append(
                        Row(
                            source,
                            d.label,
                            d.query_lang,
                            d.doc_lang,
                            model,
                            len(ev.query_ids),
                            dict(ev.aggregate),
                            marks,
                            pvalues,
                            ot.mean_cost if ot else None,
                            ot.accuracy if ot else None,
                        )
                    )
            out.extend(self._averages(source, dirs))
        return out

    def _averages(self, source: str, dirs: Sequence[DirectionEvaluation]) -> list[Row]:
        groups: dict[str, list[DirectionEvaluation]] = {}
        for d in dirs:
            if d.query_lang in LOW_RESOURCE:
                key = "" if d.query_lang == d.doc_lang else d.doc_lang
                groups.setdefault(key, []).append(d)
        out = []
        for doc_lang, group in groups.items():
            langs = tuple(d.query_lang for d in group)
            where = f"→ {doc_lang}" if doc_lang else "same language"
            label = f"low-resource avg {where} ({', '.join(langs)})"
            for model in self.models:
                evs = [d.evaluations[model] for d in group if model in d.evaluations]
                if len(evs) != len(group):
                    continue
                out.append(self._average(source, label, doc_lang, model, group))
            for model in self.models:  # split by what each model's fine-tuning saw
                split = {
                    kind: [d for d in group if self.status(model, d.query_lang) == kind]
                    for kind in ("seen", "zero-shot")
                }
                if not all(split.values()):
                    continue  # all of one kind (or unknown): the average above says it
                for kind, part in split.items():
                    if all(model in d.evaluations for d in part):
                        part_langs = ", ".join(d.query_lang for d in part)
                        part_label = f"low-resource avg {where}, {kind} by {model} ({part_langs})"
                        out.append(self._average(source, part_label, doc_lang, model, part))
        return out

    def _average(self, source: str, label: str, doc_lang: str, model: str, group: list) -> Row:
        """One model's unweighted mean over the directions of ``group``."""
        langs = tuple(d.query_lang for d in group)
        evs = [d.evaluations[model] for d in group]
        values = {m: sum(e.aggregate[m] for e in evs) / len(evs) for m in self.measures}
        ots = [self.alignment_score(model, lang) for lang in langs]
        costs = [s.mean_cost for s in ots if s is not None]
        accs = [s.accuracy for s in ots if s is not None]
        return Row(
            source,
            label,
            "",
            doc_lang,
            model,
            sum(len(e.query_ids) for e in evs),
            values,
            ot_cost=sum(costs) / len(costs) if costs else None,
            ot_accuracy=sum(accs) / len(accs) if accs else None,
            average=True,
            langs=langs,
        )
