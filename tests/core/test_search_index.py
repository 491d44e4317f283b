"""SQLite's search table (migrations 0010 and 0014) stays equal to indexing every document
afresh, its facets (language, live or archived) included, through every way documents come,
change and go; and a list narrowed by those facets finds what testing each row would, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import select

from annotator.db import get_db
from annotator.ingest.first_use import settle_all
from annotator.ingest.pipeline import import_paths
from annotator.models import Document, document_uid
from annotator.project import archiving, labels_of
from annotator.project.search import Filters, fts5_query, lang_token
from annotator.web.listing import document_page
from tests.older_data import as_an_older_version_left

TEXTS = {
    "en1": "Huawei shipped 10,000 Ascend 910C chips to Chinese cloud providers this quarter.",
    "en2": "Nvidia said its H100 accelerator draws up to 700 watts; its archived specs say so too.",
    "pt": "A empresa chinesa anunciou uma transição completa para aceleradores de computação da Huawei.",
}
CHECK = "INSERT INTO document_fts(document_fts, rank) VALUES ('integrity-check', 1)"


def sqlite_file(db) -> str:
    return db.engine.url.database


def index_agrees(db) -> None:
    """FTS5's own check: every token of every document's title, text and facets (read again
    from the content view) is in the index, and nothing else; raises where one differs."""
    with sqlite3.connect(sqlite_file(db)) as conn:
        conn.execute(CHECK)


def write(path, texts, **fields) -> str:
    path.write_text("".join(json.dumps({"text": t, **fields}) + "\n" for t in texts), encoding="utf-8")
    return str(path)


def test_fts5_queries_keep_the_users_terms_out_of_the_facets():
    assert lang_token("pt-BR") == "lang70742d4252"  # one token: the tokenizer cannot split hex
    assert fts5_query(['say"x', "910"]) == '{title text} : ("say""x" "910"*) NOT facets : archived'
    assert fts5_query(["a"], "pt", "archived") == '({title text} : ("a"*) AND facets : lang7074) AND facets : archived'


def test_the_search_table_follows_every_change(app, tmp_path):
    db = get_db(app)
    labels = labels_of(app)
    assert import_paths(db, [write(tmp_path / "a.jsonl", [TEXTS["en1"]])], labels, None).new == 1
    index_agrees(db)  # detected at import, before the document went in
    later = write(tmp_path / "b.jsonl", [TEXTS["en2"], TEXTS["pt"]])
    assert import_paths(db, [later], labels, None, settle=False).new == 2
    index_agrees(db)  # as --tokenize-later: tokens left for first use, language detected
    assert as_an_older_version_left(app) == 3
    index_agrees(db)  # language left for first use (an older version): indexed as undetermined
    assert settle_all(db, "QUANTITY", workers=0) == 3
    index_agrees(db)  # ... and indexed again under the language found
    with db.writing() as s:
        archiving.archive(s, document_uid(TEXTS["en1"]), "lead")
        s.exec(select(Document).where(Document.lang == "pt")).scalars().one().lang = "pt-BR"
    index_agrees(db)
    with db.writing() as s:
        archiving.restore(s, document_uid(TEXTS["en1"]), "lead")
        s.exec(select(Document).where(Document.lang == "pt-BR")).scalars().one().title = "Retitled"
        archiving.delete(s, document_uid(TEXTS["en2"]), "lead", force=True)
    index_agrees(db)


def index_pages(db) -> list[tuple]:
    with sqlite3.connect(sqlite_file(db)) as conn:
        return conn.execute("SELECT id, block FROM document_fts_data ORDER BY id").fetchall()


def test_first_use_after_tokenize_later_leaves_the_search_table_alone(app, tmp_path):
    """--tokenize-later detects languages at import, so settling the tokens later changes
    nothing the search table holds: not one of its pages is written again (a changed
    language would delete and insert the whole text there)."""
    db = get_db(app)
    path = write(tmp_path / "a.jsonl", list(TEXTS.values()))
    assert import_paths(db, [path], labels_of(app), None, settle=False).new == 3
    before = index_pages(db)
    assert settle_all(db, "QUANTITY", workers=0) == 3
    assert index_pages(db) == before
    # the control: settling what an older version left (language too) does rewrite them
    assert as_an_older_version_left(app) == 3
    before = index_pages(db)
    assert settle_all(db, "QUANTITY", workers=0) == 3
    assert index_pages(db) != before
    index_agrees(db)


def test_the_check_above_fails_on_a_stale_facet(app, tmp_path):
    """The control for the test above: with the update trigger gone, a change of language
    leaves the index stale, and the check says so."""
    db = get_db(app)
    import_paths(db, [write(tmp_path / "a.jsonl", [TEXTS["en1"]], lang="en")], labels_of(app), None)
    conn = sqlite3.connect(sqlite_file(db), isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("DROP TRIGGER document_fts_au")
        conn.execute("UPDATE document SET lang = 'fr'")
        with pytest.raises(sqlite3.DatabaseError):
            conn.execute(CHECK)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    index_agrees(db)  # rolled back: the trigger and the index as they were


def test_a_search_narrowed_by_language_and_archive_finds_what_each_row_says(any_app, tmp_path):
    db = get_db(any_app)
    import_paths(db, [write(tmp_path / "a.jsonl", list(TEXTS.values()))], labels_of(any_app), None)
    with db.writing() as s:
        archiving.archive(s, document_uid(TEXTS["pt"]), "lead")
        s.exec(select(Document).where(Document.uid == document_uid(TEXTS["en2"]))).scalars().one().lang = "en-GB"

    def found(**filters) -> set[str]:
        with db.reading() as s:
            page = document_page(s, 1, 50, Filters(**filters))
            assert page.total == len(page.rows)
            return {next(k for k, t in TEXTS.items() if document_uid(t) == r.uid) for r in page.rows}

    assert found(q="huawei") == {"en1"}  # the Portuguese one is archived
    assert found(q="huawei", shown="archived") == {"pt"}
    assert found(q="its", lang="en-GB") == {"en2"} and found(q="its", lang="en") == set()
    assert found(q="huawei", lang="pt", shown="archived") == {"pt"}
    assert found(q="archived") == {"en2"}  # a word of the text, never the facet
    assert found(q="live") == set() and found(q=lang_token("en")) == set()
    with db.writing() as s:
        archiving.restore(s, document_uid(TEXTS["pt"]), "lead")
    assert found(q="huawei") == {"en1", "pt"} and found(q="huawei", shown="archived") == set()


def test_on_postgresql_a_search_and_its_count_read_the_gin_index(tmp_path, pg_url):
    """Liveness and language are lexemes of the stored vector, so the count and the page
    come from the GIN index, never from the listing index with every live document's vector
    tested (read from TOAST storage, one by one)."""
    from sqlalchemy import event

    from tests.conftest import make_test_app
    from tests.helpers import curator

    app = make_test_app(tmp_path, pg_url)
    db = get_db(app)
    try:
        import_paths(db, [write(tmp_path / "a.jsonl", list(TEXTS.values()))], labels_of(app), None)
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda c, cur, sql, p, ctx, many: statements.append((sql, p)))
        assert curator(app).get("/", query_string={"q": "huawei", "lang": "pt"}).status_code == 200
        searched = [(sql, p) for sql, p in statements if "search_vector" in sql]
        assert searched
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")  # as the list sets it (a three-row table)
            for sql, params in searched:
                plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params))
                assert "ix_document_search" in plan and "ix_document_live_id" not in plan, plan
    finally:
        db.dispose()
