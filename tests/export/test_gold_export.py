"""`annotator export --layer gold`: only gold-done documents, and who made them.

Gold layers are made the way the workspace makes them (annotating.add_span into the layer
named "gold", status.set_status to "done"), on real SQLite files; the export is read back
from disk.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from annotator.annotate.spans import add_span
from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.export.publish import export
from annotator.layers import find_layer
from annotator.models import Document, Layer
from annotator.project import labels_of
from annotator.schema import load_schema


def seed_docs(app) -> list[Document]:
    with get_db(app).reading() as s:
        return list(s.exec(select(Document).order_by(Document.id)).scalars())


def version_of(app, doc: Document, layer: str) -> int:
    with get_db(app).reading() as s:
        found = find_layer(s, doc, layer)
        return found.version if found else 0


def mark(app, doc: Document, layer: str, user: str, label: str = "ORG") -> str:
    """`user` marks the first word of `doc` in `layer` (made by this first write)."""
    start = next(i for i, ch in enumerate(doc.text) if ch.isalnum())
    end = next(i for i in range(start, len(doc.text)) if not doc.text[i].isalnum())
    with get_db(app).writing() as s:
        add_span(
            s, labels_of(app), s.get(Document, doc.id), layer, user, version_of(app, doc, layer), start, end, label
        )
    return doc.text[start:end]


def set_done(app, doc: Document, layer: str, user: str, status: str = "done") -> None:
    with get_db(app).writing() as s:
        set_status(s, s.get(Document, doc.id), layer, user, version_of(app, doc, layer), status)


def export_gold(app, out: Path, **kw):
    return export(get_db(app), labels_of(app), "gold", out_dir=out, **kw)


def records(result) -> list[dict]:
    return [orjson.loads(line) for line in (result.path / "data.jsonl").read_bytes().splitlines()]


@pytest.fixture
def curated(seeded_app):
    """Five seed documents: gold done on the first two (curated by cora; by dan and erin),
    gold in progress on the third (frank), none on the last two. alice, bob and carol
    annotate; gina's assignment on the first document was never opened."""
    d = seed_docs(seeded_app)
    for doc, annotator in ((d[0], "alice"), (d[0], "bob"), (d[1], "alice"), (d[2], "bob"), (d[3], "carol")):
        mark(seeded_app, doc, annotator, annotator)
    with get_db(seeded_app).writing() as s:  # what an assignment leaves: an untouched layer
        s.add(Layer(document_id=d[0].id, name="gina", kind="annotator", status="todo", assigned_by="cora"))
    mark(seeded_app, d[0], "gold", "cora")
    set_done(seeded_app, d[0], "gold", "cora")
    mark(seeded_app, d[1], "gold", "dan", label="GPE")
    set_done(seeded_app, d[1], "gold", "erin")
    mark(seeded_app, d[2], "gold", "frank")
    return seeded_app, d


def test_only_gold_done_documents_are_exported(curated, tmp_path):
    app, d = curated
    result = export_gold(app, tmp_path)
    got = records(result)
    assert [r["id"] for r in got] == sorted([d[0].uid, d[1].uid])
    assert {r["layer"] for r in got} == {"gold"}
    by_id = {r["id"]: r for r in got}
    assert [(s["label"], s["origin"]) for s in by_id[d[0].uid]["spans"]] == [("ORG", "manual")]
    assert [s["label"] for s in by_id[d[1].uid]["spans"]] == ["GPE"]
    validator = Draft202012Validator(load_schema())
    assert all(list(validator.iter_errors(r)) == [] for r in got)
    assert result.manifest["documents"] == 2
    assert result.left_out == {"not_gold_done": 3}
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["left_out"] == {"not_gold_done": 3}


