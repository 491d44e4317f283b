"""brat standoff: folders in (lossless), .txt + .ann out, refused whole on any bad line."""

from __future__ import annotations

import hashlib
import json
import shutil

from sqlalchemy import select

from annotator.db import get_db
from annotator.models import Document, Layer, Relation, Span
from tests.interchange import (
    DATA,
    LABELS,
    ann_lines,
    at,
    count,
    exported_files,
    our_record,
    records,
    run_export,
    run_import,
    write_jsonl,
)

BRAT = DATA / "brat"


def spans_of(app) -> list[Span]:
    with get_db(app).reading() as session:
        return session.exec(select(Span).order_by(Span.start, Span.label)).scalars().all()


def test_import_then_export_gives_the_same_files(xapp, tmp_path):
    app = xapp
    report = run_import(app, [BRAT / "basic", BRAT / "sets"], fmt="brat")
    assert report.ok, report.problems
    assert (report.files, report.stored.layers) == (3, 2)  # two annotation sets, one document
    result = run_export(app, tmp_path, fmt="brat")
    files = exported_files(result)
    originals = {p.name: p for d in ("basic", "sets") for p in (BRAT / d).iterdir()}
    assert sorted(files) == sorted(originals)
    for name, original in originals.items():
        if name.endswith(".txt"):
            assert files[name].read_bytes() == original.read_bytes()  # CRLF, emoji: byte for byte
        else:
            assert ann_lines(files[name]) == ann_lines(original), name
    # the same files with the lines in the same order, ids kept
    assert files["news-1.ann"].read_text() == (BRAT / "basic" / "news-1.ann").read_text()


def test_what_is_kept_in_span_meta(sqlite_xapp):
    app = sqlite_xapp
    assert run_import(app, [BRAT / "basic"], fmt="brat").ok
    with get_db(app).reading() as session:
        doc = session.exec(select(Document)).scalars().one()
        rels = session.exec(select(Relation).order_by(Relation.id)).scalars().all()
    assert doc.text == (BRAT / "basic" / "news-1.txt").read_bytes().decode("utf-8")  # as stored: CRLF kept
    spans = {(s.start, s.label): s for s in spans_of(app)}
    huawei = spans[(0, "ORG")]
    assert huawei.meta == {
        "brat": [
            {
                "set": "news-1",
                "id": "T1",
                "normalizations": [{"id": "N1", "type": "Reference", "ref": "Wikidata:Q160120", "text": "Huawei"}],
            }
        ]
    }
    quantity = spans[at(doc.text, "up to 800 TFLOPS")[0], "QUANTITY"]
    assert quantity.meta["brat"][0]["attributes"] == [{"id": "A2", "name": "Certainty", "value": "High"}]
    assert quantity.meta["brat"][0]["notes"] == [
        {"id": "#1", "type": "AnnotatorNotes", "text": "peak figure quoted by the vendor"}
    ]
    assert (quantity.value, quantity.unit, quantity.qualifier) == (800, "TFLOPS", "up_to")
    # brat split "Huawei\r\nTechnologies" at the line break; here it is one span again
    joined = spans[at(doc.text, "Huawei", 2)[0], "ORG"]
    assert doc.text[joined.start : joined.end] == "Huawei\r\nTechnologies"
    assert joined.meta["brat"][0]["offsets"] == "59 65;67 79"
    assert [(r.label, r.meta["brat"][0]["id"]) for r in rels] == [("MAKES", "R1"), ("COMPETES_WITH", "R2")]
    assert rels[1].meta["brat"][0]["attributes"] == [{"id": "A1", "name": "Speculative"}]
    assert rels[0].meta["brat"][0]["notes"][0]["text"] == "stated on the second line"
    emoji_after = spans[at(doc.text, "H100")[0], "PRODUCT"]
    assert doc.text[emoji_after.start : emoji_after.end] == "H100"  # offsets after the emoji are code points


def test_annotation_sets_merge_onto_one_document(sqlite_xapp):
    app = sqlite_xapp
    assert run_import(app, [BRAT / "sets"], fmt="brat").ok
    assert count(app, Document) == 1 and count(app, Layer) == 1
    chip = [s for s in spans_of(app) if s.label == "PRODUCT"]
    assert len(chip) == 1  # one span, three T lines in two files
    assert [(e["set"], e["id"]) for e in chip[0].meta["brat"]] == [
        ("review-1", "T2"),
        ("review-2", "T1"),
        ("review-2", "T3"),
    ]
    assert chip[0].meta["brat"][1]["notes"][0]["text"] == "the chip, not the card"


