"""initial schema: annotators, campaigns, pooled items and their sources, judgments

Revision ID: 0001
Revises:
Create Date: 2025-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "annotators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_annotators"),
        sa.UniqueConstraint("name", name="uq_annotators_name"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("dataset", sa.String(), nullable=False),
        sa.Column("directions", sa.Text(), nullable=False),
        sa.Column("models", sa.Text(), nullable=False),
        sa.Column("pool_depth", sa.Integer(), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("shuffle_seed", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sa.UniqueConstraint("name", name="uq_campaigns_name"),
    )
    op.create_table(
        "pool_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.String(), nullable=False),
        sa.Column("query_text", sa.Text(), nullable=False),
        sa.Column("query_lang", sa.String(), nullable=False),
        sa.Column("passage_id", sa.String(), nullable=False),
        sa.Column("passage_hash", sa.String(length=64), nullable=False),
        sa.Column("passage_lang", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name="fk_pool_items_campaign_id_campaigns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pool_items"),
        sa.UniqueConstraint("campaign_id", "position", name="uq_pool_items_campaign_id_position"),
        sa.UniqueConstraint(
            "campaign_id",
            "query_id",
            "passage_id",
            name="uq_pool_items_campaign_id_query_id_passage_id",
        ),
    )
    op.create_table(
        "pool_sources",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["pool_items.id"], name="fk_pool_sources_item_id_pool_items"
        ),
        sa.PrimaryKeyConstraint("item_id", "model", name="pk_pool_sources"),
    )
    op.create_table(
        "judgments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("annotator_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("grade BETWEEN 0 AND 3", name="ck_judgments_grade_range"),
        sa.ForeignKeyConstraint(
            ["annotator_id"], ["annotators.id"], name="fk_judgments_annotator_id_annotators"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["pool_items.id"], name="fk_judgments_item_id_pool_items"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_judgments"),
        sa.UniqueConstraint("annotator_id", "item_id", name="uq_judgments_annotator_id_item_id"),
    )
    op.create_index("ix_judgments_item_id", "judgments", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_judgments_item_id", table_name="judgments")
    op.drop_table("judgments")
    op.drop_table("pool_sources")
    op.drop_table("pool_items")
    op.drop_table("campaigns")
    op.drop_table("annotators")
