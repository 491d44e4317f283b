"""suggestion decisions, undoable audit events, list indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:28:48.642248
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suggestiondecision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("span_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["layer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["span_id"], ["span.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["suggestion_id"], ["suggestion.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("layer_id", "suggestion_id", name="uq_decision_layer_suggestion"),
    )
    with op.batch_alter_table("suggestiondecision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suggestiondecision_layer_id"), ["layer_id"], unique=False)

    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.create_index("ix_auditevent_layer_state", ["layer_id", "state"], unique=False)

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_lang"))
        batch_op.create_index("ix_document_id_order", ["id"], unique=False)
        batch_op.create_index("ix_document_lang_id", ["lang", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index("ix_document_lang_id")
        batch_op.drop_index("ix_document_id_order")
        batch_op.create_index(batch_op.f("ix_document_lang"), ["lang"], unique=False)

    with op.batch_alter_table("auditevent", schema=None) as batch_op:
        batch_op.drop_index("ix_auditevent_layer_state")
        batch_op.drop_column("state")
        batch_op.drop_column("changes")

    with op.batch_alter_table("suggestiondecision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestiondecision_layer_id"))

    op.drop_table("suggestiondecision")
