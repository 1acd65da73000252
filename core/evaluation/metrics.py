"""Retrieval metrics through ir-measures, and paired significance tests between two models.

Metrics (ir-measures names; Järvelin & Kekäläinen 2002 for nDCG, Voorhees 1999 for RR)::

    nDCG@k = DCG@k / IDCG@k,  DCG@k = sum_{i<=k} g_i / log2(i + 1)
             (trec_eval's linear gain g_i = the grade, not 2^g - 1; IDCG from the qrels)
    RR@k   = 1 / rank of the first relevant passage within the top k, else 0
    R@k    = |relevant ∩ top k| / |relevant|

Conventions (documented because they change numbers):

* **Which queries count.** Every query id in the qrels, including queries that are missing
  from the run or have an empty ranking: those score 0 for every measure. Queries in the run
  but not in the qrels are ignored. This is what ``ir_measures.calc_aggregate`` does since
  ir-measures 0.3 (its ``Evaluator.iter_calc`` fills missing qrels queries with the measure's
  default, 0); :func:`evaluate` fills them itself as well, so per-query tables are complete
  and aggregates are means over all qrels queries whatever the provider does.
* **Ties.** The run's ranks decide the order. ir-measures' providers break score ties
  differently (pytrec_eval by document id descending, the MS MARCO provider ascending), so
  scores handed to ir-measures are derived from the ranks (``-rank``), not the raw scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from clirlens.core.errors import UserError
from clirlens.core.types import Qrels, Run

DEFAULT_MEASURES: tuple[str, ...] = ("nDCG@10", "RR@10", "R@1", "R@5", "R@100")


@dataclass(frozen=True)
class Evaluation:
    """Per-query and mean metric values of one run against one set of qrels.

    ``per_query[measure][query_id]`` holds a value for every measure and every id in
    ``query_ids`` (the qrels' queries, in qrels order); ``aggregate[measure]`` is their mean.
    """

    run_name: str
    measures: tuple[str, ...]
    query_ids: tuple[str, ...]
    per_query: Mapping[str, Mapping[str, float]]
    aggregate: Mapping[str, float]

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "per_query",
            MappingProxyType({m: MappingProxyType(dict(v)) for m, v in self.per_query.items()}),
        )
        object.__setattr__(self, "aggregate", MappingProxyType(dict(self.aggregate)))

    def values(self, measure: str, query_ids: Sequence[str] | None = None) -> np.ndarray:
        """Per-query values of ``measure`` as float64, in ``query_ids`` order (default: own)."""
        table = self.per_query[measure]
        return np.array([table[q] for q in (query_ids or self.query_ids)], dtype=np.float64)

    def rows(self) -> list[tuple[str, str, float]]:
        """``(query_id, measure, value)`` rows, queries in order, for CSV export."""
        return [(q, m, self.per_query[m][q]) for q in self.query_ids for m in self.measures]


def parse_measures(names: Sequence[str]) -> list:
    """ir-measures ``Measure`` objects for ``names``; an unknown name is a :class:`UserError`."""
    import ir_measures

    out = []
    for name in names:
        try:
            out.append(ir_measures.parse_measure(name))
        except (NameError, ValueError, TypeError, SyntaxError) as e:
            raise UserError(f"unknown measure {name!r} ({e})") from None
    return out


def evaluate(run: Run, qrels: Qrels, measures: Sequence[str] = DEFAULT_MEASURES) -> Evaluation:
    """Evaluate ``run`` against ``qrels`` with ir-measures (see the module notes on which
    queries count and on ties)."""
    import ir_measures

    parsed = parse_measures(measures)
    names = tuple(str(m) for m in parsed)
    qids = qrels.query_ids
    if not qids:
        raise UserError(f"cannot evaluate run {run.name!r}: the qrels have no queries")
    ir_qrels = {q: dict(docs) for q, docs in qrels.data.items()}
    ir_run = {
        q: {sp.passage_id: -float(sp.rank) for sp in run.rankings[q]}
        for q in qids
        if run.rankings.get(q)
    }
    table: dict[str, dict[str, float]] = {n: dict.fromkeys(qids, 0.0) for n in names}
    if ir_run:
        # measures hash and print through repr(); ir-measures hands back the very objects
        # it was given, so they are looked up by identity (str() for any other)
        by_id = {id(m): table[n] for m, n in zip(parsed, names, strict=True)}
        for metric in ir_measures.iter_calc(parsed, ir_qrels, ir_run):
            column = by_id.get(id(metric.measure))
            if column is None:
                column = table[str(metric.measure)]
            if metric.query_id in column:
                column[metric.query_id] = float(metric.value)
    aggregate = {n: float(np.mean(list(table[n].values()))) for n in names}
    return Evaluation(run.name, names, qids, table, aggregate)
