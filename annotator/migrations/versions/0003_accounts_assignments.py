"""accounts and assignments

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:37:10.394594
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loginfailure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("loginfailure", schema=None) as batch_op:
        batch_op.create_index("ix_loginfailure_address_at", ["address", "at"], unique=False)
        batch_op.create_index("ix_loginfailure_name_at", ["name", "at"], unique=False)

    with op.batch_alter_table("layer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("assigned_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_login_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")

    with op.batch_alter_table("layer", schema=None) as batch_op:
        batch_op.drop_column("position")
        batch_op.drop_column("assigned_by")
        batch_op.drop_column("assigned_at")

    with op.batch_alter_table("loginfailure", schema=None) as batch_op:
        batch_op.drop_index("ix_loginfailure_name_at")
        batch_op.drop_index("ix_loginfailure_address_at")

    op.drop_table("loginfailure")
