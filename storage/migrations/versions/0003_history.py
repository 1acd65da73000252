"""append-only judgment history (audit and undo), backfilled from existing judgments

Revision ID: 0003
Revises: 0002
Create Date: 2025-11-24

Every existing judgment gets one ``judge`` entry (from nothing to its current state, at its
``updated_at``), so the history explains every judgment in the database. UPDATE and DELETE on
the history are refused by triggers on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
MESSAGE = "judgment_history is append-only"


def upgrade() -> None:
    op.create_table(
        "judgment_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("old_grade", sa.Integer(), nullable=True),
        sa.Column("old_note", sa.Text(), nullable=True),
        sa.Column("old_seconds", sa.Float(), nullable=True),
        sa.Column("old_created_at", TS, nullable=True),
        sa.Column("old_updated_at", TS, nullable=True),
        sa.Column("new_grade", sa.Integer(), nullable=True),
        sa.Column("new_note", sa.Text(), nullable=True),
        sa.Column("new_seconds", sa.Float(), nullable=True),
        sa.Column("new_created_at", TS, nullable=True),
        sa.Column("new_updated_at", TS, nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("reverts_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("old_grade BETWEEN 0 AND 3", name="ck_judgment_history_old_grade_range"),
        sa.CheckConstraint("new_grade BETWEEN 0 AND 3", name="ck_judgment_history_new_grade_range"),
        sa.ForeignKeyConstraint(
            ["annotator_id"],
            ["annotators.id"],
            name="fk_judgment_history_annotator_id_annotators",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["pool_items.id"], name="fk_judgment_history_item_id_pool_items"
        ),
        sa.ForeignKeyConstraint(
            ["reverts_id"],
            ["judgment_history.id"],
            name="fk_judgment_history_reverts_id_judgment_history",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_judgment_history"),
    )
    op.create_index(
        "ix_judgment_history_annotator_id_id", "judgment_history", ["annotator_id", "id"]
    )
    op.create_index("ix_judgment_history_item_id", "judgment_history", ["item_id"])
    op.create_index("ix_judgment_history_reverts_id", "judgment_history", ["reverts_id"])

    op.execute(
        "INSERT INTO judgment_history (annotator_id, item_id, action, new_grade, new_note,"
        " new_seconds, new_created_at, new_updated_at, at)"
        " SELECT annotator_id, item_id, 'judge', grade, note, seconds_spent, created_at,"
        " updated_at, updated_at FROM judgments ORDER BY updated_at, id"
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER judgment_history_no_{event.lower()} BEFORE {event}"
                f" ON judgment_history BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION judgment_history_append_only() RETURNS trigger"
            f" LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER judgment_history_append_only BEFORE UPDATE OR DELETE"
            " ON judgment_history FOR EACH ROW EXECUTE FUNCTION judgment_history_append_only()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS judgment_history_no_update")
        op.execute("DROP TRIGGER IF EXISTS judgment_history_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS judgment_history_append_only ON judgment_history")
        op.execute("DROP FUNCTION IF EXISTS judgment_history_append_only()")
    op.drop_index("ix_judgment_history_reverts_id", table_name="judgment_history")
    op.drop_index("ix_judgment_history_item_id", table_name="judgment_history")
    op.drop_index("ix_judgment_history_annotator_id_id", table_name="judgment_history")
    op.drop_table("judgment_history")
