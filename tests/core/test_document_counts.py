"""The document counts the database keeps (migration 0013) stay equal to counting the
documents, through every way documents come, change language, are archived and go, on
SQLite and PostgreSQL; the list and the workspace's progress read them."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from annotator.annotate.status import progress
from annotator.db import get_db
from annotator.ingest.first_use import settle_all
from annotator.ingest.pipeline import import_paths
from annotator.models import Document, DocumentCount, document_uid
from annotator.project import archiving, labels_of
from annotator.web.listing import document_page, filter_choices
from tests.conftest import make_test_app
from tests.helpers import curator
from tests.older_data import as_an_older_version_left

TEXTS = {
    "en1": "Huawei shipped 10,000 Ascend 910C chips to Chinese cloud providers this quarter.",
    "en2": "Nvidia said its H100 accelerator draws up to 700 watts under a full training load.",
    "pt": "A empresa chinesa anunciou uma transição completa para aceleradores de computação da Huawei.",
}


def kept(db) -> dict[tuple[str, bool], int]:
    with db.reading() as s:
        rows = s.exec(select(DocumentCount.lang, DocumentCount.archived, DocumentCount.n)).all()
    return {(lang, bool(archived)): n for lang, archived, n in rows if n}


def counted(db) -> dict[tuple[str, bool], int]:
    archived = Document.archived_at.is_not(None)
    with db.reading() as s:
        rows = s.exec(select(Document.lang, archived, func.count()).group_by(Document.lang, archived)).all()
    return {(lang, bool(a)): n for lang, a, n in rows}


def test_kept_counts_follow_every_change(any_app, tmp_path):
    app, db = any_app, get_db(any_app)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS.values()), encoding="utf-8")
    assert import_paths(db, [str(path)], labels_of(app), None, settle=False).new == 3
    assert kept(db) == counted(db) == {("en", False): 2, ("pt", False): 1}
    assert as_an_older_version_left(app) == 3
    assert kept(db) == counted(db) == {("und", False): 3}  # languages left for first use
    assert settle_all(db, "QUANTITY", workers=0) == 3  # one update statement moves them all
    assert kept(db) == counted(db) == {("en", False): 2, ("pt", False): 1}
    with db.writing() as s:
        archiving.archive(s, document_uid(TEXTS["en1"]), "lead")
    assert kept(db) == counted(db) == {("en", False): 1, ("en", True): 1, ("pt", False): 1}
    with db.writing() as s:  # an update that moves no document between counts changes none
        s.exec(select(Document).where(Document.lang == "pt")).scalars().one().title = "Retitled"
    assert kept(db) == counted(db)
    with db.writing() as s:
        archiving.delete(s, document_uid(TEXTS["pt"]), "lead")
        s.add(Document(uid="x" * 16, text="Added one at a time.", lang="en", n_chars=20))
    assert kept(db) == counted(db) == {("en", False): 2, ("en", True): 1}
    with db.writing() as s:
        archiving.restore(s, document_uid(TEXTS["en1"]), "lead")
    assert kept(db) == counted(db) == {("en", False): 3}


def test_the_list_and_progress_read_the_kept_counts(any_app, tmp_path):
    app, db = any_app, get_db(any_app)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS.values()), encoding="utf-8")
    import_paths(db, [str(path)], labels_of(app), None)
    with db.writing() as s:
        archiving.archive(s, document_uid(TEXTS["en2"]), "lead")
    with db.reading() as s:
        assert document_page(s, 1, 50).total == 2
        assert filter_choices(s, people=False)[0] == [("en", 1), ("pt", 1)]
        assert progress(s, "nobody") == (0, 3)  # every document of the project, archived ones too
        # a count the kept ones cannot answer is still made, and agrees
        within = select(Document.id).where(Document.lang == "en")
        assert document_page(s, 1, 50, within=within).total == 1


def test_a_search_is_counted_only_as_far_as_the_cap(any_app, tmp_path, monkeypatch):
    """A search that most of a large corpus matches is not counted to the end: the list
    says "more than N" and pages forwards through what it has."""
    from annotator.project.search import Filters
    from annotator.web import listing

    app, db = any_app, get_db(any_app)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS.values()), encoding="utf-8")
    import_paths(db, [str(path)], labels_of(app), None)
    monkeypatch.setattr(listing, "COUNT_CAP", 2)
    with db.reading() as s:
        found = document_page(s, 1, 1, Filters(q="Huawei"))  # two of the three texts
        assert (found.total, found.capped, found.pages) == (2, False, 2)
        broad = document_page(s, 2, 1, Filters(q="a"))  # "a" and "a"-words: in all three
        assert (broad.total, broad.capped, broad.pages, len(broad.rows)) == (2, True, 2, 1)
        first = document_page(s, 1, 1, Filters(q="a")).rows[0].id
        assert broad.rows[0].id != first  # page 2 is the second match, counted forwards
        for late in (3, 9):  # a page past the cap, or past the end, is the last page
            assert [r.id for r in document_page(s, late, 1, Filters(q="a")).rows] == [broad.rows[0].id]
            last = document_page(s, late, 1, Filters(q="Huawei"))
            assert (last.page, len(last.rows)) == (2, 1)
    page = curator(app).get("/", query_string={"q": "a"}).get_data(as_text=True)
    assert 'More than <span data-testid="document-total">2</span> documents match' in page


def test_a_large_import_refreshes_postgresql_statistics(tmp_path, pg_url, monkeypatch):
    """Without it the planner takes the new corpus for a few rows until autovacuum's next
    round, and answers "the next document" by reading every later one."""
    from sqlalchemy import text

    from annotator.ingest import store

    monkeypatch.setattr(store, "ANALYZE_AFTER", 3)
    app = make_test_app(tmp_path, pg_url)
    db = get_db(app)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS.values()), encoding="utf-8")
    assert import_paths(db, [str(path)], labels_of(app), None).new == 3
    with db.reading() as s:
        analysed = s.execute(
            text("SELECT relname, reltuples FROM pg_class WHERE relname IN ('document', 'suggestion')")
        ).all()
    assert dict(analysed) == {"document": 3, "suggestion": 0}
    db.dispose()


def test_a_search_pages_in_arrival_order_from_either_end(any_app, tmp_path):
    """Every page of a search, from the front or (past the middle) from the back, holds the
    live matches in arrival order: the same documents as filtering every row here would."""
    from annotator.project.search import Filters

    db = get_db(any_app)
    words = ["chips", "watts", "chipset"]
    texts = [f"Document {i} is about {words[i % 3]} and more {words[(i * 7) % 3]}." for i in range(47)]
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"text": t, "lang": "en"}) + "\n" for t in texts), encoding="utf-8")
    import_paths(db, [str(path)], labels_of(any_app), None)
    with db.writing() as s:
        docs = s.exec(select(Document.id, Document.uid, Document.text).order_by(Document.id)).all()
        for _id, uid, _text in docs[3:40:9]:
            archiving.archive(s, uid, "lead", force=True)
    with db.reading() as s:
        live = {row.id for row in s.exec(select(Document.id).where(Document.archived_at.is_(None)))}
        for query, matches in (("chip", lambda t: "chip" in t), ("watts", lambda t: "watts" in t)):
            expected = [i for i, _uid, text in docs if i in live and matches(text)]
            first = document_page(s, 1, 4, Filters(q=query))
            assert (first.total, first.pages) == (len(expected), -(-len(expected) // 4))
            got = [r.id for n in range(1, first.pages + 1) for r in document_page(s, n, 4, Filters(q=query)).rows]
            assert got == expected, query


def test_on_sqlite_a_search_in_arrival_order_reads_the_search_table_first(app, tmp_path):
    """The query plans behind a searched page and its count. Narrowed by nothing but the
    search table's own facets, the list is one query of that table alone, its matches
    gathered once. Narrowed further, the search table leads (its rowids already in arrival
    order, so no sort of every match), documents are looked up in the narrow index, and the
    search table is never probed once per document."""
    from sqlalchemy import event

    db = get_db(app)
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in TEXTS.values()), encoding="utf-8")
    import_paths(db, [str(path)], labels_of(app), None)
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda c, cur, sql, p, ctx, many: statements.append((sql, p)))
    for query, reads in (({"q": "Huawei", "lang": "en"}, 1), ({"q": "Hua", "status": "todo", "page": "1"}, 2)):
        statements.clear()
        assert curator(app).get("/", query_string=query).status_code == 200
        searched = [(sql, p) for sql, p in statements if "document_fts" in sql]
        assert len(searched) == reads, searched  # the count and the page's ids: together, or one each
        raw = db.engine.raw_connection()
        try:
            for sql, params in searched:
                plan = [row[-1] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]
                fts = next(i for i, step in enumerate(plan) if "document_fts VIRTUAL TABLE" in step)
                if reads == 1:
                    assert sum("document_fts VIRTUAL TABLE" in step for step in plan) == 1, plan
                    assert not any("document" in step.replace("document_fts", "") for step in plan), plan
                    continue
                lookup = next(i for i, s in enumerate(plan) if "ix_document_live_id (archived_at=? AND id=?)" in s)
                assert fts < lookup, plan
                assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
        finally:
            raw.close()
