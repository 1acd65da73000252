"""Session-level building blocks of the repository: lookups, the one place a judgment
changes (with its history entry), and rows → frozen records. Everything here runs inside a
transaction the repository opened; nothing here commits."""

from __future__ import annotations

import enum
import json
import math
import operator
import unicodedata
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from clirlens.core.errors import UserError
from clirlens.core.types import Query

from .records import (
    GRADES,
    Campaign,
    Change,
    HistoryEntry,
    Judgment,
    JudgmentState,
    PoolItem,
    Source,
)
from .tables import AnnotatorRow, CampaignRow, HistoryRow, JudgmentRow, PoolItemRow, utcnow

ANNOTATORS = AnnotatorRow.__table__
ITEMS = PoolItemRow.__table__
CAMPAIGNS = CampaignRow.__table__
JUDGMENTS = JudgmentRow.__table__
HISTORY = HistoryRow.__table__


class Unchanged(enum.Enum):
    """The note argument that keeps the note a judgment already has."""

    NOTE = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged.NOTE
NoteArg = str | Unchanged | None


def check_grade(grade: object) -> int:
    try:
        if isinstance(grade, bool):
            raise TypeError
        value = operator.index(grade)  # type: ignore[arg-type]
    except TypeError:
        value = None
    if value not in GRADES:
        raise UserError(
            f"grade {grade!r} is out of range: grades are whole numbers 0 (not relevant) to "
            "3 (answers the question)"
        )
    return value


def check_seconds(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    value = float(seconds)
    if not math.isfinite(value) or value < 0:
        raise UserError(f"seconds spent must be a non-negative number, got {seconds!r}")
    return value


def check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise UserError(f"{kind} name must be a non-empty string, got {name!r}")
    if name != name.strip() or any(
        (c.isspace() and c != " ") or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")
        for c in name
    ):
        raise UserError(f"{kind} name {name!r} has leading/trailing spaces or control characters")
    return name


def campaign_row(s: Session, name: str) -> CampaignRow:
    row = s.scalars(select(CampaignRow).where(CampaignRow.name == name)).one_or_none()
    if row is None:
        known = s.scalars(select(CampaignRow.name).order_by(CampaignRow.name).limit(11)).all()
        hint = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "") if known else "none"
        raise UserError(f"unknown campaign {name!r} (campaigns: {hint})")
    return row


def campaign_size(s: Session, campaign_id: int) -> int:
    stmt = select(func.count()).where(PoolItemRow.campaign_id == campaign_id)
    return s.scalar(stmt) or 0


def annotator_id(s: Session, name: str, *, create: bool) -> int | None:
    found = s.connection().execute(_ANNOTATOR_ID, {"name": name}).scalar()
    if found is not None or not create:
        return found
    values = {"name": name, "created_at": utcnow()}
    dialect = s.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        # another process may create the same annotator right now: let the database decide
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        s.execute(insert(AnnotatorRow).values(values).on_conflict_do_nothing())
    else:
        s.add(AnnotatorRow(**values))
        s.flush()
    return s.connection().execute(_ANNOTATOR_ID, {"name": name}).scalar()


class ItemRef(NamedTuple):
    id: int
    campaign: str
    query_id: str
    passage_id: str


# the hot path's statements, built once (parameters are bound at execution)
_LOCK_ITEM = (
    select(ITEMS.c.id, CAMPAIGNS.c.name, ITEMS.c.query_id, ITEMS.c.passage_id)
    .join(CAMPAIGNS, CAMPAIGNS.c.id == ITEMS.c.campaign_id)
    .where(ITEMS.c.id == bindparam("item_id"))
    .with_for_update(key_share=True, of=ITEMS)
)
_JUDGMENT = select(JUDGMENTS).where(
    JUDGMENTS.c.annotator_id == bindparam("annotator_id"),
    JUDGMENTS.c.item_id == bindparam("item_id"),
)
_ANNOTATOR_ID = select(ANNOTATORS.c.id).where(ANNOTATORS.c.name == bindparam("name"))
_INSERT_JUDGMENT = insert(JUDGMENTS)
_UPDATE_JUDGMENT = update(JUDGMENTS).where(JUDGMENTS.c.id == bindparam("judgment_id"))
_DELETE_JUDGMENT = delete(JUDGMENTS).where(JUDGMENTS.c.id == bindparam("judgment_id"))
_INSERT_HISTORY = insert(HISTORY)


def lock_item(s: Session, item_id: int) -> ItemRef:
    """The pooled item, locked against concurrent judging on PostgreSQL (``FOR NO KEY
    UPDATE``; SQLite writers are serialised by BEGIN IMMEDIATE)."""
    found = s.connection().execute(_LOCK_ITEM, {"item_id": item_id}).first()
    if found is None:
        raise UserError(f"no pooled item with id {item_id!r}")
    return ItemRef(*found)


