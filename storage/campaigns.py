"""Campaigns and their pools: create (from runs, or from imported qrels), list, browse the
pooled items, find the next item an annotator has not judged, import judgments."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clirlens.core.data.trec import QrelsError, QrelsLine
from clirlens.core.errors import UserError
from clirlens.core.types import Passage, Query, Run

from . import changes as ops
from .pool import as_mapping, build_pool
from .records import Campaign, ImportSummary, JudgmentState, PoolItem, Source
from .tables import AnnotatorRow, CampaignRow, JudgmentRow, PoolItemRow, PoolSourceRow, utcnow
from .transactions import RepositoryBase


class CampaignStore(RepositoryBase):
    """The campaign half of :class:`~clirlens.storage.repository.JudgmentRepository`."""

    def create_campaign(
        self,
        name: str,
        runs: Sequence[Run],
        queries: Mapping[str, Query] | Iterable[Query],
        passages: Mapping[str, Passage] | Iterable[Passage],
        *,
        depth: int = 10,
        blind: bool = True,
        seed: int = 0,
        dataset: str = "",
        directions: Sequence[str] = (),
    ) -> Campaign:
        """Pool the top ``depth`` of every run for each of ``queries`` (see
        :mod:`clirlens.storage.pool`) into a new campaign."""
        ops.check_name("campaign", name)
        query_list = list(as_mapping(queries).values())
        pool = build_pool(runs, query_list, as_mapping(passages), depth, seed)
        if not pool:
            raise UserError(f"campaign {name!r} would be empty: the runs rank none of the queries")

        def work(s: Session) -> Campaign:
            if s.scalar(select(CampaignRow.id).where(CampaignRow.name == name)) is not None:
                raise UserError(f"campaign {name!r} already exists; choose another name")
            row = CampaignRow(
                name=name,
                dataset=dataset,
                directions=json.dumps(list(directions)),
                models=json.dumps([r.name for r in runs]),
                pool_depth=depth,
                blind=blind,
                shuffle_seed=seed,
                created_at=utcnow(),
            )
            s.add(row)
            s.flush()
            items = [
                {
                    "campaign_id": row.id,
                    "position": i,
                    "query_id": e.query.id,
                    "query_text": e.query.text,
                    "query_lang": e.query.lang,
                    "passage_id": e.passage_id,
                    "passage_hash": e.passage_hash,
                    "passage_lang": e.passage_lang,
                }
                for i, e in enumerate(pool)
            ]
            s.execute(PoolItemRow.__table__.insert(), items)
            ids = dict(
                s.execute(
                    select(PoolItemRow.position, PoolItemRow.id).where(
                        PoolItemRow.campaign_id == row.id
                    )
                ).all()
            )
            sources = [
                {"item_id": ids[i], "model": src.model, "rank": src.rank}
                for i, e in enumerate(pool)
                for src in e.sources
            ]
            s.execute(PoolSourceRow.__table__.insert(), sources)
            return ops.campaign_record(row, len(pool))

        try:
            return self._run(work)
        except IntegrityError:  # another process created it between our check and insert
            raise UserError(f"campaign {name!r} already exists; choose another name") from None

    def campaign(self, name: str) -> Campaign:
        def work(s: Session) -> Campaign:
            row = ops.campaign_row(s, name)
            return ops.campaign_record(row, ops.campaign_size(s, row.id))

        return self._run(work, write=False)

    def campaigns(self) -> tuple[Campaign, ...]:
        def work(s: Session) -> tuple[Campaign, ...]:
            sizes = dict(
                s.execute(
                    select(PoolItemRow.campaign_id, func.count()).group_by(PoolItemRow.campaign_id)
                ).all()
            )
            rows = s.scalars(select(CampaignRow).order_by(CampaignRow.name)).all()
            return tuple(ops.campaign_record(r, sizes.get(r.id, 0)) for r in rows)

        return self._run(work, write=False)

    # ---- pooled items ----------------------------------------------------------------------

    def _items(
        self, s: Session, campaign: CampaignRow, rows: Sequence[PoolItemRow], annotator: str | None
    ) -> tuple[PoolItem, ...]:
        ids = [r.id for r in rows]
        sources: dict[int, list[Source]] = {i: [] for i in ids}
        judged: set[int] = set()
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            stmt = (
                select(PoolSourceRow)
                .where(PoolSourceRow.item_id.in_(chunk))
                .order_by(PoolSourceRow.rank, PoolSourceRow.model)
            )
            for src in s.scalars(stmt):
                sources[src.item_id].append(Source(src.model, src.rank))
            if campaign.blind and annotator is not None:
                judged.update(
                    s.scalars(
                        select(JudgmentRow.item_id)
                        .join(AnnotatorRow, AnnotatorRow.id == JudgmentRow.annotator_id)
                        .where(AnnotatorRow.name == annotator, JudgmentRow.item_id.in_(chunk))
                    )
                )
        return tuple(
            ops.item_record(
                r, campaign.name, tuple(sources[r.id]), campaign.blind and r.id not in judged
            )
            for r in rows
        )

    def items(self, campaign: str, annotator: str | None = None) -> tuple[PoolItem, ...]:
        """The campaign's pool in presentation order. In a blind campaign, sources are shown
        only for items ``annotator`` has judged (none when no annotator is given)."""

        def work(s: Session) -> tuple[PoolItem, ...]:
            c = ops.campaign_row(s, campaign)
            stmt = select(PoolItemRow).where(PoolItemRow.campaign_id == c.id)
            return self._items(
                s, c, s.scalars(stmt.order_by(PoolItemRow.position)).all(), annotator
            )

        return self._run(work, write=False)

    def item(self, item_id: int, annotator: str | None = None) -> PoolItem:
        def work(s: Session) -> PoolItem:
            row = s.get(PoolItemRow, item_id)
            if row is None:
                raise UserError(f"no pooled item with id {item_id!r}")
            return self._items(s, s.get_one(CampaignRow, row.campaign_id), [row], annotator)[0]

        return self._run(work, write=False)

    def next_item(
        self, campaign: str, annotator: str, *, after: int | None = None
    ) -> PoolItem | None:
        """The first item (after position ``after``, if given) that ``annotator`` has not
        judged; None when they have judged them all."""

        def work(s: Session) -> PoolItem | None:
            c = ops.campaign_row(s, campaign)
            a_id = ops.annotator_id(s, annotator, create=False)
            stmt = select(PoolItemRow).where(PoolItemRow.campaign_id == c.id)
            if a_id is not None:
                stmt = stmt.where(
                    ~exists().where(
                        JudgmentRow.item_id == PoolItemRow.id, JudgmentRow.annotator_id == a_id
                    )
                )
            if after is not None:
                stmt = stmt.where(PoolItemRow.position > after)
            row = s.scalars(stmt.order_by(PoolItemRow.position).limit(1)).first()
            return None if row is None else self._items(s, c, [row], annotator)[0]

        return self._run(work, write=False)

    def import_judgments(
        self,
        campaign: str,
        annotator: str,
        lines: Sequence[QrelsLine],
        *,
        source: str = "<qrels>",
        dataset: str = "",
    ) -> ImportSummary:
        """Record parsed qrels lines as ``annotator``'s judgments, all or nothing. A missing
        campaign is created with the lines' pairs as its pool (no query text, not blind); in an
        existing one every pair must be in the pool, else :class:`QrelsError` names the lines."""
        ops.check_name("campaign", campaign)
        ops.check_name("annotator", annotator)

        def work(s: Session) -> ImportSummary:
            c = s.scalars(select(CampaignRow).where(CampaignRow.name == campaign)).one_or_none()
            created = c is None
            if c is None:
                c = self._campaign_from_pairs(s, campaign, lines, dataset)
            pool = {
                (qid, pid): ops.ItemRef(iid, campaign, qid, pid)
                for iid, qid, pid in s.execute(
                    select(PoolItemRow.id, PoolItemRow.query_id, PoolItemRow.passage_id).where(
                        PoolItemRow.campaign_id == c.id
                    )
                )
            }
            missing = [
                (
                    ln.line,
                    f"query {ln.query_id} passage {ln.passage_id} is not in the pool of "
                    f"campaign {campaign!r}",
                )
                for ln in lines
                if (ln.query_id, ln.passage_id) not in pool
            ]
            if missing:
                raise QrelsError(source, missing, "nothing imported")
            a_id = ops.annotator_id(s, annotator, create=True)
            assert a_id is not None
            current = {
                r.item_id: r
                for r in s.scalars(
                    select(JudgmentRow)
                    .join(PoolItemRow, PoolItemRow.id == JudgmentRow.item_id)
                    .where(JudgmentRow.annotator_id == a_id, PoolItemRow.campaign_id == c.id)
                )
            }
            added = changed = unchanged = 0
            now = utcnow()
            for ln in lines:
                item = pool[(ln.query_id, ln.passage_id)]
                row = current.get(item.id)
                if row is not None and row.grade == ln.grade:
                    unchanged += 1
                    continue
                old = ops.state_of(row)
                if old is None:
                    new = JudgmentState(ln.grade, None, None, now, now)
                    added += 1
                else:
                    new = JudgmentState(ln.grade, old.note, old.seconds_spent, old.created_at, now)
                    changed += 1
                ops.apply_change(s, item, (a_id, annotator), row, new, "import", now=now)
            return ImportSummary(campaign, annotator, created, added, changed, unchanged)

        try:
            return self._run(work)
        except IntegrityError:  # another process created the campaign at the same moment
            return self._run(work)  # now it exists: import into it

    def _campaign_from_pairs(
        self, s: Session, name: str, lines: Sequence[QrelsLine], dataset: str
    ) -> CampaignRow:
        row = CampaignRow(
            name=name,
            dataset=dataset,
            directions="[]",
            models="[]",
            pool_depth=0,
            blind=False,
            shuffle_seed=0,
            created_at=utcnow(),
        )
        s.add(row)
        s.flush()
        items = [
            {
                "campaign_id": row.id,
                "position": i,
                "query_id": ln.query_id,
                "query_text": "",
                "query_lang": "",
                "passage_id": ln.passage_id,
                "passage_hash": "",
                "passage_lang": "",
            }
            for i, ln in enumerate(lines)
        ]
        s.execute(PoolItemRow.__table__.insert(), items)
        return row
