"""Two (or more) retrievers' rankings side by side, query by query: what the application's
query browser and compare view show.

Definitions, for runs retrieved to depth ``k`` (``Comparison.k``):

* **gold rank** of a model for a query: the best (smallest) rank, within the model's top
  ``k``, of any passage the qrels mark relevant (grade >= 1). When no relevant passage is
  in the top ``k`` the gold rank is ``k + 1`` (*missing rank = k + 1*): a miss is worse than
  any retrieved rank, and two misses tie. A query without relevant passages (free text)
  has no gold rank (``None``).
* **disagreement** of models A and B: ``|gold_rank_A - gold_rank_B|`` with the convention
  above, so it lies in ``0 .. k``; both models missing gives 0.
* **agreement** of the two top-``agreement_k`` lists (default 10): Kendall's tau-b,
  weighted tau, RBO (p = 0.9) and overlap@k, as defined in
  :mod:`clirlens.core.evaluation.rank_agreement`.

Everything is computed once per pair of models (:func:`compare`, a generator yielding
progress) and kept in immutable records; filtering and sorting (:meth:`Comparison.browse`)
only reorder them.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from clirlens.core.data.store import passage_map
from clirlens.core.evaluation.rank_agreement import RankAgreement, rank_agreement
from clirlens.core.progress import Job, Throttle
from clirlens.core.types import Passage, Progress, Query, RetrievalTask, Run, ScoredPassage

Pair = tuple[int, int]
# (query id, passage id) -> a judgment grade, or None when not judged (the judgments service plugs in)
GradeLookup = Callable[[str, str], "int | None"]

SORT_KEYS: dict[str, str] = {
    "order": "dataset order",
    "disagreement": "disagreement |rank A − rank B|, largest first",
    "rbo": "RBO of the top lists, lowest first",
    "kendall": "Kendall's τ of the top lists, lowest first",
    "overlap": "overlap of the top lists, lowest first",
    "rank-a": "gold rank of model A, worst first",
    "rank-b": "gold rank of model B, worst first",
}


@dataclass(frozen=True)
class QueryRow:
    """One query in the browser, for one pair of models."""

    index: int  # position in dataset order
    query: Query
    parallel: str | None  # the parallel (English) question, when the dataset has one
    ranks: tuple[int | None, ...]  # gold rank per model; k + 1 = not in the top k;
    # None = the query has no relevant passage
    disagreement: int  # |rank_A - rank_B| for the pair (0 without relevant passages)
    agreement: RankAgreement  # top-agreement_k lists of the pair


@dataclass(frozen=True)
class Hit:
    """One passage in one model's ranked list."""

    passage: Passage
    rank: int
    score: float
    gold: bool  # relevant (grade >= 1) in the dataset's qrels
    other_rank: int | None  # rank in the pair's other model (None: not in its top k)
    answer_spans: tuple[tuple[int, int], ...]  # character spans of gold answers in the text
    judged: int | None = None  # judgment grade once judged
    beyond: bool = False  # below the shown depth, listed because it is the gold passage

    @property
    def movement(self) -> str:
        """``"up"`` when the other model ranks this passage better (smaller rank),
        ``"down"`` when worse or not at all, ``"same"`` when equal."""
        if self.other_rank is None or self.other_rank > self.rank:
            return "down"
        return "up" if self.other_rank < self.rank else "same"


@dataclass(frozen=True)
class QueryView:
    """Everything the compare view shows for one query."""

    query: Query
    parallel: Query | None
    models: tuple[str, ...]
    pair: Pair
    lists: tuple[tuple[Hit, ...], ...]  # per model, best first
    gold: frozenset[str]
    gold_ranks: tuple[int | None, ...]  # per model (None: no relevant passage known)
    agreement: RankAgreement
    k: int
    free_text: bool = False

    def other(self, model: int) -> int:
        """The model a list is compared with: the other member of the pair (model A for
        models outside the pair)."""
        a, b = self.pair
        return b if model == a else a


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def gold_rank(run: Run, query_id: str, relevant: frozenset[str], k: int) -> int | None:
    """Best rank of a relevant passage within the top ``k``; ``k + 1`` when none is there;
    ``None`` when nothing is relevant."""
    if not relevant:
        return None
    for sp in run.top(query_id, k):
        if sp.passage_id in relevant:
            return sp.rank
    return k + 1


