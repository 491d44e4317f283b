"""token array seals bind the text length: arrays sealed before are made again

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 01:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Kept arrays are derived data: an export makes any that are missing before it reads
    # (token_arrays.fill_token_arrays), now under the new seal; until then none is used.
    op.execute("DELETE FROM tokenarray")


def downgrade() -> None:
    # the older seal is not this one either: the older code makes its arrays again
    op.execute("DELETE FROM tokenarray")
