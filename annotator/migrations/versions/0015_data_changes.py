"""data changes: a mark the database moves whenever the project's data changes

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:30:00.000000

An export of unchanged data mints no version, but finding that out meant building and
hashing every record again (10,000 documents: about a second on two cores). Triggers on
every table a record can draw from now move a mark in `datachange` on any insert, update or
delete, whichever code (or tool) writes, so an export can tell in one query that nothing has
changed since the latest version was checked (annotator/data_changes.py reads the mark).

SQLite writes one transaction at a time, so its mark is one row given a new random token by
every row changed. PostgreSQL's transactions write side by side, and one row updated by all
of them would queue every writer behind the others and could deadlock two of them; there,
every transaction that changes something appends one row of its own instead (a statement
trigger, remembering for the rest of the transaction that it did). The mark is then how many
rows the table holds and the token of the newest: a transaction that commits later adds one.

Tables left unwatched hold nothing a record shows: failed sign-ins, background jobs' own
bookkeeping, the document counts (kept from `document` by triggers already) and Alembic's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "datachange"
WATCHED = (
    "auditevent",
    "claim",
    "claimsuggestion",
    "document",
    "gazetteername",
    "layer",
    "linkdecision",
    "modelversion",
    "relation",
    "relationsuggestion",
    "span",
    "suggestion",
    "suggestiondecision",
    "tokenarray",
    "user",
)
SQLITE_MARK = (
    f"INSERT INTO {TABLE} (id, token) VALUES (1, lower(hex(randomblob(16)))) "
    "ON CONFLICT (id) DO UPDATE SET token = excluded.token"
)
EVENTS = {"ai": "INSERT", "au": "UPDATE", "ad": "DELETE"}
SQLITE_UP = [
    f'CREATE TRIGGER {TABLE}_{table}_{short} AFTER {event} ON "{table}" BEGIN {SQLITE_MARK}; END'
    for table in WATCHED
    for short, event in EVENTS.items()
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {TABLE}_{table}_{short}" for table in WATCHED for short in EVENTS]

PG_MARK = f"INSERT INTO {TABLE} (token) VALUES (replace(gen_random_uuid()::text, '-', ''))"
PG_FUNCTION = f"{TABLE}_mark"
# set for the rest of the transaction once it has appended its row (rolled back with it)
PG_FLAG = "annotator.data_changed"
PG_UP = [
    f"""CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF current_setting('{PG_FLAG}', true) IS DISTINCT FROM 'yes' THEN
            {PG_MARK};
            PERFORM set_config('{PG_FLAG}', 'yes', true);
          END IF;
          RETURN NULL;
        END $$""",
    *(
        f'CREATE TRIGGER {TABLE}_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{table}" '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
        for table in WATCHED
    ),
]
PG_DOWN = [f'DROP TRIGGER IF EXISTS {TABLE}_{table} ON "{table}"' for table in WATCHED] + [
    f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"
]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    # a first mark: the data as it stands when upgraded is a state of its own
    op.execute(SQLITE_MARK if sqlite else PG_MARK)
    for statement in SQLITE_UP if sqlite else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
    op.drop_table(TABLE)
