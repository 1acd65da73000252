"""One annotator's pass through a campaign, and the judgments as the rest of the GUI needs
them: Qt-free, over the storage repository.

:class:`JudgingSession` keeps the campaign's pool in presentation order with the
annotator's grades, moves through it, and decides where a reopened session resumes: right
after the item the annotator last judged (the first item they have not judged after it,
wrapping to the start), or on the item itself when their last action cleared or undid its
judgment; a fresh annotator starts at the first item. It reads the database once when
opened; afterwards each judgment costs the write itself and one read of the item (its
sources, unblinded once judged), so a key press never waits on more than a few
milliseconds of database work.

:func:`human_qrels_by_direction` splits a campaign's judgments per direction (query
language → passage language) and aggregates them with storage's rules, for the dashboard.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from clirlens.core.errors import UserError
from clirlens.core.types import Direction, Qrels
from clirlens.storage.agreement import aggregate_qrels
from clirlens.storage.records import Campaign, Change, Judgment, PoolItem
from clirlens.storage.repository import JudgmentRepository

GradeKey = tuple[str, str, str, str]  # query lang, passage lang, query id, passage id


def item_direction(item: PoolItem) -> Direction:
    return Direction(item.query.lang, item.passage_lang)


def grade_key(item: PoolItem) -> GradeKey:
    """Where a grade of ``item`` is looked up: (query lang, passage lang, query id, passage
    id), the same key in every direction's view of the judgments."""
    return item.query.lang, item.passage_lang, item.query.id, item.passage_id


@dataclass(frozen=True)
class QueryProgress:
    number: int  # 1-based place of the item's query among the campaign's queries
    queries: int
    judged: int  # items of this query the annotator judged
    items: int
    place: int  # 1-based place of the item within its query


class JudgingSession:
    """The annotator's view of a campaign: pool, grades, current position."""

    def __init__(
        self,
        repo: JudgmentRepository,
        campaign: Campaign,
        annotator: str,
        items: Iterable[PoolItem],
        judgments: Iterable[Judgment],
    ) -> None:
        self.repo = repo
        self.campaign = campaign
        self.annotator = annotator
        self.items: list[PoolItem] = list(items)
        self.index = {it.id: i for i, it in enumerate(self.items)}
        self.judgments: dict[int, Judgment] = {j.item_id: j for j in judgments}
        self._queries: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, it in enumerate(self.items):
            self._queries[(it.query.lang, it.query.id)].append(i)
        self._query_order = {key: n for n, key in enumerate(self._queries)}
        self.position = 0

    @classmethod
    def open(cls, repo: JudgmentRepository, campaign: str, annotator: str) -> JudgingSession:
        """Load the campaign for ``annotator`` and place the session where they resume."""
        record = repo.campaign(campaign)
        session = cls(
            repo,
            record,
            annotator,
            repo.items(campaign, annotator),
            repo.judgments(campaign, annotator),
        )
        session.position = session.resume_position()
        return session

    # -- where to be -------------------------------------------------------------------------
    def resume_position(self) -> int:
        """Where the annotator resumes (module notes)."""
        if not self.items:
            return 0
        history = self.repo.history(self.campaign.name, self.annotator)
        last = history[-1] if history else None
        if last is None or last.item_id not in self.index:
            first = self.next_unjudged(-1)
            return 0 if first is None else first
        pos = self.index[last.item_id]
        if last.new is None:
            return pos
        after = self.next_unjudged(pos)
        return pos if after is None else after

    def next_unjudged(self, after: int) -> int | None:
        """The first position after ``after`` (wrapping around) whose item the annotator
        has not judged; None when every item is judged."""
        n = len(self.items)
        for step in range(1, n + 1):
            pos = (after + step) % n if after >= 0 else step - 1
            if self.items[pos].id not in self.judgments:
                return pos
        return None

    @property
    def current(self) -> PoolItem | None:
        return self.items[self.position] if self.items else None

    def goto(self, position: int) -> bool:
        if not self.items:
            return False
        position = max(0, min(len(self.items) - 1, position))
        moved = position != self.position
        self.position = position
        return moved

    def move(self, delta: int) -> bool:
        return self.goto(self.position + delta)

    def skip(self) -> bool:
        """To the next unjudged item after the current one (or the next item)."""
        target = self.next_unjudged(self.position)
        if target is None or target == self.position:
            return self.move(1)
        return self.goto(target)

    def advance(self) -> bool:
        """After a judgment: to the next unjudged item (stay when none is left)."""
        target = self.next_unjudged(self.position)
        return False if target is None else self.goto(target)

    # -- grades ------------------------------------------------------------------------------
    def judgment(self, item_id: int) -> Judgment | None:
        return self.judgments.get(item_id)

    def apply(self, change: Change) -> int:
        """Take in what a judging call did (grade, and the item's sources now that it is
        judged, or blinded again when undone); returns the item's position."""
        item_id = change.entry.item_id
        if change.judgment is None:
            self.judgments.pop(item_id, None)
        else:
            self.judgments[item_id] = change.judgment
        pos = self.index.get(item_id)
        if pos is None:
            return self.position
        if self.campaign.blind:
            self.items[pos] = self.repo.item(item_id, self.annotator)
        return pos

    # -- progress ----------------------------------------------------------------------------
    @property
    def judged(self) -> int:
        return sum(1 for it in self.items if it.id in self.judgments)

    @property
    def done(self) -> bool:
        return bool(self.items) and self.judged == len(self.items)

    def query_progress(self, position: int | None = None) -> QueryProgress:
        pos = self.position if position is None else position
        item = self.items[pos]
        key = (item.query.lang, item.query.id)
        members = self._queries[key]
        judged = sum(1 for i in members if self.items[i].id in self.judgments)
        return QueryProgress(
            self._query_order[key] + 1,
            len(self._queries),
            judged,
            len(members),
            members.index(pos) + 1,
        )

    def grade_table(self) -> dict[GradeKey, int]:
        """The annotator's grades by (query lang, passage lang, query id, passage id)."""
        out = {}
        for it in self.items:
            j = self.judgments.get(it.id)
            if j is not None:
                out[grade_key(it)] = j.grade
        return out


