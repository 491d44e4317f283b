"""a user's session generation: logout, a new password, deactivation or a role change end every session

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 15:10:00.000000

A session cookie names the generation it was issued under (Flask-Login's alternative id,
"<user id>:<generation>"); bumping the number refuses every older cookie, copies included.
Existing users start at 0.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
