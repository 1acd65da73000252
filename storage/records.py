"""Frozen records the judgments store hands out (docs/architecture.md §2.1).

The repository turns database rows into these before its transaction ends, so nothing that
leaves ``clirlens.storage`` holds a session, a lazy attribute or an ORM object. They build on
core's own types (a pool item carries a :class:`~clirlens.core.types.Query`; qrels for
evaluation are a :class:`~clirlens.core.types.Qrels`).

Timestamps are timezone-aware UTC datetimes. Grades are 0 not relevant, 1 related, 2 relevant,
3 answers the question (docs/architecture.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clirlens.core.types import Query

GRADES = (0, 1, 2, 3)
GRADE_LABELS = {0: "not relevant", 1: "related", 2: "relevant", 3: "answers the question"}


@dataclass(frozen=True)
class Source:
    """One model that surfaced a pooled passage, at this 1-based rank."""

    model: str
    rank: int


@dataclass(frozen=True)
class Campaign:
    """A judging campaign: one pool of (query, passage) items, judged by any annotators."""

    id: int
    name: str
    dataset: str
    directions: tuple[str, ...]  # e.g. ("th-en", "hi-en")
    models: tuple[str, ...]  # run names (model labels) the pool was built from
    depth: int  # top-k of every run that went into the pool (0: pool imported from qrels)
    blind: bool  # hide which models surfaced an item until the annotator has judged it
    seed: int  # seed of the deterministic shuffle
    created_at: datetime
    size: int  # number of pooled items


@dataclass(frozen=True)
class PoolItem:
    """One (query, passage) pair to judge.

    The passage itself is not stored (datasets can be large and licensed); ``passage_hash`` is
    the SHA-256 of its text, so a caller that loads it from the dataset can check it is the text
    that was pooled. ``sources`` is empty and ``blinded`` True while the campaign is blind and
    the annotator asking has not judged the item yet.
    """

    id: int
    campaign: str
    position: int  # 0-based place in the campaign's shuffled order
    query: Query
    passage_id: str
    passage_lang: str
    passage_hash: str
    sources: tuple[Source, ...]
    blinded: bool = False


@dataclass(frozen=True)
class JudgmentState:
    """What one annotator's judgment of one item holds; what undo restores."""

    grade: int
    note: str | None
    seconds_spent: float | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Judgment:
    """A grade one annotator gave one pooled item (at most one per annotator and item)."""

    id: int
    campaign: str
    annotator: str
    item_id: int
    query_id: str
    passage_id: str
    grade: int
    note: str | None
    seconds_spent: float | None
    created_at: datetime
    updated_at: datetime

    @property
    def state(self) -> JudgmentState:
        return JudgmentState(
            self.grade, self.note, self.seconds_spent, self.created_at, self.updated_at
        )


@dataclass(frozen=True)
class HistoryEntry:
    """One change of one judgment, as the append-only history recorded it.

    ``old``/``new`` are None where there was no judgment (before the first grade, after an
    undo of it). ``action`` is ``judge``, ``clear``, ``import`` or ``undo``; an ``undo`` entry
    names the entry it reverted in ``reverts_id``.
    """

    id: int
    annotator: str
    item_id: int
    action: str
    old: JudgmentState | None
    new: JudgmentState | None
    at: datetime
    reverts_id: int | None = None


@dataclass(frozen=True)
class AnnotatorProgress:
    annotator: str
    judged: int
    total: int
    grades: tuple[int, int, int, int]  # how many items got grade 0, 1, 2, 3
    seconds_spent: float  # sum over the judgments that recorded it

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else self.judged / self.total


@dataclass(frozen=True)
class ProgressSummary:
    campaign: str
    total: int  # pooled items
    judged_by_any: int  # items at least one annotator judged
    judged_by_all: int  # items every annotator of the campaign judged
    annotators: tuple[AnnotatorProgress, ...]  # ordered by name

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else self.judged_by_any / self.total


@dataclass(frozen=True)
class Change:
    """What one judging call did: its history entry and the judgment as it now stands (None
    when the item is now unjudged by that annotator). Commands keep ``entry.id`` to undo it."""

    entry: HistoryEntry
    judgment: Judgment | None


@dataclass(frozen=True)
class ImportSummary:
    campaign: str
    annotator: str
    created_campaign: bool
    added: int  # items the annotator had not judged before
    changed: int  # items whose grade the file changed
    unchanged: int  # items that already had the file's grade