def test_manifest_and_records_name_annotators_and_curators(curated, tmp_path):
    app, d = curated
    result = export_gold(app, tmp_path)
    by_id = {r["id"]: r for r in records(result)}
    # a gold record names the annotator layers of its document someone worked on
    assert by_id[d[0].uid]["annotators"] == ["alice", "bob"]
    assert by_id[d[1].uid]["annotators"] == ["alice"]
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["annotators"] == ["alice", "bob"]  # not carol (no gold-done document), not gina
    assert manifest["curators"] == ["cora", "dan", "erin"]  # not frank: his gold is not done


def test_marking_gold_done_adds_the_document_and_its_people(curated, tmp_path):
    app, d = curated
    first = export_gold(app, tmp_path)
    set_done(app, d[2], "gold", "cora")
    second = export_gold(app, tmp_path)
    assert (first.version, second.version) == ("v1.0.0", "v1.1.0")
    assert second.manifest["changes"]["added_ids"] == [d[2].uid]
    assert [r["id"] for r in records(second)] == sorted([d[0].uid, d[1].uid, d[2].uid])
    assert second.manifest["annotators"] == ["alice", "bob"]
    assert second.manifest["curators"] == ["cora", "dan", "erin", "frank"]
    assert second.left_out == {"not_gold_done": 2}
    set_done(app, d[0], "gold", "cora", status="in_progress")  # taken back: out of the next version
    third = export_gold(app, tmp_path)
    assert third.manifest["changes"]["removed_ids"] == [d[0].uid] and third.left_out == {"not_gold_done": 3}


def test_no_gold_done_publishes_an_empty_version_saying_so(seeded_app, tmp_path):
    d = seed_docs(seeded_app)
    mark(seeded_app, d[0], "gold", "cora")
    result = export_gold(seeded_app, tmp_path)
    assert records(result) == [] and result.manifest["curators"] == []
    assert result.left_out == {"not_gold_done": 5}


def test_other_layers_name_their_annotator_and_no_curators(curated, tmp_path):
    app, d = curated
    result = export(get_db(app), labels_of(app), "alice", out_dir=tmp_path)
    assert [r["annotators"] for r in records(result)] == [["alice"], ["alice"]]
    assert result.manifest["curators"] == [] and result.left_out == {}


def test_gold_export_in_worker_processes_is_byte_identical(curated, tmp_path, monkeypatch):
    import annotator.export.publish as exporting

    app, _ = curated
    monkeypatch.setattr(exporting, "CHUNK_DOCUMENTS", 1)  # a task per document
    here = export_gold(app, tmp_path / "here", workers=0)
    workers = export_gold(app, tmp_path / "workers", workers=2)
    assert (here.path / "data.jsonl").read_bytes() == (workers.path / "data.jsonl").read_bytes()
    assert (here.path / "records.index").read_bytes() == (workers.path / "records.index").read_bytes()
    assert {k: workers.manifest[k] for k in ("annotators", "curators", "counts", "left_out")} == {
        k: here.manifest[k] for k in ("annotators", "curators", "counts", "left_out")
    }


def test_cli_gold_export_json(cli, tmp_path, curated_cli):
    out = tmp_path / "exports"
    result = cli("export", "--layer", "gold", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["manifest"]["documents"] == 1 and shown["manifest"]["left_out"] == {"not_gold_done": 4}
    assert shown["manifest"]["curators"] == ["cora"] and shown["manifest"]["annotators"] == ["alice"]
    said = cli("export", "--layer", "gold", "--out", tmp_path / "said", "--name", "gold-text")
    assert said.exit_code == 0 and "4 document(s) left out: their gold layer is not marked done." in said.output


@pytest.fixture
def curated_cli(tmp_path, seeded_template):
    """The seeded project where the `cli` fixture looks for it, one gold-done document."""
    import shutil

    from tests.conftest import make_test_app

    (tmp_path / "instance").mkdir()
    shutil.copy(seeded_template, tmp_path / "instance" / "annotator.sqlite3")
    app = make_test_app(tmp_path)
    d = seed_docs(app)
    mark(app, d[0], "alice", "alice")
    mark(app, d[0], "gold", "cora")
    set_done(app, d[0], "gold", "cora")
    get_db(app).dispose()