def test_discontinuous_annotations(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    refused = run_import(app, [BRAT / "discontinuous"], fmt="brat")
    assert [str(p) for p in refused.problems] == [
        f"{BRAT / 'discontinuous' / 'chips.ann'}:1: T1: discontinuous annotation (17 23;33 37); a span is one "
        "stretch of text here: use --split-discontinuous to store each piece as a span joined by FRAGMENT relations"
    ]
    assert count(app, Document) == 0
    report = run_import(app, [BRAT / "discontinuous"], fmt="brat", split_discontinuous=True)
    assert report.ok, report.problems
    products = [s for s in spans_of(app) if s.label == "PRODUCT"]
    assert [(s.start, s.end) for s in products] == [(17, 23), (33, 37)]
    assert products[0].meta["brat"][0]["attributes"] == [{"id": "A1", "name": "Certainty", "value": "High"}]
    assert count(app, Relation, label="FRAGMENT") == 1
    files = exported_files(run_export(app, tmp_path, fmt="brat"))
    assert ann_lines(files["chips.ann"]) == ann_lines(BRAT / "discontinuous" / "chips.ann")  # one T line again


def test_malformed_file_is_refused_whole_with_every_line_named(sqlite_xapp):
    app = sqlite_xapp
    report = run_import(app, [BRAT / "malformed", BRAT / "basic"], fmt="brat")
    bad = BRAT / "malformed" / "bad.ann"
    assert [str(p).split(": ", 1)[0] for p in report.problems] == [f"{bad}:{n}" for n in (2, 3, 4, 5, 6, 7)]
    text = "\n".join(str(p) for p in report.problems)
    for part in (
        "text 'H900' differs from the document's 'H800'",
        "offsets 10 400",
        "T9 is not a text-bound",
        "events (E lines) are not supported",
        "expected an id, a tab",
        "id T1 is used twice",
    ):
        assert part in text
    assert report.refused_files == [str(bad)] and report.stored.layers == 1  # basic/ is fine and stored
    assert count(app, Document) == 1


def test_label_map_and_unknown_names(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    report = run_import(app, [BRAT / "foreign"], fmt="brat")
    assert [str(p).rsplit(": ", 1)[0].split(": unknown ")[1].split(",")[0] for p in report.problems] == [
        "attribute 'Hedged'",
        "attribute 'Mood'",
        "entity type 'Chip'",
        "entity type 'Organization'",
        "relation type 'Manufactures'",
    ]
    partial = run_import(app, [BRAT / "foreign"], fmt="brat", label_map=BRAT / "foreign_map.json")
    assert len(partial.problems) == 1 and "'Mood'" in str(partial.problems[0])
    assert count(app, Document) == 0
    full = json.loads((BRAT / "foreign_map.json").read_text())
    full["attributes"]["Mood"] = "Certainty"
    (tmp_path / "map.json").write_text(json.dumps(full))
    assert run_import(app, [BRAT / "foreign"], fmt="brat", label_map=tmp_path / "map.json").ok
    assert [s.label for s in spans_of(app)] == ["ORG", "PRODUCT"]
    assert spans_of(app)[0].meta["brat"][0]["attributes"] == [{"id": "A2", "name": "Certainty", "value": "Neutral"}]
    (tmp_path / "wrong.json").write_text('{"entities": {"Chip": "CHIP"}}')
    import pytest

    from annotator.ingest.pipeline import ImportRequestError

    with pytest.raises(ImportRequestError, match="'CHIP'"):
        run_import(app, [BRAT / "foreign"], fmt="brat", label_map=tmp_path / "wrong.json")


def test_missing_text_and_copies_refused_together(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    folder = tmp_path / "corpus"
    shutil.copytree(BRAT / "sets", folder)
    (folder / "review-2.ann").write_text("T1\tPRODUCT 9 19\tSC11 FP301\n")
    (folder / "lonely.ann").write_text("")
    report = run_import(app, [folder], fmt="brat")
    messages = [str(p) for p in report.problems]
    assert any("lonely.ann: no lonely.txt beside it" in m for m in messages)
    assert any("review-2.ann:1: T1: text 'SC11 FP301'" in m for m in messages)
    assert any(m.startswith(f"{folder / 'review-1.ann'}: refused with") for m in messages)  # same text
    assert count(app, Document) == 0


def test_layer_made_in_the_tool_exports_as_brat_and_comes_back(xapp, tmp_path):
    """Spans across line breaks, claims as MeasEval-style relations, modifiers as attributes."""
    app = xapp
    text = "Huawei makes the Ascend\r\n910C 🚀, with up to 1.1 TB/s of memory bandwidth."
    record = our_record(text, product="Ascend\r\n910C")
    record["spans"][1].pop("meta")
    assert run_import(app, [write_jsonl(tmp_path / "a.jsonl", [record])]).ok
    result = run_export(app, tmp_path, fmt="brat")
    [ann] = [p for p in exported_files(result).values() if p.suffix == ".ann"]
    lines = ann_lines(ann)
    assert "T2\tPRODUCT 17 23;25 29\tAscend 910C" in lines  # split at the line break, as brat does
    assert "R2\tHAS_QUANTITY Arg1:T4 Arg2:T3" in lines and "R3\tHAS_PROPERTY Arg1:T2 Arg2:T4" in lines
    assert "A1\tIsApproximate T3" in lines
    assert result.manifest["brat"]["claim_links_written_as_relations"] == 2
    assert run_import(app, [result.path / "brat"], layer="bob", fmt="brat").ok
    [bob], [alice] = records(run_export(app, tmp_path, "bob")), records(run_export(app, tmp_path, "alice"))
    assert {(s["start"], s["end"], s["label"]) for s in bob["spans"]} == {
        (s["start"], s["end"], s["label"]) for s in alice["spans"]
    }
    assert bob["claims"] == alice["claims"]  # read back from the links and the modifier attribute
    again = run_export(app, tmp_path, "bob", fmt="brat")  # the links are bob's relations now: nothing added
    assert [ann_lines(p) for p in exported_files(again).values() if p.suffix == ".ann"] == [lines]


def test_cli_round_trip_and_published_listing(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(LABELS))
    result = cli("import", "--layer", "alice", "--format", "brat", "--no-prehighlight", BRAT / "basic", BRAT / "sets")
    assert result.exit_code == 0, result.output
    assert "stored 2 documents from 3 files" in result.output
    out = tmp_path / "out"
    result = cli("export", "--layer", "alice", "--format", "brat", "--out", out, "--json")
    assert result.exit_code == 0, result.output
    manifest = json.loads(result.output)["manifest"]
    version = out / "alice" / "v1.0.0"
    assert manifest["format"] == "brat" and manifest["files"]["brat/"]["files"] == 6
    for line in (version / "brat.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((version / name).read_bytes()).hexdigest() == digest
    assert (
        manifest["files"]["brat.sha256"]["sha256"] == hashlib.sha256((version / "brat.sha256").read_bytes()).hexdigest()
    )
    assert not (version / "brat" / "news-1.ann").stat().st_mode & 0o222  # published: read-only
    again = cli("export", "--layer", "alice", "--format", "brat", "--out", out)
    assert "Unchanged since v1.0.0" in again.output
    result = cli("import", "--layer", "alice", "--format", "brat", BRAT / "malformed")
    assert result.exit_code == 1 and "bad.ann:2: T2: text 'H900'" in result.output


def test_split_exports_one_folder_per_part(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    assert run_import(
        app, [BRAT / "basic", BRAT / "sets", BRAT / "discontinuous"], fmt="brat", split_discontinuous=True
    ).ok
    result = run_export(app, tmp_path, fmt="brat", split="1/1/1")
    parts = {p.parent.name for p in (result.path / "brat").rglob("*.ann")}
    assert parts <= {"train", "dev", "test"} and len(list((result.path / "brat").rglob("*.ann"))) == 4


def test_empty_files_and_relation_tails_come_back_and_a_second_import_changes_nothing(sqlite_xapp, tmp_path):
    """An empty .ann (a text nobody annotated) comes back under its own name, empty; an R
    line keeps the tab brat writes after its arguments; importing the same folder again
    leaves every layer, the empty one too, at its version."""
    app, folder = sqlite_xapp, tmp_path / "corpus"
    folder.mkdir()
    (folder / "blank.txt").write_text("Nothing was marked in this text.\n", encoding="utf-8")
    (folder / "blank.ann").write_text("", encoding="utf-8")
    (folder / "chips.txt").write_text("Huawei makes the Ascend 910C.\n", encoding="utf-8")
    (folder / "chips.ann").write_text(
        "T1\tORG 0 6\tHuawei\nT2\tPRODUCT 17 28\tAscend 910C\nR1\tMAKES Arg1:T1 Arg2:T2\t\n", encoding="utf-8"
    )
    assert run_import(app, [folder], fmt="brat").ok
    files = exported_files(run_export(app, tmp_path, fmt="brat"))
    assert sorted(files) == ["blank.ann", "blank.txt", "chips.ann", "chips.txt"]
    assert files["blank.ann"].read_bytes() == b""
    assert files["chips.ann"].read_bytes() == (folder / "chips.ann").read_bytes()
    with get_db(app).reading() as s:
        before = dict(s.exec(select(Layer.document_id, Layer.version)).all())
    again = run_import(app, [folder], fmt="brat")
    assert again.ok and again.stored.layers == 0
    with get_db(app).reading() as s:
        assert dict(s.exec(select(Layer.document_id, Layer.version)).all()) == before
