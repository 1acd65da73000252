"""Pooling: which (query, passage) pairs a campaign asks annotators to judge.

The pool of a query is the union of every run's top-``depth`` passages for it, each pair once,
remembering which runs surfaced it at which rank (TREC-style depth-k pooling). Items are grouped
by query, in the order the queries are given, so an annotator reads each question once; within
a query the passages are shuffled with a generator seeded by ``(seed, query id)``, so the order
says nothing about rank or model, and the same inputs always give the same pool (adding a query
does not reshuffle the others).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from clirlens.core.errors import DataError, UserError
from clirlens.core.types import Passage, Query, Run

from .records import Source


@dataclass(frozen=True)
class PoolEntry:
    query: Query
    passage_id: str
    passage_lang: str
    passage_hash: str
    sources: tuple[Source, ...]  # best rank first


def text_hash(text: str) -> str:
    """SHA-256 of the passage text (UTF-8), hex: lets a caller check that the text it loads is
    the text that was pooled."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def as_mapping(
    items: Mapping[str, Query | Passage] | Iterable[Query | Passage],
) -> Mapping[str, Query | Passage]:
    """Items by id; a mapping is used as it is (a passage store's is read lazily from disk,
    and only the pooled passages are looked up)."""
    if isinstance(items, Mapping):
        return items
    return {x.id: x for x in items}


def build_pool(
    runs: Sequence[Run],
    queries: Sequence[Query],
    passages: Mapping[str, Passage],
    depth: int,
    seed: int,
) -> list[PoolEntry]:
    """The pool in presentation order (see the module docstring)."""
    if not runs:
        raise UserError("a campaign needs at least one run to pool from")
    names = [r.name for r in runs]
    if len(set(names)) != len(names):
        raise UserError(f"run names must differ to tell the models apart, got {names}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise UserError(f"pool depth must be a positive whole number, got {depth!r}")
    seen_queries: set[str] = set()
    pool: list[PoolEntry] = []
    for query in queries:
        if query.id in seen_queries:
            raise UserError(f"query {query.id} is given twice")
        seen_queries.add(query.id)
        found: dict[str, list[Source]] = {}
        for run in runs:
            for sp in run.top(query.id, depth):
                found.setdefault(sp.passage_id, []).append(Source(run.name, sp.rank))
        order = sorted(found)
        random.Random(f"{seed}\x1f{query.id}").shuffle(order)
        for pid in order:
            passage = passages.get(pid)
            if passage is None:
                raise DataError(
                    f"passage {pid} (retrieved for query {query.id} by "
                    f"{', '.join(s.model for s in found[pid])}) is not among the given passages"
                )
            sources = tuple(sorted(found[pid], key=lambda s: (s.rank, s.model)))
            pool.append(PoolEntry(query, pid, passage.lang, text_hash(passage.text), sources))
    return pool
