"""The data mark (migration 0015, annotator/data_changes.py): moved by every change to the
data, whatever writes it, on both databases; never by a read or a change rolled back."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from annotator.data_changes import TABLE, data_mark
from annotator.db import get_db
from annotator.ingest.bulk import insert_rows
from annotator.models import Document, Suggestion

MIGRATION = importlib.import_module("annotator.migrations.versions.0015_data_changes")
# tables whose rows no record shows (the migration's docstring says why each is left out)
UNWATCHED = {"loginfailure", "job", "documentcount"}


def add_document(db, uid: str = "d1") -> int:
    with db.writing() as s:
        doc = Document(uid=uid, text="Huawei shipped 10,000 chips.", lang="en", title="t", n_chars=28)
        s.add(doc)
        s.flush()
        return doc.id


def test_every_table_a_record_can_read_is_watched(any_app):
    """A table added later without the triggers (or rebuilt by a migration that drops them)
    would let an export call changed data unchanged: every modelled table is watched, or
    named here as holding nothing a record shows."""
    db = get_db(any_app)
    modelled = set(SQLModel.metadata.tables)
    assert set(MIGRATION.WATCHED) == modelled - UNWATCHED
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")).all()
            found = {(t, name.rsplit("_", 1)[1]) for t, name in rows if name.startswith(f"{TABLE}_")}
            assert found == {(t, e) for t in MIGRATION.WATCHED for e in ("ai", "au", "ad")}
        else:
            rows = conn.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE NOT t.tgisinternal AND t.tgname LIKE :name"
                ),
                {"name": f"{TABLE}_%"},
            ).scalars()
            assert sorted(rows) == sorted(MIGRATION.WATCHED)
    assert TABLE in inspect(db.engine).get_table_names()


def test_any_write_moves_the_mark_and_a_read_does_not(any_app):
    db = get_db(any_app)
    seen = [data_mark(db)]
    assert seen[0] is not None

    def moved() -> bool:
        seen.append(data_mark(db))
        return seen[-1] != seen[-2]

    doc_id = add_document(db)
    assert moved()  # an ORM insert
    with db.reading() as s:
        s.exec(text("SELECT count(*) FROM document")).scalar()
    assert not moved()  # a read
    with db.writing() as s:  # a bulk insert handed straight to the driver
        insert_rows(
            s.connection(),
            Suggestion.__table__,
            ("document_id", "start", "end", "label", "origin"),
            [(doc_id, 0, 6, "ORG", "pattern")],
        )
    assert moved()
    with db.writing() as s:  # SQL behind the app's back
        s.exec(text("UPDATE suggestion SET score = 0.5"))
    assert moved()
    with db.writing() as s:
        s.exec(text("DELETE FROM suggestion"))
    assert moved()
    with pytest.raises(RuntimeError), db.writing() as s:  # a change rolled back changes nothing
        s.exec(text("UPDATE document SET title = 'other'"))
        raise RuntimeError("undone")
    assert not moved()
    assert len(set(seen)) == 5


def test_a_change_committed_after_the_mark_was_read_moves_it(pg_url, tmp_path):
    """The mark is read before an export reads any data; a transaction that wrote before
    that read but commits after it must still move the mark (PostgreSQL: it appends its row
    in its own transaction, unseen until it commits). SQLite writes one transaction at a
    time, and a reader sees only what committed before it began."""
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, pg_url)
    db = get_db(app)
    try:
        add_document(db)
        engine = create_engine(pg_url)
        with engine.connect() as writer:
            writer.execute(text("UPDATE document SET title = 'pending'"))  # not committed yet
            before = data_mark(db)
            writer.commit()
        assert data_mark(db) != before
        engine.dispose()
    finally:
        db.dispose()


def test_postgresql_writers_do_not_queue_on_the_mark(pg_url, tmp_path):
    """Two transactions writing different rows at once: neither waits for the other (one row
    updated by every writer would hold the second until the first committed)."""
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, pg_url)
    db = get_db(app)
    first_id, second_id = add_document(db, "a"), add_document(db, "b")
    engine = create_engine(pg_url)
    try:
        with engine.connect() as one, engine.connect() as two:
            one.execute(text("UPDATE document SET title = 'one' WHERE id = :id"), {"id": first_id})
            two.execute(text("SET lock_timeout = '2s'"))
            two.execute(text("UPDATE document SET title = 'two' WHERE id = :id"), {"id": second_id})
            two.commit()
            one.commit()
        with db.reading() as s:
            assert s.exec(text("SELECT count(*) FROM datachange")).scalar() >= 4  # a row per writer
    finally:
        engine.dispose()
        db.dispose()


def test_going_down_takes_the_triggers_and_the_table(db_url, tmp_path):
    from alembic import command

    from annotator.db import alembic_config
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, db_url)
    db = get_db(app)
    try:
        command.downgrade(alembic_config(db_url), "0014")
        assert TABLE not in inspect(db.engine).get_table_names()
        add_document(db)  # writes still work without the mark
        command.upgrade(alembic_config(db_url), "head")
        before = data_mark(db)
        add_document(db, "d2")
        assert data_mark(db) != before
    finally:
        db.dispose()
