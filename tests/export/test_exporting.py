"""`annotator export`: validated, versioned, immutable, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select, update

from annotator.db import get_db
from annotator.export.publish import ExportError, export, split_of
from annotator.export.up_to_date import CHECKED_FILE
from annotator.ingest.pipeline import import_paths
from annotator.models import Claim, Document, Layer, Relation, Span, Suggestion
from annotator.project import labels_of
from annotator.schema import load_schema, record_schema
from tests.conftest import SEEDS, make_test_app


def do_export(app, tmp_path, **kw):
    kw.setdefault("layer", "suggestions")
    return export(get_db(app), labels_of(app), out_dir=tmp_path / "exports", **kw)


def read_records(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_export_layout_manifest_and_validity(seeded_app, tmp_path):
    result = do_export(seeded_app, tmp_path)
    assert result.version == "v1.0.0" and not result.unchanged
    folder = tmp_path / "exports" / "suggestions" / "v1.0.0"
    assert sorted(p.name for p in folder.iterdir()) == ["data.jsonl", "manifest.json", "records.index", "schema.json"]
    manifest = json.loads((folder / "manifest.json").read_text())
    records = read_records(folder / "data.jsonl")
    assert len(records) == manifest["documents"] == 5
    validator = Draft202012Validator(load_schema())
    for record in records:
        assert list(validator.iter_errors(record)) == []
        for span in record["spans"]:
            assert record["text"][span["start"] : span["end"]] == span["text"]
    assert manifest["schema"]["id"] == record_schema().id == json.loads((folder / "schema.json").read_text())["$id"]
    assert manifest["labels"]["config"]["entities"][0]["label"] == "ORG"
    assert sum(manifest["counts"]["spans"].values()) == sum(len(r["spans"]) for r in records)
    assert manifest["changes"]["added"] == 5 and manifest["changes"]["previous"] is None
    import hashlib

    assert manifest["data_sha256"] == hashlib.sha256((folder / "data.jsonl").read_bytes()).hexdigest()
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)


def test_unchanged_data_mints_no_version_and_changes_do(seeded_app, tmp_path):
    first = do_export(seeded_app, tmp_path)
    again = do_export(seeded_app, tmp_path)
    assert again.unchanged and again.version == "v1.0.0" and again.path is None
    src = tmp_path / "new.jsonl"
    src.write_text(json.dumps({"text": "Huawei shipped 10,000 Ascend 910C chips."}) + "\n")
    import_paths(get_db(seeded_app), [str(src)], labels_of(seeded_app), None)
    added = do_export(seeded_app, tmp_path)
    assert added.version == "v1.1.0" and added.manifest["changes"]["added"] == 1
    assert added.manifest["changes"]["previous"] == "v1.0.0"
    with get_db(seeded_app).writing() as s:  # an annotation changes: patch version
        s.execute(update(Suggestion).where(Suggestion.id == 1).values(score=0.5))
    patched = do_export(seeded_app, tmp_path)
    assert patched.version == "v1.1.1" and patched.manifest["changes"]["modified"] == 1
    # published versions are untouched and read-only
    old = first.path / "data.jsonl"
    assert len(read_records(old)) == 5 and not (old.stat().st_mode & 0o222)


def test_same_data_gives_identical_bytes(tmp_path, prehighlighter):
    outputs = []
    for name, order in (("a", sorted(SEEDS.iterdir())), ("b", sorted(SEEDS.iterdir(), reverse=True))):
        app = make_test_app(tmp_path / name)
        for path in order:  # different import order, different database ids
            import_paths(get_db(app), [str(path)], labels_of(app), prehighlighter)
        result = export(get_db(app), labels_of(app), "suggestions", out_dir=tmp_path / name / "exports")
        outputs.append((result.path / "data.jsonl").read_bytes())
        get_db(app).dispose()
    assert outputs[0] == outputs[1]


def test_crash_mid_export_leaves_no_partial_version(seeded_app, tmp_path):
    do_export(seeded_app, tmp_path)
    src = tmp_path / "more.jsonl"
    src.write_text(json.dumps({"text": "One more document."}) + "\n")
    import_paths(get_db(seeded_app), [str(src)], labels_of(seeded_app), None)
    seen = []

    def crash(record):
        seen.append(record["id"])
        if len(seen) == 3:
            raise KeyboardInterrupt("power cut")

    with pytest.raises(KeyboardInterrupt):
        do_export(seeded_app, tmp_path, limit_check=crash)
    folder = tmp_path / "exports" / "suggestions"
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".lock")) == [
        CHECKED_FILE,
        "latest",
        "v1.0.0",
    ]
    assert orjson.loads((folder / CHECKED_FILE).read_bytes())["version"] == "v1.0.0"  # what it was
    assert do_export(seeded_app, tmp_path).version == "v1.1.0"


def test_invalid_record_is_refused_and_nothing_published(seeded_app, tmp_path):
    with get_db(seeded_app).writing() as s:  # corrupt one stored offset behind the app's back
        s.execute(update(Suggestion).where(Suggestion.id == 3).values(end=10**6))
    with pytest.raises(ExportError, match="outside the text"):
        do_export(seeded_app, tmp_path)
    folder = tmp_path / "exports" / "suggestions"
    assert [p.name for p in folder.iterdir() if p.name != ".lock"] == []


def test_split_is_stable_by_id(seeded_app, tmp_path):
    result = do_export(seeded_app, tmp_path, split="60/20/20", name="split")
    parts = {}
    for part in ("train", "dev", "test"):
        for record in read_records(result.path / f"{part}.jsonl"):
            parts[record["id"]] = part
    assert len(parts) == 5
    assert all(split_of(rid, result.manifest["split"]["shares"]) == part for rid, part in parts.items())
    assert sum(result.manifest["split"]["counts"].values()) == 5
    with pytest.raises(ExportError, match="three non-negative shares"):
        do_export(seeded_app, tmp_path, split="80/20")


def test_bad_names_and_formats(seeded_app, tmp_path):
    with pytest.raises(ExportError, match="export name"):
        do_export(seeded_app, tmp_path, name="../escape")
    with pytest.raises(ExportError, match="unknown format"):
        do_export(seeded_app, tmp_path, fmt="csv")


def make_layer(app, layer_name: str, status: str = "todo") -> str:
    """A hand-made annotator layer on the first seed: spans, a relation and a claim."""
    db = get_db(app)
    with db.writing() as s:
        doc = s.exec(select(Document).where(Document.lang == "en").order_by(Document.id)).scalars().first()
        text = doc.text
        layer = Layer(
            document_id=doc.id,
            name=layer_name,
            kind="gold" if layer_name == "gold" else "annotator",
            status=status,
            version=1,
        )  # written to once: an untouched (assigned) layer exports nothing
        s.add(layer)
        s.flush()

        def span(fragment, label, **extra):
            start = text.index(fragment)
            row = Span(layer_id=layer.id, start=start, end=start + len(fragment), label=label, **extra)
            s.add(row)
            s.flush()
            return row

        org = span("Sophgo", "ORG", origin="gazetteer")
        card = span("SC11 FP300", "PRODUCT")
        qty = span("256 gigabytes", "QUANTITY", value=256.0, unit="GB", qualifier=None)
        prop = span("high-bandwidth memory", "PROPERTY")
        s.add(Relation(layer_id=layer.id, head_id=org.id, child_id=card.id, label="MAKES"))
        s.add(
            Claim(
                layer_id=layer.id,
                quantity_id=qty.id,
                entity_id=card.id,
                property_id=prop.id,
                modifiers=[],
                meta={"annot_set": 1},
            )
        )
        return doc.uid


def test_user_layer_export_with_relations_and_claims(seeded_app, tmp_path):
    uid = make_layer(seeded_app, "alice")
    result = do_export(seeded_app, tmp_path, layer="alice")
    [record] = read_records(result.path / "data.jsonl")
    assert record["id"] == uid and record["layer"] == "alice" and record["annotators"] == ["alice"]
    by_id = {s["id"]: s for s in record["spans"]}
    [rel] = record["relations"]
    assert (by_id[rel["head"]]["text"], by_id[rel["child"]]["text"], rel["label"]) == ("Sophgo", "SC11 FP300", "MAKES")
    [claim] = record["claims"]
    assert by_id[claim["quantity"]]["value"] == 256.0 and by_id[claim["quantity"]]["unit"] == "GB"
    assert by_id[claim["entity"]]["text"] == "SC11 FP300"
    assert by_id[claim["property"]["span"]]["text"] == "high-bandwidth memory"
    assert result.manifest["annotators"] == ["alice"] and result.manifest["counts"]["claims"] == 1


def test_gold_exports_only_gold_done_documents(seeded_app, tmp_path):
    make_layer(seeded_app, "gold", status="in_progress")
    assert do_export(seeded_app, tmp_path, layer="gold").manifest["documents"] == 0
    with get_db(seeded_app).writing() as s:
        s.execute(update(Layer).where(Layer.name == "gold").values(status="done"))
    assert do_export(seeded_app, tmp_path, layer="gold").manifest["documents"] == 1


# --- worker processes ------------------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    import annotator.export.publish as exporting

    monkeypatch.setattr(exporting, "CHUNK_DOCUMENTS", 2)  # five seeds: three tasks


def test_worker_processes_write_the_same_bytes(seeded_app, tmp_path, small_chunks):
    here = do_export(seeded_app, tmp_path / "here", split="60/20/20", workers=0)
    workers = do_export(seeded_app, tmp_path / "workers", split="60/20/20", workers=2)
    for name in ("data.jsonl", "train.jsonl", "dev.jsonl", "test.jsonl", "records.index"):
        assert (here.path / name).read_bytes() == (workers.path / name).read_bytes(), name
    for key in ("records_sha256", "counts", "annotators", "split", "documents"):
        assert here.manifest[key] == workers.manifest[key], key


def test_invalid_record_in_a_worker_is_refused_and_nothing_published(seeded_app, tmp_path, small_chunks):
    with get_db(seeded_app).writing() as s:
        s.execute(update(Suggestion).where(Suggestion.id == 3).values(end=10**6))
    with pytest.raises(ExportError, match="outside the text"):
        do_export(seeded_app, tmp_path, workers=2)
    assert [p.name for p in (tmp_path / "exports" / "suggestions").iterdir() if p.name != ".lock"] == []


@pytest.mark.parametrize("workers", [0, 2])
def test_stored_tokens_outside_the_text_are_refused(seeded_app, tmp_path, small_chunks, workers):
    from annotator.tokens import pack

    with get_db(seeded_app).writing() as s:
        doc = s.exec(select(Document).order_by(Document.id)).scalars().first()
        doc.tokens = pack([(0, 3), (5, len(doc.text) + 1)])
    with pytest.raises(ExportError, match="token offsets outside the text"):
        do_export(seeded_app, tmp_path, workers=workers)


def test_worker_count(seeded_app, tmp_path):
    from annotator.export.chunks import PARALLEL_MIN_DOCUMENTS, worker_count

    db = get_db(seeded_app)
    assert worker_count(None, 5, db, in_process=False) == 0  # too small to be worth it
    assert worker_count(None, PARALLEL_MIN_DOCUMENTS, db, in_process=False) in (0, 2, 3, 4)
    assert worker_count(2, 5, db, in_process=True) == 0  # a format writer needs the records here
    assert worker_count(1, 5, db, in_process=False) == 0
    assert worker_count(2, 5, db, in_process=False) == 2
    memory = make_test_app(tmp_path / "memory", url="sqlite://")
    assert worker_count(2, 5, get_db(memory), in_process=False) == 0  # workers could not see it


def test_worker_processes_on_sqlite_and_postgresql(any_app, tmp_path, small_chunks):
    rows = [
        {
            "text": f"Document {i}: Huawei shipped {i * 1000 + 7} Ascend 910C chips in 2024.",
            "spans": [{"start": 0, "end": 8, "label": "PRODUCT"}],
        }
        for i in range(7)
    ]
    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert import_paths(get_db(any_app), [str(src)], labels_of(any_app), None).new == 7
    here = do_export(any_app, tmp_path / "here", workers=0)
    workers = do_export(any_app, tmp_path / "workers", workers=2)
    assert (here.path / "data.jsonl").read_bytes() == (workers.path / "data.jsonl").read_bytes()
    assert workers.manifest["documents"] == 7 and workers.manifest["counts"]["spans"] == {"PRODUCT": 7}


def test_annotator_validate_accepts_an_export_and_names_a_broken_record(seeded_app, tmp_path):
    from annotator.export.validation import validate_file

    result = do_export(seeded_app, tmp_path)
    assert validate_file(result.path / "data.jsonl") == ([], 5)
    records = read_records(result.path / "data.jsonl")
    records[1]["spans"][0]["text"] += "!"
    records[3]["spans"][0]["label"] = ""
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    problems, count = validate_file(broken)
    assert count == 5 and [(p["line"], p["message"].split(":")[0]) for p in problems] == [
        (2, "$.spans[0].text"),
        (4, "$.spans[0].label"),
    ]


# --- unchanged, told without building (export/up_to_date.py) ---------------------------------


@pytest.fixture
def builds(monkeypatch):
    """How many exports built their records: each call of produce_chunks, counted and run."""
    import annotator.export.publish as publish

    calls = []
    real = publish.produce_chunks

    def counted(*args, **kw):
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(publish, "produce_chunks", counted)
    return calls


def test_an_unchanged_project_is_answered_without_building_a_record(seeded_app, tmp_path, builds):
    first = do_export(seeded_app, tmp_path)
    again = do_export(seeded_app, tmp_path)
    assert len(builds) == 1, "the second export built its records again"
    assert again.unchanged and again.version == "v1.0.0" and again.path is None and not again.built
    assert again.manifest == orjson.loads((first.path / "manifest.json").read_bytes())
    with get_db(seeded_app).writing() as s:  # a save through the models: built, a patch version
        span_of = s.exec(select(Suggestion).where(Suggestion.id == 1)).scalar_one()
        span_of.score = 0.25
    patched = do_export(seeded_app, tmp_path)
    assert len(builds) == 2 and patched.version == "v1.0.1" and patched.manifest["changes"]["modified"] == 1
    assert do_export(seeded_app, tmp_path).unchanged and len(builds) == 2
    rebuilt = do_export(seeded_app, tmp_path, rebuild=True)  # asked to check everything: it does
    assert len(builds) == 3 and rebuilt.unchanged and rebuilt.version == "v1.0.1" and rebuilt.built


def test_a_change_undone_is_checked_in_full_once_and_then_known(seeded_app, tmp_path, builds):
    do_export(seeded_app, tmp_path)
    for score in (0.5, None):  # changed and changed back: the same data, a new mark
        with get_db(seeded_app).writing() as s:
            s.execute(update(Suggestion).where(Suggestion.id == 1).values(score=score))
    assert do_export(seeded_app, tmp_path).unchanged and len(builds) == 2
    assert do_export(seeded_app, tmp_path).unchanged and len(builds) == 2  # that check was kept


@pytest.mark.parametrize("what", ["missing", "unreadable", "other version", "older tool", "other format", "split"])
def test_whatever_the_record_of_the_last_check_lacks_sends_the_export_through_the_full_check(
    seeded_app, tmp_path, builds, monkeypatch, what
):
    first = do_export(seeded_app, tmp_path)
    folder = tmp_path / "exports" / "suggestions"
    checked = folder / CHECKED_FILE
    kw = {}
    if what == "missing":  # a crash between publishing and recording it
        checked.unlink()
    elif what == "unreadable":
        checked.write_bytes(b'{"data": ')
    elif what == "other version":  # a record left from before the latest version
        checked.write_bytes(checked.read_bytes().replace(b'"v1.0.0"', b'"v0.9.0"'))
    elif what == "older tool":
        monkeypatch.setattr("annotator.export.up_to_date.__version__", "0.0.1")
    elif what == "other format":
        kw["fmt"] = "conll"
    else:
        kw["split"] = "80/10/10"
    again = do_export(seeded_app, tmp_path, **kw)
    assert len(builds) == 2
    if what == "other format":
        assert again.added_format and again.version == "v1.0.0"
    elif what == "split":
        assert again.version == "v1.1.0"
    else:
        assert again.unchanged and again.version == "v1.0.0" and again.manifest == first.manifest
    assert orjson.loads(checked.read_bytes())["version"] == again.version  # recorded for the next one
    do_export(seeded_app, tmp_path, **kw)
    assert len(builds) == 2  # known now


def test_another_project_writing_into_the_same_folder_is_checked_in_full(seeded_app, seeded_template, tmp_path, builds):
    import shutil

    do_export(seeded_app, tmp_path)
    other = tmp_path / "other"
    (other / "instance").mkdir(parents=True)
    # a copy of the project (its rows and its mark), changed there: a mark of its own from then on
    shutil.copy(seeded_template, other / "instance" / "annotator.sqlite3")
    app = make_test_app(other)
    with get_db(app).writing() as s:
        s.execute(update(Document).values(meta={"copied": True}))
    try:
        result = export(get_db(app), labels_of(app), "suggestions", out_dir=tmp_path / "exports")
    finally:
        get_db(app).dispose()
    assert len(builds) == 2 and not result.unchanged and result.version == "v1.0.1"


def test_unchanged_at_once_on_both_databases(any_app, tmp_path, builds):
    src = tmp_path / "two.jsonl"
    src.write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in ("Huawei shipped 10,000 chips.", "Yields rose 5 %."))
    )
    import_paths(get_db(any_app), [str(src)], labels_of(any_app), None)
    first = do_export(any_app, tmp_path)
    again = do_export(any_app, tmp_path)
    assert (first.version, again.version, again.unchanged, again.built, len(builds)) == (
        "v1.0.0",
        "v1.0.0",
        True,
        False,
        1,
    )
    with get_db(any_app).writing() as s:  # a document's metadata: every record is built again
        s.execute(update(Document).where(Document.id == 1).values(meta={"desk": "wire"}))
    changed = do_export(any_app, tmp_path)
    assert len(builds) == 2 and changed.version == "v1.0.1" and changed.manifest["changes"]["modified"] == 1
