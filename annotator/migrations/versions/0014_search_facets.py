"""search facets: liveness and language inside the search index

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:40:00.000000

SQLite's FTS5 table gains a third column, `facets`, holding two tokens per document: `live`
or `archived`, and `lang` followed by the hex of its language code (one token, whatever
the code holds). A search narrowed to one language is then one query of the search table,
its postings intersected inside FTS5, instead of a lookup of every match in the document
table to test its language and liveness (at 100,000 documents, as many lookups as there
were matches). The table reads its content from the view `document_search`, so the
document table keeps no extra column; the triggers now also follow a change of language
or of archiving, and skip an update that changes nothing indexed.

PostgreSQL's stored vector gains the same facets as two lexemes (`facet live` or `facet
archived`, `facet lang <code>`), so its GIN index answers a search with its liveness and
language: before, its planner found the live documents by the listing index and tested
every one's vector, read from TOAST storage (10,000 documents: a capped count 26.7 ms,
3.7 ms from the GIN index). The column is rebuilt, so upgrading rewrites the table.

SQLite's prefix indexes also cover one character now: a list narrowed as someone types a first
letter gathered the postings of every word starting with it (114 ms at 100,000 documents),
where a prefix index reads only as many as a page needs (10,000 documents: 5 MiB more
index, rebuilt in 1.90 s against 1.74-1.97 s without it).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the names annotator/project/search.py queries
SQLITE_FTS = "document_fts"
VIEW = "document_search"
TOKENIZE = "tokenize='unicode61 remove_diacritics 2', prefix='1 2 3'"
TOKENIZE_0010 = "tokenize='unicode61 remove_diacritics 2', prefix='2 3'"


def facets(row: str) -> str:
    """The facets column of a document row, as SQL (search.lang_token writes its language
    the same way)."""
    return f"(CASE WHEN {row}.archived_at IS NULL THEN 'live' ELSE 'archived' END || ' lang' || hex({row}.lang))"


def _indexed(row: str) -> str:
    return f"{row}.id, {row}.title, {row}.text, {facets(row)}"


TRIGGERS = ("ai", "ad", "au")
SQLITE_UP = [
    *(f"DROP TRIGGER IF EXISTS {SQLITE_FTS}_{t}" for t in TRIGGERS),
    f"DROP TABLE IF EXISTS {SQLITE_FTS}",
    f"CREATE VIEW {VIEW} AS SELECT id, title, text, {facets('document')} AS facets FROM document",
    f"CREATE VIRTUAL TABLE {SQLITE_FTS} USING fts5(title, text, facets, content='{VIEW}', content_rowid='id', "
    f"{TOKENIZE})",
    f"CREATE TRIGGER {SQLITE_FTS}_ai AFTER INSERT ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}(rowid, title, text, facets) VALUES ({_indexed('new')}); END",
    f"CREATE TRIGGER {SQLITE_FTS}_ad AFTER DELETE ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, title, text, facets) VALUES ('delete', {_indexed('old')}); END",
    f"CREATE TRIGGER {SQLITE_FTS}_au AFTER UPDATE OF title, text, lang, archived_at ON document "
    f"WHEN old.title IS NOT new.title OR old.text IS NOT new.text OR {facets('old')} IS NOT {facets('new')} BEGIN "
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, title, text, facets) VALUES ('delete', {_indexed('old')}); "
    f"INSERT INTO {SQLITE_FTS}(rowid, title, text, facets) VALUES ({_indexed('new')}); END",
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}) VALUES ('rebuild')",
]

# migration 0010's table and triggers, as a downgrade leaves them
SQLITE_DOWN = [
    *(f"DROP TRIGGER IF EXISTS {SQLITE_FTS}_{t}" for t in TRIGGERS),
    f"DROP TABLE IF EXISTS {SQLITE_FTS}",
    f"DROP VIEW IF EXISTS {VIEW}",
    f"CREATE VIRTUAL TABLE {SQLITE_FTS} USING fts5(title, text, content='document', content_rowid='id', "
    f"{TOKENIZE_0010})",
    f"CREATE TRIGGER {SQLITE_FTS}_ai AFTER INSERT ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"CREATE TRIGGER {SQLITE_FTS}_ad AFTER DELETE ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    f"CREATE TRIGGER {SQLITE_FTS}_au AFTER UPDATE OF title, text ON document BEGIN "
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    f"INSERT INTO {SQLITE_FTS}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"INSERT INTO {SQLITE_FTS}({SQLITE_FTS}) VALUES ('rebuild')",
]

# PostgreSQL: the same facets as lexemes in the stored vector, each holding a space, which
# the text parser never puts in a lexeme (so no word of a text can match one)
PG_FUNCTION = "document_search_vector"  # migration 0010's, of the title and the text
PG_FACETS = "document_search_facets"
PG_INDEX = "ix_document_search"
PG_COLUMN = "search_vector"
PG_UP = [
    f"""CREATE FUNCTION {PG_FACETS}(lang text, live boolean) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
          SELECT array_to_tsvector(ARRAY[CASE WHEN live THEN 'facet live' ELSE 'facet archived' END,
                                         'facet lang ' || coalesce(lang, '')])
        $$""",
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE document DROP COLUMN {PG_COLUMN}",
    f"ALTER TABLE document ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS "
    f"({PG_FUNCTION}(title, text) || {PG_FACETS}(lang, archived_at IS NULL)) STORED",
    f"CREATE INDEX {PG_INDEX} ON document USING gin ({PG_COLUMN})",
    "ANALYZE document",  # the rewritten table's statistics, for the planner to pick the index
]
PG_DOWN = [
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"ALTER TABLE document DROP COLUMN {PG_COLUMN}",
    f"ALTER TABLE document ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS ({PG_FUNCTION}(title, text)) STORED",
    f"CREATE INDEX {PG_INDEX} ON document USING gin ({PG_COLUMN})",
    f"DROP FUNCTION IF EXISTS {PG_FACETS}(text, boolean)",
]


def upgrade() -> None:
    for statement in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else PG_UP:
        op.execute(statement)


def downgrade() -> None:
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(statement)