def _agreement(a: Run, b: Run, query_id: str, k: int) -> RankAgreement:
    ids_a = [sp.passage_id for sp in a.top(query_id, k)]
    ids_b = [sp.passage_id for sp in b.top(query_id, k)]
    return rank_agreement(ids_a, ids_b, k=k, query_id=query_id)


def _pairs(n: int) -> list[Pair]:
    return list(itertools.combinations(range(n), 2))


class Comparison:
    """The runs of several models on one task, with per-query rows for every pair of models.

    Build it with :func:`compare`. Immutable after construction; safe to read from any
    thread.
    """

    def __init__(
        self,
        task: RetrievalTask,
        runs: Sequence[Run],
        k: int,
        agreement_k: int,
        rows: Mapping[Pair, tuple[QueryRow, ...]],
    ) -> None:
        self.task = task
        self.runs = tuple(runs)
        self.models = tuple(r.name for r in self.runs)
        self.k = k
        self.agreement_k = agreement_k
        self._rows = dict(rows)
        self._passages = passage_map(task.corpus)
        self._index = {q.id: i for i, q in enumerate(task.queries)}

    def __repr__(self) -> str:
        return f"Comparison({self.task.name!r}, models={self.models}, k={self.k})"

    @property
    def pairs(self) -> list[Pair]:
        return list(self._rows)

    def rows(self, pair: Pair = (0, 1)) -> tuple[QueryRow, ...]:
        """All queries, in dataset order, for ``pair`` = (model A, model B)."""
        try:
            return self._rows[pair]
        except KeyError:
            raise ValueError(f"no such pair of models: {pair}") from None

    def row(self, query_id: str, pair: Pair = (0, 1)) -> QueryRow:
        return self.rows(pair)[self._index[query_id]]

    def passage(self, passage_id: str) -> Passage:
        return self._passages[passage_id]

    def browse(self, text: str = "", sort: str = "order", pair: Pair = (0, 1)) -> list[QueryRow]:
        """The rows whose query, parallel question or id contains ``text`` (case- and
        width-insensitive), sorted by a key of :data:`SORT_KEYS`. Ties keep dataset order;
        undefined (NaN) correlations sort last."""
        if sort not in SORT_KEYS:
            raise ValueError(f"unknown sort key {sort!r}; use one of {', '.join(SORT_KEYS)}")
        rows = list(self.rows(pair))
        needle = _fold(text.strip())
        if needle:
            rows = [
                r
                for r in rows
                if needle in _fold(r.query.text)
                or needle in r.query.id
                or (r.parallel is not None and needle in _fold(r.parallel))
            ]
        return sorted(rows, key=_sort_key(sort, pair))

    def view(
        self, query_id: str, pair: Pair = (0, 1), shown: int = 10, judged: GradeLookup | None = None
    ) -> QueryView:
        """The compare view of one dataset query: each model's top ``shown`` passages (plus
        its gold passage, marked ``beyond``, when ranked lower within the top k)."""
        query = self.task.queries[self._index[query_id]]
        return build_view(
            self,
            query,
            self.runs,
            pair=pair,
            shown=shown,
            judged=judged,
            parallel=self.task.parallel.get(query_id),
        )

    def free_text_view(
        self,
        query: Query,
        runs: Sequence[Run],
        pair: Pair = (0, 1),
        shown: int = 10,
        judged: GradeLookup | None = None,
    ) -> QueryView:
        """The compare view of a query typed by the user (no gold passage)."""
        return build_view(
            self, query, runs, pair=pair, shown=shown, judged=judged, parallel=None, free_text=True
        )


