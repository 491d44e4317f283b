"""document search and archiving

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 10:15:00.000000

Full-text search over documents' titles and texts, and archiving. SQLite keeps an FTS5
table over `document` (external content, so the text is stored once) in step through
triggers, whatever code writes the documents; PostgreSQL indexes the 'simple' text-search
vector (no stemming or stop words, so every language is searched alike) with GIN.
`archived_at` hides a document from the list until it is restored. The listing indexes
lead with `archived_at` so the list of live documents is read from narrow index entries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the names annotator/project/search.py queries
SQLITE_FTS = "document_fts"
PG_FUNCTION = "document_search_vector"
PG_INDEX = "ix_document_search"
PG_COLUMN = "search_vector"

SQLITE_UP = [
    f"CREATE VIRTUAL TABLE {SQLITE_FTS} USING fts5(title, text, content='document', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    f"CREATE TRIGGER {SQLITE_FTS}_ai AFTER INSERT ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"CREATE TRIGGER {SQLITE_FTS}_ad AFTER DELETE ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    f"CREATE TRIGGER {SQLITE_FTS}_au AFTER UPDATE OF title, text ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    f"INSERT INTO {SQLITE_FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}) VALUES ('rebuild')",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {SQLITE_FTS}_{t}" for t in ("ai", "ad", "au")] + [
    f"DROP TABLE IF EXISTS {SQLITE_FTS}"
]

# A text whose vector would pass PostgreSQL's 1 MB limit for one tsvector is indexed by its
# first 100,000 characters, so no import ever fails on the index. The vector is stored (a
# generated column): a search that most documents match reads it instead of computing it.
PG_UP = [
    f"""CREATE FUNCTION {PG_FUNCTION}(title text, body text) RETURNS tsvector
        LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
        BEGIN
          RETURN to_tsvector('simple'::regconfig, title || ' ' || body);
        EXCEPTION WHEN program_limit_exceeded THEN
          RETURN to_tsvector('simple'::regconfig, title || ' ' || left(body, 100000));
        END $$""",
    f"ALTER TABLE document ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS ({PG_FUNCTION}(title, text)) STORED",
    f"CREATE INDEX {PG_INDEX} ON document USING gin ({PG_COLUMN})",
]
PG_DOWN = [
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE document DROP COLUMN IF EXISTS {PG_COLUMN}",
    f"DROP FUNCTION IF EXISTS {PG_FUNCTION}(text, text)",
]

LISTING_INDEXES = {
    "ix_document_live_id": ["archived_at", "id", "lang"],
    "ix_document_live_title": ["archived_at", "title", "id", "lang"],
}


def upgrade() -> None:
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("archived_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        for name, columns in LISTING_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    with op.batch_alter_table("suggestion", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_label_document", ["label", "document_id"], unique=False)
    with op.batch_alter_table("span", schema=None) as batch_op:
        batch_op.create_index("ix_span_label_layer", ["label", "layer_id"], unique=False)
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
    with op.batch_alter_table("span", schema=None) as batch_op:
        batch_op.drop_index("ix_span_label_layer")
    with op.batch_alter_table("suggestion", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_label_document")
    with op.batch_alter_table("document", schema=None) as batch_op:
        for name in LISTING_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_column("archived_by")
        batch_op.drop_column("archived_at")