def judgment_row(s: Session, annotator: int | None, item_id: int) -> Row | None:
    """The current judgment (a plain row: id, grade, note, seconds_spent, timestamps)."""
    if annotator is None:
        return None
    params = {"annotator_id": annotator, "item_id": item_id}
    return s.connection().execute(_JUDGMENT, params).first()


def state_of(row: Row | JudgmentRow | None) -> JudgmentState | None:
    if row is None:
        return None
    return JudgmentState(row.grade, row.note, row.seconds_spent, row.created_at, row.updated_at)


def apply_change(
    s: Session,
    item: ItemRef,
    annotator: tuple[int, str],
    row: Row | JudgmentRow | None,
    new: JudgmentState | None,
    action: str,
    *,
    reverts_id: int | None = None,
    now: datetime | None = None,
) -> Change:
    """Set one annotator's (id, name) judgment of one item to ``new`` (None: no judgment) and
    append the change to the history. ``row`` is the current judgment (already loaded). Core
    statements, not the unit of work: this is the hot path of every judge call."""
    conn = s.connection()
    a_id, a_name = annotator
    old = state_of(row)
    judgment_id = None if row is None else row.id
    if new is None:
        if row is not None:
            conn.execute(_DELETE_JUDGMENT, {"judgment_id": row.id})
            judgment_id = None
    else:
        values = {
            "grade": new.grade,
            "note": new.note,
            "seconds_spent": new.seconds_spent,
            "created_at": new.created_at,
            "updated_at": new.updated_at,
        }
        if row is None:
            params = {"annotator_id": a_id, "item_id": item.id, **values}
            judgment_id = conn.execute(_INSERT_JUDGMENT, params).inserted_primary_key[0]
        else:
            conn.execute(_UPDATE_JUDGMENT, {"judgment_id": row.id, **values})
    at = now or utcnow()
    entry_values = {
        "annotator_id": a_id,
        "item_id": item.id,
        "action": action,
        "at": at,
        "reverts_id": reverts_id,
        **_state_columns("old", old),
        **_state_columns("new", new),
    }
    entry_id = conn.execute(_INSERT_HISTORY, entry_values).inserted_primary_key[0]
    entry = HistoryEntry(entry_id, a_name, item.id, action, old, new, at, reverts_id)
    judgment = None
    if new is not None:
        assert judgment_id is not None
        judgment = Judgment(
            judgment_id,
            item.campaign,
            a_name,
            item.id,
            item.query_id,
            item.passage_id,
            new.grade,
            new.note,
            new.seconds_spent,
            new.created_at,
            new.updated_at,
        )
    return Change(entry, judgment)


def _state_columns(prefix: str, state: JudgmentState | None) -> dict[str, object]:
    if state is None:
        return {}
    return {
        f"{prefix}_grade": state.grade,
        f"{prefix}_note": state.note,
        f"{prefix}_seconds": state.seconds_spent,
        f"{prefix}_created_at": state.created_at,
        f"{prefix}_updated_at": state.updated_at,
    }


def history_state(h: HistoryRow, prefix: str) -> JudgmentState | None:
    grade = getattr(h, f"{prefix}_grade")
    if grade is None:
        return None
    return JudgmentState(
        grade,
        getattr(h, f"{prefix}_note"),
        getattr(h, f"{prefix}_seconds"),
        getattr(h, f"{prefix}_created_at"),
        getattr(h, f"{prefix}_updated_at"),
    )


# ---- rows -> records ---------------------------------------------------------------------


def campaign_record(row: CampaignRow, size: int) -> Campaign:
    return Campaign(
        id=row.id,
        name=row.name,
        dataset=row.dataset,
        directions=tuple(json.loads(row.directions)),
        models=tuple(json.loads(row.models)),
        depth=row.pool_depth,
        blind=row.blind,
        seed=row.shuffle_seed,
        created_at=row.created_at,
        size=size,
    )


def item_record(
    row: PoolItemRow, campaign: str, sources: tuple[Source, ...], blinded: bool
) -> PoolItem:
    return PoolItem(
        id=row.id,
        campaign=campaign,
        position=row.position,
        query=Query(row.query_id, row.query_text, row.query_lang),
        passage_id=row.passage_id,
        passage_lang=row.passage_lang,
        passage_hash=row.passage_hash,
        sources=() if blinded else sources,
        blinded=blinded,
    )


def judgment_record(row: JudgmentRow, campaign: str, annotator: str, item: PoolItemRow) -> Judgment:
    return Judgment(
        id=row.id,
        campaign=campaign,
        annotator=annotator,
        item_id=row.item_id,
        query_id=item.query_id,
        passage_id=item.passage_id,
        grade=row.grade,
        note=row.note,
        seconds_spent=row.seconds_spent,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def history_record(h: HistoryRow, annotator: str) -> HistoryEntry:
    return HistoryEntry(
        id=h.id,
        annotator=annotator,
        item_id=h.item_id,
        action=h.action,
        old=history_state(h, "old"),
        new=history_state(h, "new"),
        at=h.at,
        reverts_id=h.reverts_id,
    )
