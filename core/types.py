"""Immutable records that cross layer boundaries (docs/architecture.md §2.1).

Everything here is a frozen dataclass (or, for the one record made by the hundred thousand,
a named tuple) of plain Python / numpy values: no tensors, no ORM objects, no Qt types.
core, storage and gui all speak in these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class Query:
    """A question or search request. ``id`` is stable across languages for parallel data."""

    id: str
    text: str
    lang: str


@dataclass(frozen=True)
class Answer:
    """A gold answer span inside a passage (character offsets into ``Passage.text``)."""

    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class Passage:
    """A retrievable unit. ``id`` is stable across languages for parallel data.

    ``title`` is kept apart from ``text``: whether and how it is joined is the model's
    convention (``ModelSpec.title_join``), not the data's.
    """

    id: str
    text: str
    lang: str
    title: str | None = None


def _freeze_qrels(data: Mapping[str, Mapping[str, int]]) -> Mapping[str, Mapping[str, int]]:
    return MappingProxyType(
        {
            str(q): MappingProxyType({str(d): int(g) for d, g in docs.items()})
            for q, docs in data.items()
        }
    )


@dataclass(frozen=True)
class Qrels:
    """Graded relevance: query id -> passage id -> grade (0 = not relevant)."""

    data: Mapping[str, Mapping[str, int]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _freeze_qrels(self.data))

    def relevant(self, query_id: str, min_grade: int = 1) -> frozenset[str]:
        return frozenset(d for d, g in self.data.get(query_id, {}).items() if g >= min_grade)

    def grade(self, query_id: str, passage_id: str) -> int | None:
        return self.data.get(query_id, {}).get(passage_id)

    @property
    def query_ids(self) -> tuple[str, ...]:
        return tuple(self.data)

    def __len__(self) -> int:
        return sum(len(d) for d in self.data.values())

    @classmethod
    def from_triples(cls, triples: Iterable[tuple[str, str, int]]) -> Qrels:
        out: dict[str, dict[str, int]] = {}
        for q, d, g in triples:
            out.setdefault(q, {})[d] = g
        return cls(out)


class Direction(NamedTuple):
    """Queries in one language against passages in another (or the same): ``th→en``."""

    query_lang: str
    doc_lang: str

    @property
    def label(self) -> str:
        """``"th-en"``: the name runs, files and campaigns use."""
        return f"{self.query_lang}-{self.doc_lang}"

    @property
    def arrow(self) -> str:
        """``"th→en"``: how the window and messages show it."""
        return f"{self.query_lang}→{self.doc_lang}"


class ScoredPassage(NamedTuple):
    """One entry of a ranking. A named tuple, not a frozen dataclass: a run holds queries x
    k of them (hundreds of thousands for two models on one XQuAD direction at k=100), and
    building frozen dataclasses was the slowest part of a warm ``clirlens eval`` (a named
    tuple is about three times cheaper)."""

    passage_id: str
    score: float
    rank: int  # 1-based


@dataclass(frozen=True)
class Run:
    """A ranking per query, best first. ``name`` is the run tag (usually the model label)."""

    name: str
    rankings: Mapping[str, tuple[ScoredPassage, ...]]

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "rankings", MappingProxyType({q: tuple(r) for q, r in self.rankings.items()})
        )

    def top(self, query_id: str, k: int | None = None) -> tuple[ScoredPassage, ...]:
        ranking = self.rankings.get(query_id, ())
        return ranking if k is None else ranking[:k]

    def rank_of(self, query_id: str, passage_id: str) -> int | None:
        for sp in self.rankings.get(query_id, ()):
            if sp.passage_id == passage_id:
                return sp.rank
        return None

    @classmethod
    def from_scores(cls, name: str, scores: Mapping[str, Mapping[str, float]]) -> Run:
        """Build a run from unordered scores; ties broken by passage id for determinism."""
        rankings = {}
        for q, docs in scores.items():
            ordered = sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))
            rankings[q] = tuple(
                ScoredPassage(d, float(s), i + 1) for i, (d, s) in enumerate(ordered)
            )
        return cls(name, rankings)


@dataclass(frozen=True)
class RetrievalTask:
    """One evaluation direction: queries in one language against a corpus in another."""

    name: str  # e.g. "xquad/th-en"
    query_lang: str
    doc_lang: str
    queries: tuple[Query, ...]
    # a tuple, or a clirlens.core.data.store.PassageStore read lazily from disk
    corpus: Sequence[Passage]
    qrels: Qrels
    # optional gold answers per (query id) in the document language, for highlighting
    answers: Mapping[str, tuple[Answer, ...]] = field(default_factory=dict)
    # optional parallel English (or pivot) question per query id, for context and OT
    parallel: Mapping[str, Query] = field(default_factory=dict)

    def passage(self, passage_id: str) -> Passage:
        by_id = getattr(self.corpus, "by_id", None)  # a store looks it up on disk
        if by_id is not None:
            return by_id[passage_id]
        for p in self.corpus:  # small corpora; callers with big ones keep their own map
            if p.id == passage_id:
                return p
        raise KeyError(passage_id)


@dataclass(frozen=True)
class Progress:
    """What a long-running core generator yields (docs/architecture.md §2.2)."""

    done: int
    total: int
    message: str = ""
    # what done and total count: "" items, "bytes" bytes of input read; keyword-only, so
    # subclasses' own fields keep their places (DistillProgress(done, total, msg, step, ...))
    unit: str = field(default="", kw_only=True)

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


@dataclass(frozen=True, eq=False)
class TokenStates:
    """Token-level hidden states of one text under one model (for OT alignment).

    ``offsets[i]`` are character offsets into ``text`` (the original text, without any model
    prefix such as ``"query: "``). ``special[i]`` is True for tokens that are not content of
    ``text``: the tokenizer's special tokens and the tokens of the model's prefix; they have
    offsets ``(0, 0)``. ``vectors`` is float32, shape ``(len(tokens), hidden)``.
    """

    text: str
    tokens: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]
    special: tuple[bool, ...]
    vectors: np.ndarray
    model: str
    layer: int

    def content(self) -> TokenStates:
        """The same record with special and prefix tokens removed."""
        keep = [i for i, s in enumerate(self.special) if not s]
        return TokenStates(
            self.text,
            tuple(self.tokens[i] for i in keep),
            tuple(self.offsets[i] for i in keep),
            tuple(False for _ in keep),
            self.vectors[keep],
            self.model,
            self.layer,
        )

    def __len__(self) -> int:
        return len(self.tokens)