def build_view(
    comparison: Comparison,
    query: Query,
    runs: Sequence[Run],
    *,
    pair: Pair,
    shown: int,
    judged: GradeLookup | None,
    parallel: Query | None,
    free_text: bool = False,
) -> QueryView:
    task, k = comparison.task, comparison.k
    relevant = frozenset() if free_text else task.qrels.relevant(query.id)
    spans = () if free_text else tuple((a.start, a.end) for a in task.answers.get(query.id, ()))
    lists = []
    for m, run in enumerate(runs):
        other = runs[pair[1] if m == pair[0] else pair[0]] if len(runs) > 1 else run
        top = list(run.top(query.id, k))
        chosen = top[:shown]
        extra = [sp for sp in top[shown:] if sp.passage_id in relevant]
        hits = [
            _hit(comparison, query.id, sp, other, relevant, spans, k, judged, False)
            for sp in chosen
        ]
        hits += [
            _hit(comparison, query.id, sp, other, relevant, spans, k, judged, True) for sp in extra
        ]
        lists.append(tuple(hits))
    a, b = pair
    return QueryView(
        query=query,
        parallel=parallel,
        models=tuple(r.name for r in runs),
        pair=pair,
        lists=tuple(lists),
        gold=relevant,
        gold_ranks=tuple(gold_rank(r, query.id, relevant, k) for r in runs),
        agreement=_agreement(runs[a], runs[b], query.id, comparison.agreement_k),
        k=k,
        free_text=free_text,
    )


def _hit(
    comparison: Comparison,
    query_id: str,
    sp: ScoredPassage,
    other: Run,
    relevant: frozenset[str],
    spans: tuple[tuple[int, int], ...],
    k: int,
    judged: GradeLookup | None,
    beyond: bool,
) -> Hit:
    gold = sp.passage_id in relevant
    other_rank = other.rank_of(query_id, sp.passage_id)
    return Hit(
        passage=comparison.passage(sp.passage_id),
        rank=sp.rank,
        score=sp.score,
        gold=gold,
        other_rank=other_rank if other_rank and other_rank <= k else None,
        answer_spans=spans if gold else (),
        judged=judged(query_id, sp.passage_id) if judged else None,
        beyond=beyond,
    )


def _nan_last(x: float) -> tuple[bool, float]:
    return (math.isnan(x), x)


def _sort_key(sort: str, pair: Pair) -> Callable[[QueryRow], object]:
    a, b = pair
    if sort == "order":
        return lambda r: r.index
    if sort == "disagreement":
        return lambda r: (-r.disagreement, _nan_last(r.agreement.rbo), r.index)
    if sort in ("rbo", "kendall", "overlap"):
        field = {"rbo": "rbo", "kendall": "kendall_tau", "overlap": "overlap"}[sort]
        return lambda r: (_nan_last(getattr(r.agreement, field)), r.index)
    model = a if sort == "rank-a" else b
    return lambda r: (-(r.ranks[model] or 0), r.index)


def compare(
    task: RetrievalTask, runs: Sequence[Run], *, k: int, agreement_k: int = 10
) -> Job[Comparison]:
    """Gold ranks, disagreement and agreement for every query and pair of models (a
    generator: yields progress, returns the :class:`Comparison`)."""
    if len(runs) < 2:
        raise ValueError("a comparison needs at least two runs")
    relevant = {q.id: task.qrels.relevant(q.id) for q in task.queries}
    ranks = {q.id: tuple(gold_rank(r, q.id, relevant[q.id], k) for r in runs) for q in task.queries}
    pairs = _pairs(len(runs))
    total = len(pairs) * len(task.queries)
    tick = Throttle(0.1)
    rows: dict[Pair, tuple[QueryRow, ...]] = {}
    done = 0
    for a, b in pairs:
        out = []
        for i, q in enumerate(task.queries):
            r = ranks[q.id]
            parallel = task.parallel.get(q.id)
            out.append(
                QueryRow(
                    index=i,
                    query=q,
                    parallel=parallel.text if parallel else None,
                    ranks=r,
                    disagreement=0 if r[a] is None or r[b] is None else abs(r[a] - r[b]),
                    agreement=_agreement(runs[a], runs[b], q.id, agreement_k),
                )
            )
            done += 1
            if tick():
                yield Progress(done, total, "comparing rankings")
        rows[(a, b)] = tuple(out)
    yield Progress(total, total, "compared")
    return Comparison(task, runs, k, agreement_k, rows)