def human_qrels_by_direction(
    repo: JudgmentRepository,
    campaign: str,
    *,
    method: str = "majority",
    annotator: str | None = None,
) -> dict[Direction, Qrels]:
    """The campaign's judgments as qrels per direction: one annotator's grades, or all
    annotators aggregated by ``method`` (storage's :func:`aggregate_qrels`)."""
    directions = {it.id: item_direction(it) for it in repo.items(campaign)}
    grouped: dict[Direction, list[Judgment]] = defaultdict(list)
    for j in repo.judgments(campaign, annotator):
        grouped[directions[j.item_id]].append(j)
    return {
        d: aggregate_qrels(js, annotator=annotator, method=method)
        for d, js in grouped.items()
        if js
    }


@dataclass(frozen=True)
class CampaignQrels:
    """A campaign's judgments ready for evaluation: qrels per direction, where they came from
    (said in the output and recorded in the manifest) and the grade that counts as
    relevant (the mean aggregate is already binary: 1 = relevant)."""

    by_direction: dict[Direction, Qrels]
    source: str
    min_grade: int


def campaign_qrels(
    repo: JudgmentRepository,
    campaign: str,
    *,
    annotator: str | None = None,
    method: str = "majority",
    min_grade: int = 2,
) -> CampaignQrels:
    """What ``clirlens eval --campaign`` and the dashboard evaluate against (one rule for
    both): one annotator's grades, or all annotators' aggregated by ``method``."""
    by_direction = human_qrels_by_direction(repo, campaign, method=method, annotator=annotator)
    if not by_direction:
        who = f" by {annotator}" if annotator else ""
        raise UserError(f"campaign {campaign!r} has no judgments{who} yet: nothing to evaluate")
    if annotator is not None:
        source = f"campaign {campaign!r}, {annotator}'s grades"
    else:
        annotators = len({j.annotator for j in repo.judgments(campaign)})
        how = "majority grade" if method == "majority" else "mean grade >= 2"
        source = f"campaign {campaign!r}, {how} of {annotators} annotator(s)"
    binary = annotator is None and method == "mean"
    return CampaignQrels(by_direction, source, 1 if binary else min_grade)
