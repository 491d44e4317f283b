"""document counts kept by the database

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:40:00.000000

How many documents the project holds, per language and archived or not, kept in
`documentcount` by triggers on `document`, so the workspace's "done of N", the list's total
and its language filter read a few rows instead of counting the corpus (at 100,000
documents a count took 30-60 ms on PostgreSQL, and grew with the corpus). SQLite's triggers
run per row; PostgreSQL's per statement, over the rows the statement changed (transition
tables), so a bulk insert updates each count once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "documentcount"
FILL = (
    f"INSERT INTO {TABLE} (lang, archived, n) "
    "SELECT lang, archived_at IS NOT NULL, count(*) FROM document GROUP BY lang, archived_at IS NOT NULL"
)


def _sqlite_add(row: str) -> str:
    return (
        f"INSERT INTO {TABLE} (lang, archived, n) VALUES ({row}.lang, {row}.archived_at IS NOT NULL, 1) "
        "ON CONFLICT (lang, archived) DO UPDATE SET n = n + 1"
    )


def _sqlite_remove(row: str) -> str:
    return f"UPDATE {TABLE} SET n = n - 1 WHERE lang = {row}.lang AND archived = ({row}.archived_at IS NOT NULL)"


SQLITE_UP = [
    f"CREATE TRIGGER {TABLE}_ai AFTER INSERT ON document BEGIN {_sqlite_add('new')}; END",
    f"CREATE TRIGGER {TABLE}_ad AFTER DELETE ON document BEGIN {_sqlite_remove('old')}; END",
    f"CREATE TRIGGER {TABLE}_au AFTER UPDATE OF lang, archived_at ON document "
    f"WHEN old.lang IS NOT new.lang OR (old.archived_at IS NULL) <> (new.archived_at IS NULL) "
    f"BEGIN {_sqlite_remove('old')}; {_sqlite_add('new')}; END",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_{t}" for t in ("ai", "ad", "au")]

# One function for the three statement triggers: the rows that left a count (old rows)
# are taken off it, those that came (new rows) added. An update counts only the documents
# it moved (language or archived changed), so saving tokens writes no count.
PG_FUNCTION = f"{TABLE}_apply"
PG_UP = [
    f"""CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' THEN
            INSERT INTO {TABLE} (lang, archived, n)
              SELECT lang, archived, sum(n) FROM (
                SELECT o.lang, o.archived_at IS NOT NULL AS archived, -1 AS n
                  FROM old_rows o JOIN new_rows w ON w.id = o.id
                 WHERE o.lang IS DISTINCT FROM w.lang OR (o.archived_at IS NULL) <> (w.archived_at IS NULL)
                UNION ALL
                SELECT w.lang, w.archived_at IS NOT NULL, 1
                  FROM old_rows o JOIN new_rows w ON w.id = o.id
                 WHERE o.lang IS DISTINCT FROM w.lang OR (o.archived_at IS NULL) <> (w.archived_at IS NULL)
              ) moved GROUP BY 1, 2
              ON CONFLICT (lang, archived) DO UPDATE SET n = {TABLE}.n + excluded.n;
          ELSIF TG_OP = 'DELETE' THEN
            UPDATE {TABLE} c SET n = c.n - gone.n
              FROM (SELECT lang, archived_at IS NOT NULL AS archived, count(*) AS n FROM old_rows GROUP BY 1, 2) gone
             WHERE c.lang = gone.lang AND c.archived = gone.archived;
          ELSE
            INSERT INTO {TABLE} (lang, archived, n)
              SELECT lang, archived_at IS NOT NULL, count(*) FROM new_rows GROUP BY 1, 2
              ON CONFLICT (lang, archived) DO UPDATE SET n = {TABLE}.n + excluded.n;
          END IF;
          RETURN NULL;
        END $$""",
    f"CREATE TRIGGER {TABLE}_ai AFTER INSERT ON document REFERENCING NEW TABLE AS new_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
    f"CREATE TRIGGER {TABLE}_ad AFTER DELETE ON document REFERENCING OLD TABLE AS old_rows "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
    # PostgreSQL takes no column list on a trigger with transition tables: every update
    # statement comes through, and one that moves no document changes no count
    f"CREATE TRIGGER {TABLE}_au AFTER UPDATE ON document REFERENCING OLD TABLE AS old_rows "
    f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
]
PG_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_{t} ON document" for t in ("ai", "ad", "au")] + [
    f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"
]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("archived", "lang"),
    )
    op.execute(FILL)
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
    op.drop_table(TABLE)
