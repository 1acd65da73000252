"""The judgments repository: every read and write of campaigns and judgments.

Each public method is one transaction (``with Session(engine) as s, s.begin():``, retried as a
whole on transient conflicts: see :mod:`clirlens.storage.transactions`) that returns frozen records
(:mod:`clirlens.storage.records`, core's :class:`~clirlens.core.types.Qrels`), never ORM
objects. Campaign and pool methods come from :class:`~clirlens.storage.campaigns.CampaignStore`.

Judging: :meth:`~JudgmentRepository.change` is the primitive (grade None clears the judgment);
:meth:`~JudgmentRepository.judge` and :meth:`~JudgmentRepository.clear` wrap it. Every change
appends a history entry; :meth:`~JudgmentRepository.revert` restores the exact state before one
entry (the undo commands of :mod:`clirlens.storage.commands` use it), and
:meth:`~JudgmentRepository.undo_last` reverts an annotator's latest change.

Usage::

    repo = JudgmentRepository.open()          # data_dir()/judgments.sqlite, migrated
    c = repo.create_campaign("th-en pilot", [run_a, run_b], queries, passages, depth=10)
    item = repo.next_item(c.name, "alice")
    repo.judge(item.id, "alice", 2, note="close, but wrong year", seconds_spent=14.2)
    qrels = repo.qrels(c.name, method="majority")
"""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from clirlens.core.errors import UserError
from clirlens.core.types import Qrels

from . import changes as ops
from .agreement import Agreement, aggregate_qrels, compute_agreement
from .campaigns import CampaignStore
from .records import (
    AnnotatorProgress,
    Change,
    HistoryEntry,
    Judgment,
    JudgmentState,
    ProgressSummary,
)
from .tables import AnnotatorRow, CampaignRow, HistoryRow, JudgmentRow, PoolItemRow, utcnow

UNCHANGED = ops.UNCHANGED
NoteArg = ops.NoteArg


