"""The schema is Alembic's, on SQLite and PostgreSQL alike, and matches the models."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from annotator.data_changes import unmodelled
from annotator.db import current_revision, ensure_schema, get_db, head_revision, is_fresh, make_engine, upgrade
from annotator.ingest.bulk import new_ids
from annotator.models import Document, Layer, Span, Suggestion
from annotator.project.search import modelled


def test_upgrade_empty_database_matches_models(db_url):
    engine = make_engine(db_url)
    assert is_fresh(engine)
    upgrade(db_url)
    assert current_revision(engine) == head_revision(db_url)
    with engine.connect() as conn:
        # not the FTS machinery, nor the table of the data mark: neither has a model
        context = MigrationContext.configure(conn, opts={"include_object": lambda *a: modelled(*a) and unmodelled(*a)})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"document", "suggestion", "layer", "span", "relation", "claim", "auditevent", "user"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_the_head_is_the_one_alembic_finds(db_url):
    """head_revision reads the migration files' names of revisions, without loading Alembic."""
    from alembic.script import ScriptDirectory

    from annotator.db import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()


def counts(db) -> dict[str, int]:
    with db.reading() as s:
        return {
            t: s.exec(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("document", "suggestion", "layer", "span", "tokenarray")
        }


def test_going_down_and_up_again_keeps_every_row(seeded_app):
    """A migration that rebuilds a table (SQLite's batch mode) must not take the rows that
    refer to it along (ON DELETE CASCADE while the old table is dropped)."""
    from alembic import command

    from annotator.db import alembic_config

    db = get_db(seeded_app)
    before = counts(db)
    assert before["suggestion"] > 100 and before["document"] == 5
    url = db.engine.url.render_as_string(hide_password=False)
    command.downgrade(alembic_config(url), "0001")
    command.upgrade(alembic_config(url), "head")
    after = counts(db)
    assert {k: after[k] for k in ("document", "suggestion", "layer", "span")} == {
        k: before[k] for k in ("document", "suggestion", "layer", "span")
    }


def test_upgrade_is_idempotent_and_keeps_data(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        s.add(Document(uid="abc", text="Kept text.", lang="en", title="t", n_chars=10))
    assert ensure_schema(db) is False  # already at head: nothing runs
    url = db.engine.url.render_as_string(hide_password=False)
    upgrade(url)
    with db.reading() as s:
        assert s.exec(select(Document.text)).scalars().all() == ["Kept text."]


def test_a_deleted_suggestions_id_is_never_handed_out_again(any_app):
    """Re-suggesting deletes unanswered suggestions; a page opened before must not find its
    old ids naming new ones (SQLite reuses the highest id without AUTOINCREMENT)."""
    db = get_db(any_app)
    with db.writing() as s:
        doc = Document(uid="ids", text="64 GB and 2 TB.", lang="en", title="t", n_chars=15)
        s.add(doc)
        s.flush()
        old = [Suggestion(document_id=doc.id, start=0, end=5, label="QUANTITY", origin="pattern") for _ in range(3)]
        s.add_all(old)
        s.flush()
        highest, doc_id = max(x.id for x in old), doc.id
    with db.writing() as s:
        s.exec(text("DELETE FROM suggestion WHERE id = :id").bindparams(id=highest))
    with db.writing() as s:
        new = Suggestion(document_id=doc_id, start=10, end=14, label="QUANTITY", origin="pattern")
        s.add(new)
        s.flush()
        assert new.id > highest
    with db.writing() as s:  # the bulk path that draws ids up front, after the newest is gone
        s.exec(text("DELETE FROM suggestion WHERE id = :id").bindparams(id=new.id))
        assert min(new_ids(s.connection(), Suggestion.__table__, 2)) > new.id


def test_sqlite_pragmas(app):
    with get_db(app).engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_foreign_keys_and_cascades(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        doc = Document(uid="d1", text="Nvidia makes H100.", lang="en", title="t", n_chars=18)
        s.add(doc)
        s.flush()
        s.add(Suggestion(document_id=doc.id, start=0, end=6, label="ORG", origin="model"))
        layer = Layer(document_id=doc.id, name="alice")
        s.add(layer)
        s.flush()
        s.add(Span(layer_id=layer.id, start=0, end=6, label="ORG"))
    with pytest.raises(IntegrityError), db.writing() as s:
        s.add(Span(layer_id=999_999, start=0, end=1, label="ORG"))
    with db.writing() as s:
        s.execute(text("DELETE FROM document WHERE uid = 'd1'"))
    with db.reading() as s:
        for model in (Suggestion, Layer, Span):
            assert s.exec(select(model)).scalars().all() == []


def test_layer_name_unique_per_document(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        doc = Document(uid="d2", text="x y", lang="en", title="t", n_chars=3)
        s.add(doc)
        s.flush()
        s.add(Layer(document_id=doc.id, name="gold", kind="gold"))
    with pytest.raises(IntegrityError), db.writing() as s:
        s.add(Layer(document_id=doc.id, name="gold", kind="gold"))


# --- one writer at a time ---------------------------------------------------------------------


def _hold_gate(path: str, log: str, rounds: int) -> None:
    """In a child process: take the gate, mark entry and exit in a shared log."""
    import os
    import time

    from annotator.db import WriteGate

    gate = WriteGate(path)
    for _ in range(rounds):
        with gate.held():
            with open(log, "a") as f:
                f.write(f"in {os.getpid()}\n")
            time.sleep(0.005)
            with open(log, "a") as f:
                f.write(f"out {os.getpid()}\n")


def test_write_gate_admits_one_process_at_a_time(tmp_path):
    import multiprocessing

    log = tmp_path / "log"
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_hold_gate, args=(str(tmp_path / "db.sqlite3"), str(log), 15)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    lines = log.read_text().split("\n")[:-1]
    assert len(lines) == 3 * 15 * 2
    for entry, exit_ in zip(lines[0::2], lines[1::2]):  # never two inside at once
        assert entry.startswith("in ") and exit_ == "out " + entry[3:]


def test_concurrent_writers_all_land_without_lock_errors(app):
    import threading

    db, errors = get_db(app), []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                with db.writing() as s:
                    s.add(
                        Document(uid=f"w{n}-{i}", text=f"Writer {n}, document {i}.", lang="en", title="t", n_chars=10)
                    )
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.reading() as s:
        assert len(s.exec(select(Document.uid)).scalars().all()) == 160
    assert db.gate is not None and db.gate.path.endswith("annotator.sqlite3.write-lock")
    assert os.path.exists(db.gate.path)
