"""suggested claims and relations, a layer's answers to them, and trained model versions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 17:10:00.000000

Pre-highlighting now suggests whole claims (a quantity suggestion with its entity, property
and condition suggestions) and relations between suggestions; like span suggestions they are
machine output, answered per layer in linkdecision. modelversion keeps every model
`annotator train` made, with its metrics; one may be active. document.uncertainty is how
unsure that model was about a document, for handing out the least sure first.
gazetteername keeps the names people added to the gazetteer from the workspace.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString


def _provenance() -> list[sa.Column]:
    return [
        sa.Column("origin", String(length=16), nullable=False),
        sa.Column("pipeline", String(length=200), nullable=True),
        sa.Column("pipeline_version", String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uncertainty", sa.Float(), nullable=True))
    op.create_table(
        "claimsuggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("quantity_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("property_id", sa.Integer(), nullable=True),
        sa.Column("condition_id", sa.Integer(), nullable=True),
        sa.Column("modifiers", sa.JSON(), nullable=False),
        *_provenance(),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["quantity_id"], ["suggestion.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["entity_id"], ["suggestion.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["property_id"], ["suggestion.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["condition_id"], ["suggestion.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_claimsuggestion_document_id", "claimsuggestion", ["document_id"])
    op.create_index("ix_claimsuggestion_quantity_id", "claimsuggestion", ["quantity_id"])
    op.create_table(
        "relationsuggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("head_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("label", String(length=64), nullable=False),
        *_provenance(),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["head_id"], ["suggestion.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["child_id"], ["suggestion.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_relationsuggestion_document_id", "relationsuggestion", ["document_id"])
    op.create_index("ix_relationsuggestion_head_id", "relationsuggestion", ["head_id"])
    op.create_table(
        "linkdecision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("claim_suggestion_id", sa.Integer(), nullable=True),
        sa.Column("relation_suggestion_id", sa.Integer(), nullable=True),
        sa.Column("decision", String(length=16), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("relation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["layer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["claim_suggestion_id"], ["claimsuggestion.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["relation_suggestion_id"], ["relationsuggestion.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["relation_id"], ["relation.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("layer_id", "claim_suggestion_id", name="uq_linkdecision_layer_claim"),
        sa.UniqueConstraint("layer_id", "relation_suggestion_id", name="uq_linkdecision_layer_relation"),
    )
    op.create_index("ix_linkdecision_layer_id", "linkdecision", ["layer_id"])
    op.create_table(
        "gazetteername",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", String(length=64), nullable=False),
        sa.Column("text", String(length=200), nullable=False),
        sa.Column("added_by", String(length=64), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("label", "text", name="uq_gazetteername_label_text"),
    )
    op.create_table(
        "modelversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", String(length=100), nullable=False),
        sa.Column("version", String(length=64), nullable=False),
        sa.Column("path", String(length=1000), nullable=False),
        sa.Column("lang", String(length=16), nullable=False),
        sa.Column("layer", String(length=64), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_modelversion_name_version"),
    )


def downgrade() -> None:
    op.drop_table("modelversion")
    op.drop_table("gazetteername")
    op.drop_index("ix_linkdecision_layer_id", table_name="linkdecision")
    op.drop_table("linkdecision")
    op.drop_index("ix_relationsuggestion_head_id", table_name="relationsuggestion")
    op.drop_index("ix_relationsuggestion_document_id", table_name="relationsuggestion")
    op.drop_table("relationsuggestion")
    op.drop_index("ix_claimsuggestion_quantity_id", table_name="claimsuggestion")
    op.drop_index("ix_claimsuggestion_document_id", table_name="claimsuggestion")
    op.drop_table("claimsuggestion")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("uncertainty")
