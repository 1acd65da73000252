"""ORM models of the judgments database (SQLAlchemy 2.0 declarative, ``Mapped[]``).

These classes never leave ``clirlens.storage``: the repository turns rows into the frozen
records of :mod:`clirlens.storage.records`. Every schema change needs an Alembic revision in
``migrations/versions/``; a test checks that these models and the migrated schema agree, so
the two cannot drift apart.

Tables: ``annotators``, ``campaigns``, ``pool_items`` (one per campaign, query and passage),
``pool_sources`` (which models surfaced an item at which rank), ``judgments`` (one per annotator
and item, grade 0–3 checked by the schema) and ``judgment_history`` (append-only: every change,
for audit and undo; triggers refuse UPDATE and DELETE on SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so batch migrations on SQLite (which recreate tables) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is stored as naive
    UTC and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AnnotatorRow(Base):
    __tablename__ = "annotators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    dataset: Mapped[str] = mapped_column(String)
    directions: Mapped[str] = mapped_column(Text)  # JSON list of "xx-yy"
    models: Mapped[str] = mapped_column(Text)  # JSON list of run names
    pool_depth: Mapped[int] = mapped_column(Integer)
    blind: Mapped[bool]
    shuffle_seed: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PoolItemRow(Base):
    __tablename__ = "pool_items"
    __table_args__ = (
        UniqueConstraint("campaign_id", "query_id", "passage_id"),
        UniqueConstraint("campaign_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    position: Mapped[int] = mapped_column(Integer)
    query_id: Mapped[str] = mapped_column(String)
    query_text: Mapped[str] = mapped_column(Text)
    query_lang: Mapped[str] = mapped_column(String)
    passage_id: Mapped[str] = mapped_column(String)
    passage_hash: Mapped[str] = mapped_column(String(64))
    passage_lang: Mapped[str] = mapped_column(String)


class PoolSourceRow(Base):
    __tablename__ = "pool_sources"

    item_id: Mapped[int] = mapped_column(ForeignKey("pool_items.id"), primary_key=True)
    model: Mapped[str] = mapped_column(String, primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)


class JudgmentRow(Base):
    __tablename__ = "judgments"
    __table_args__ = (
        UniqueConstraint("annotator_id", "item_id"),
        CheckConstraint("grade BETWEEN 0 AND 3", name="grade_range"),
        Index(None, "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("pool_items.id"))
    grade: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)  # revision 0002
    seconds_spent: Mapped[float | None] = mapped_column(Float)  # revision 0002
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HistoryRow(Base):
    """Append-only log of judgment changes (revision 0003)."""

    __tablename__ = "judgment_history"
    __table_args__ = (
        CheckConstraint("old_grade BETWEEN 0 AND 3", name="old_grade_range"),
        CheckConstraint("new_grade BETWEEN 0 AND 3", name="new_grade_range"),
        Index(None, "annotator_id", "id"),
        Index(None, "item_id"),
        Index(None, "reverts_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("pool_items.id"))
    action: Mapped[str] = mapped_column(String(16))
    old_grade: Mapped[int | None] = mapped_column(Integer)
    old_note: Mapped[str | None] = mapped_column(Text)
    old_seconds: Mapped[float | None] = mapped_column(Float)
    old_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    old_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_grade: Mapped[int | None] = mapped_column(Integer)
    new_note: Mapped[str | None] = mapped_column(Text)
    new_seconds: Mapped[float | None] = mapped_column(Float)
    new_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("judgment_history.id"))
