"""search facets: liveness and language inside SQLite's search table

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

The prefix indexes also cover one character now: a list narrowed as someone types a first
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(statement)
