"""What a judging campaign pools, chosen from one direction's comparison.

A campaign is built from the runs the workspace already computed for a direction
(:class:`~clirlens.core.workspace.comparison.Comparison`): which queries (every query of the
direction, a seeded random sample of ``n``, or the ``n`` where two models disagree most),
which models' runs are pooled, and the passages those runs point to. The result,
:class:`CampaignPlan`, holds exactly the arguments of
``JudgmentRepository.create_campaign`` (storage), so creating the campaign is one call.

One campaign covers one direction: XQuAD's question ids are the same in every language,
and a campaign holds each (query id, passage id) pair once.

Disagreement is core's (:mod:`clirlens.core.workspace.comparison`): ``|gold rank A - gold rank B|``
with a missed gold passage at rank ``k + 1``, largest first, ties broken by the lower RBO
of the two top lists, then dataset order.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from clirlens.core.data.store import passage_map
from clirlens.core.errors import UserError
from clirlens.core.types import Direction, Passage, Query, Run
from clirlens.core.workspace.comparison import Comparison, Pair

QUERY_MODES: dict[str, str] = {
    "all": "every query of the direction",
    "sample": "a random sample of N queries (seeded)",
    "disagreement": "the N queries where models A and B disagree most",
}


@dataclass(frozen=True)
class CampaignPlan:
    """The arguments of ``create_campaign`` for one direction."""

    runs: tuple[Run, ...]
    queries: tuple[Query, ...]  # in presentation order
    passages: Mapping[str, Passage]
    query_lang: str
    doc_lang: str
    dataset: str

    @property
    def direction(self) -> str:
        """``"th-en"``: the label storage keeps in ``Campaign.directions``."""
        return Direction(self.query_lang, self.doc_lang).label


def select_queries(
    comparison: Comparison,
    mode: str = "all",
    n: int | None = None,
    *,
    pair: Pair = (0, 1),
    seed: int = 0,
) -> tuple[Query, ...]:
    """The queries a campaign judges (see :data:`QUERY_MODES`).

    ``all`` keeps dataset order (the first ``n`` when ``n`` is given); ``sample`` draws
    ``n`` with :class:`random.Random` seeded by ``seed`` and keeps them in dataset order;
    ``disagreement`` takes the first ``n`` of core's disagreement order for ``pair``.
    """
    queries = comparison.task.queries
    if mode not in QUERY_MODES:
        raise UserError(f"unknown query selection {mode!r}; use one of {', '.join(QUERY_MODES)}")
    if n is not None and n < 1:
        raise UserError(f"the number of queries must be positive, got {n}")
    if mode == "all":
        return tuple(queries[:n] if n is not None else queries)
    if n is None:
        raise UserError(f"query selection {mode!r} needs a number of queries N")
    if mode == "sample":
        index = {q.id: i for i, q in enumerate(queries)}
        chosen = random.Random(seed).sample(list(queries), min(n, len(queries)))
        return tuple(sorted(chosen, key=lambda q: index[q.id]))
    rows = comparison.browse("", "disagreement", pair)
    return tuple(r.query for r in rows[:n])


def plan_campaign(
    comparison: Comparison,
    *,
    models: Sequence[str] | None = None,
    mode: str = "all",
    n: int | None = None,
    pair: Pair = (0, 1),
    seed: int = 0,
    dataset: str = "",
) -> CampaignPlan:
    """Queries (:func:`select_queries`), the chosen models' runs (all when ``models`` is
    None) and the direction's corpus, ready for ``create_campaign``."""
    by_name = {r.name: r for r in comparison.runs}
    names = list(by_name) if models is None else list(dict.fromkeys(models))
    unknown = [m for m in names if m not in by_name]
    if unknown:
        raise UserError(
            f"model {unknown[0]!r} has no run in {comparison.task.name}; "
            f"models: {', '.join(by_name)}"
        )
    if not names:
        raise UserError("choose at least one model whose results are pooled")
    task = comparison.task
    return CampaignPlan(
        runs=tuple(by_name[m] for m in names),
        queries=select_queries(comparison, mode, n, pair=pair, seed=seed),
        passages=passage_map(task.corpus),
        query_lang=task.query_lang,
        doc_lang=task.doc_lang,
        dataset=dataset,
    )


def default_campaign_name(
    query_lang: str, doc_lang: str, existing: Sequence[str] = (), now: datetime | None = None
) -> str:
    """``"th-en 2025-11-24"``, with ``" (2)"``, ``" (3)"``… when that name is taken."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d")
    base = f"{query_lang}-{doc_lang} {stamp}"
    taken = set(existing)
    name, i = base, 2
    while name in taken:
        name = f"{base} ({i})"
        i += 1
    return name