class JudgmentRepository(CampaignStore):
    """Campaigns and judgments in one database (an engine from
    :func:`~clirlens.storage.db.open_database`, or :meth:`open`)."""

    def change(
        self,
        item_id: int,
        annotator: str,
        grade: int | None,
        *,
        note: NoteArg = UNCHANGED,
        seconds_spent: float | None = None,
    ) -> Change:
        """Set ``annotator``'s grade of an item (None: remove the judgment). ``note`` replaces
        the note (``""`` or None removes it; by default it is kept); ``seconds_spent`` is added
        to the time already recorded for the item."""
        if grade is not None:
            grade = ops.check_grade(grade)
        ops.check_name("annotator", annotator)
        seconds = ops.check_seconds(seconds_spent)
        if note is not UNCHANGED and note is not None and not isinstance(note, str):
            raise UserError(f"note must be text, got {note!r}")

        def work(s: Session) -> Change:
            item = ops.lock_item(s, item_id)
            a_id = ops.annotator_id(s, annotator, create=True)
            assert a_id is not None
            row = ops.judgment_row(s, a_id, item_id)
            old = ops.state_of(row)
            now = utcnow()
            new = None
            if grade is not None:
                kept = old.note if old is not None else None
                new_note = kept if isinstance(note, ops.Unchanged) else (note or None)
                old_seconds = old.seconds_spent if old is not None else None
                total = old_seconds if seconds is None else (old_seconds or 0.0) + seconds
                created = old.created_at if old is not None else now
                new = JudgmentState(grade, new_note, total, created, now)
            elif row is None:
                raise UserError(f"{annotator} has not judged item {item_id}: nothing to clear")
            kind = "judge" if grade is not None else "clear"
            return ops.apply_change(s, item, (a_id, annotator), row, new, kind, now=now)

        return self._run(work)

    def judge(
        self,
        item_id: int,
        annotator: str,
        grade: int,
        *,
        note: NoteArg = UNCHANGED,
        seconds_spent: float | None = None,
    ) -> Judgment:
        """Judge or re-judge an item (see :meth:`change`)."""
        grade = ops.check_grade(grade)  # None is not a grade here: clear() removes judgments
        change = self.change(item_id, annotator, grade, note=note, seconds_spent=seconds_spent)
        assert change.judgment is not None
        return change.judgment

    def clear(self, item_id: int, annotator: str) -> Change:
        """Remove ``annotator``'s judgment of an item (it becomes unjudged again)."""
        return self.change(item_id, annotator, None)

    def revert(self, entry_id: int) -> Change:
        """Restore the exact state from before history entry ``entry_id`` (grade, note, time,
        timestamps, or no judgment at all), provided the judgment has not changed since."""

        def work(s: Session) -> Change:
            h = s.get(HistoryRow, entry_id)
            if h is None:
                raise UserError(f"no judgment history entry {entry_id!r}")
            return self._revert(s, h)

        return self._run(work)

    def _revert(self, s: Session, h: HistoryRow) -> Change:
        item = ops.lock_item(s, h.item_id)
        if h.action == "undo":
            raise UserError(f"history entry {h.id} is itself an undo; judge again to redo")
        if s.scalar(select(HistoryRow.id).where(HistoryRow.reverts_id == h.id).limit(1)):
            raise UserError(f"history entry {h.id} has already been undone")
        row = ops.judgment_row(s, h.annotator_id, h.item_id)
        if ops.state_of(row) != ops.history_state(h, "new"):
            raise UserError(
                f"item {h.item_id} was judged again after history entry {h.id}; not undone"
            )
        name = s.get_one(AnnotatorRow, h.annotator_id).name
        old = ops.history_state(h, "old")
        return ops.apply_change(s, item, (h.annotator_id, name), row, old, "undo", reverts_id=h.id)

    def undo_last(self, campaign: str, annotator: str) -> Change | None:
        """Revert ``annotator``'s latest change in ``campaign`` that is not yet undone (repeat
        to go further back); None when there is nothing left to undo."""

        def work(s: Session) -> Change | None:
            c = ops.campaign_row(s, campaign)
            a_id = ops.annotator_id(s, annotator, create=False)
            if a_id is None:
                return None
            undo = aliased(HistoryRow)
            stmt = (
                select(HistoryRow)
                .join(PoolItemRow, PoolItemRow.id == HistoryRow.item_id)
                .where(
                    HistoryRow.annotator_id == a_id,
                    PoolItemRow.campaign_id == c.id,
                    HistoryRow.action != "undo",
                    ~exists().where(undo.reverts_id == HistoryRow.id),
                )
                .order_by(HistoryRow.id.desc())
                .limit(1)
            )
            h = s.scalars(stmt).first()
            return None if h is None else self._revert(s, h)

        return self._run(work)

    # ---- reading judgments -----------------------------------------------------------------

    def _judgment_rows(self, s: Session, campaign: str, annotator: str | None):  # type: ignore[no-untyped-def]
        c = ops.campaign_row(s, campaign)
        stmt = (
            select(JudgmentRow, AnnotatorRow.name, PoolItemRow)
            .join(AnnotatorRow, AnnotatorRow.id == JudgmentRow.annotator_id)
            .join(PoolItemRow, PoolItemRow.id == JudgmentRow.item_id)
            .where(PoolItemRow.campaign_id == c.id)
            .order_by(PoolItemRow.position, AnnotatorRow.name)
        )
        if annotator is not None:
            stmt = stmt.where(AnnotatorRow.name == annotator)
        return c, s.execute(stmt).all()

    def judgments(self, campaign: str, annotator: str | None = None) -> tuple[Judgment, ...]:
        """Judgments in pool order (then by annotator), of everyone or of ``annotator``."""

        def work(s: Session) -> tuple[Judgment, ...]:
            c, rows = self._judgment_rows(s, campaign, annotator)
            return tuple(ops.judgment_record(j, c.name, name, item) for j, name, item in rows)

        return self._run(work, write=False)

    def judgment(self, item_id: int, annotator: str) -> Judgment | None:
        def work(s: Session) -> Judgment | None:
            item = s.get(PoolItemRow, item_id)
            if item is None:
                raise UserError(f"no pooled item with id {item_id!r}")
            row = ops.judgment_row(s, ops.annotator_id(s, annotator, create=False), item_id)
            if row is None:
                return None
            campaign = s.get_one(CampaignRow, item.campaign_id).name
            return ops.judgment_record(row, campaign, annotator, item)

        return self._run(work, write=False)

    def history(self, campaign: str, annotator: str | None = None) -> tuple[HistoryEntry, ...]:
        """Every recorded change in the campaign, oldest first."""

        def work(s: Session) -> tuple[HistoryEntry, ...]:
            c = ops.campaign_row(s, campaign)
            stmt = (
                select(HistoryRow, AnnotatorRow.name)
                .join(AnnotatorRow, AnnotatorRow.id == HistoryRow.annotator_id)
                .join(PoolItemRow, PoolItemRow.id == HistoryRow.item_id)
                .where(PoolItemRow.campaign_id == c.id)
                .order_by(HistoryRow.id)
            )
            if annotator is not None:
                stmt = stmt.where(AnnotatorRow.name == annotator)
            return tuple(ops.history_record(h, name) for h, name in s.execute(stmt))

        return self._run(work, write=False)

    def progress(self, campaign: str, annotator: str | None = None) -> ProgressSummary:
        """How far each annotator (and ``annotator``, even before their first judgment) got."""

        def work(s: Session) -> ProgressSummary:
            c = ops.campaign_row(s, campaign)
            total = ops.campaign_size(s, c.id)
            stmt = (
                select(
                    AnnotatorRow.name,
                    JudgmentRow.grade,
                    func.count(),
                    func.coalesce(func.sum(JudgmentRow.seconds_spent), 0.0),
                )
                .join(AnnotatorRow, AnnotatorRow.id == JudgmentRow.annotator_id)
                .join(PoolItemRow, PoolItemRow.id == JudgmentRow.item_id)
                .where(PoolItemRow.campaign_id == c.id)
                .group_by(AnnotatorRow.name, JudgmentRow.grade)
            )
            grades: dict[str, list[int]] = {}
            seconds: dict[str, float] = {}
            for name, grade, count, secs in s.execute(stmt):
                grades.setdefault(name, [0, 0, 0, 0])[grade] = count
                seconds[name] = seconds.get(name, 0.0) + float(secs)
            if annotator is not None:
                grades.setdefault(annotator, [0, 0, 0, 0])
            per_item = (
                select(func.count(func.distinct(JudgmentRow.annotator_id)).label("n"))
                .join(PoolItemRow, PoolItemRow.id == JudgmentRow.item_id)
                .where(PoolItemRow.campaign_id == c.id)
                .group_by(JudgmentRow.item_id)
                .subquery()
            )
            n_judging = sum(1 for g in grades.values() if sum(g))
            any_count = s.scalar(select(func.count()).select_from(per_item)) or 0
            all_count = (
                s.scalar(
                    select(func.count()).select_from(per_item).where(per_item.c.n >= n_judging)
                )
                if n_judging
                else 0
            )
            return ProgressSummary(
                c.name,
                total,
                any_count,
                all_count or 0,
                tuple(
                    AnnotatorProgress(name, sum(g), total, tuple(g), seconds.get(name, 0.0))  # type: ignore[arg-type]
                    for name, g in sorted(grades.items())
                ),
            )

        return self._run(work, write=False)

    # ---- evaluation --------------------------------------------------------------------------

    def qrels(
        self,
        campaign: str,
        *,
        annotator: str | None = None,
        method: str = "majority",
        threshold: float = 2.0,
    ) -> Qrels:
        """Qrels for evaluation: ``annotator``'s grades, or everyone's aggregated by ``method``
        (``"majority"`` or ``"mean"`` with ``threshold``; see :mod:`.agreement`)."""

        def work(s: Session) -> Qrels:
            c, rows = self._judgment_rows(s, campaign, annotator)
            if annotator is not None and not rows:
                raise UserError(
                    f"annotator {annotator!r} has no judgments in campaign {campaign!r}"
                )
            judgments = [ops.judgment_record(j, c.name, name, item) for j, name, item in rows]
            return aggregate_qrels(
                judgments, annotator=annotator, method=method, threshold=threshold
            )

        return self._run(work, write=False)

    def annotators(self, campaign: str | None = None) -> tuple[str, ...]:
        """Annotators with judgments in ``campaign`` (all annotators when None), by name."""

        def work(s: Session) -> tuple[str, ...]:
            stmt = select(AnnotatorRow.name).order_by(AnnotatorRow.name)
            if campaign is not None:
                c = ops.campaign_row(s, campaign)
                stmt = stmt.where(
                    exists()
                    .where(JudgmentRow.annotator_id == AnnotatorRow.id)
                    .where(JudgmentRow.item_id == PoolItemRow.id)
                    .where(PoolItemRow.campaign_id == c.id)
                )
            return tuple(s.scalars(stmt))

        return self._run(work, write=False)

    def agreement(self, campaign: str, *, weights: str = "quadratic") -> Agreement:
        """Weighted Cohen's kappa per pair and Krippendorff's ordinal alpha (:mod:`.agreement`)."""
        return compute_agreement(campaign, self.judgments(campaign), weights)
