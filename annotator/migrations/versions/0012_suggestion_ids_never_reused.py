"""suggestion ids are never reused

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:20:00.000000

Re-suggesting deletes the suggestions nobody answered and inserts new ones. SQLite, without
AUTOINCREMENT, hands a deleted highest id to the next row, so a workspace page opened before
the re-suggest could accept or reject, by its old id, a different suggestion. The three
suggestion tables are rebuilt with AUTOINCREMENT, which never hands out an id twice.
PostgreSQL's sequences never did, so nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("suggestion", "claimsuggestion", "relationsuggestion")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        kwargs = {"sqlite_autoincrement": autoincrement}
        with op.batch_alter_table(table, recreate="always", table_kwargs=kwargs):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
