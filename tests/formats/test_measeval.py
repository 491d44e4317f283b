"""MeasEval TSV: one claim per annotation set in, the same rows out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select

import annotator
from annotator.db import get_db
from annotator.models import Claim, Document
from tests.conftest import make_test_app
from tests.interchange import DATA, LABELS, TEXT, at, count, our_record, records, run_export, run_import, write_jsonl

MEASEVAL = DATA / "measeval"


def rows(path) -> list[str]:
    return sorted(line for line in path.read_text(encoding="utf-8").split("\n")[1:] if line)


def test_import_then_export_gives_the_same_rows(xapp, tmp_path):
    app = xapp
    report = run_import(app, [MEASEVAL / "tsv"], fmt="measeval")
    assert report.ok, report.problems
    assert (report.stored.layers, report.stored.claims) == (2, 6)
    result = run_export(app, tmp_path, fmt="measeval")
    out = result.path / "measeval"
    assert sorted(p.name for p in (out / "tsv").iterdir()) == ["S0001-7.tsv", "S0002-3.tsv"]
    for tsv in (MEASEVAL / "tsv").iterdir():
        exported = out / "tsv" / tsv.name
        assert exported.read_text(encoding="utf-8").split("\n")[0] == tsv.read_text(encoding="utf-8").split("\n")[0]
        assert rows(exported) == rows(tsv), tsv.name
        text = MEASEVAL / "text" / tsv.with_suffix(".txt").name
        assert (out / "text" / text.name).read_bytes() == text.read_bytes()  # CRLF kept
    assert result.manifest["measeval"]["rows"] == 17 and result.manifest["measeval"]["rows_with_new_ids"] == 0


def test_claims_values_and_ids(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    assert run_import(app, [MEASEVAL / "tsv" / "S0001-7.tsv"], fmt="measeval", text_dir=MEASEVAL / "text").ok
    [record] = records(run_export(app, tmp_path))
    spans = {s["id"]: s for s in record["spans"]}
    by_set = {c["meta"]["measeval"]["set"]: c for c in record["claims"]}
    assert sorted(by_set) == ["1", "2", "3", "4"]
    c2 = by_set["2"]
    q = spans[c2["quantity"]]
    assert (q["text"], q["value"], q["value_max"], q["unit"]) == ("0.2 to 1.2 mW m−2", 0.2, 1.2, "mW/m²")
    assert q["meta"]["unit_text"] == "mW m−2" and c2["modifiers"] == ["IsRange"]
    assert spans[c2["entity"]]["text"] == "electron" and spans[c2["property"]["span"]]["text"] == "energy flux"
    assert spans[c2["condition"]]["label"] == "CONDITION" and spans[c2["condition"]]["text"] == "increasing"
    qualifier = spans[c2["condition"]]["meta"]["measeval"][0]
    assert qualifier == {
        "doc": "S0001-7",
        "set": "2",
        "id": "T4-2",
        "type": "Qualifier",
        "other": '{"Qualifies": "T2-2"}',
        "qualifies": "T2-2",
    }
    # "field strength" is the measured entity of sets 1 and 3: one span, two rows
    shared = spans[by_set["1"]["entity"]]
    assert by_set["3"]["entity"] == by_set["1"]["entity"] and [e["id"] for e in shared["meta"]["measeval"]] == [
        "T2-1",
        "T2-3",
    ]
    assert spans[by_set["4"]["quantity"]]["qualifier"] == "approx" and by_set["4"]["modifiers"] == ["IsApproximate"]
    links = {(spans[r["head"]]["text"], r["label"], spans[r["child"]]["text"]) for r in record["relations"]}
    assert ("increasing", "QUALIFIES", "energy flux") in links and ("electron", "HAS_PROPERTY", "energy flux") in links
    assert ("energy flux", "HAS_QUANTITY", "0.2 to 1.2 mW m−2") in links and len(links) == 8


def test_malformed_file_is_refused_whole(sqlite_xapp):
    app = sqlite_xapp
    report = run_import(app, [MEASEVAL / "bad" / "tsv", MEASEVAL / "tsv"], fmt="measeval")
    bad = MEASEVAL / "bad" / "tsv" / "B-1.tsv"
    messages = [str(p) for p in report.problems]
    expected = [
        (4, "text '6 hours' differs"),
        (5, "'other' is not JSON"),
        (6, "annotation set 3 has 2 Quantity rows"),
        (8, "annotType 'Unit'"),
        (9, "Qualifies names 'T9-1'"),
        (10, "unknown mods ['IsVague']"),
        (11, "expected 8 tab-separated columns, got 4"),
    ]
    assert len(messages) == len(expected)
    for message, (line, part) in zip(messages, expected):
        assert message.startswith(f"{bad}:{line}: ") and part in message, message
    assert report.refused_files == [str(bad)] and report.stored.layers == 2  # the good files still go in
    assert count(app, Document) == 2


def test_texts_are_looked_up_and_missing_ones_named(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    folder = tmp_path / "flat"
    folder.mkdir()
    shutil.copy(MEASEVAL / "tsv" / "S0002-3.tsv", folder)
    report = run_import(app, [folder], fmt="measeval")
    assert "no text S0002-3.txt" in str(report.problems[0]) and str(report.problems[0]).startswith(
        f"{folder / 'S0002-3.tsv'}:2:"
    )
    shutil.copy(MEASEVAL / "text" / "S0002-3.txt", folder)  # beside the TSV is the first place looked at
    assert run_import(app, [folder], fmt="measeval").ok


def test_shipped_labels_hold_measeval_and_missing_names_are_listed_at_once(tmp_path):
    """The shipped label configuration knows MeasEval's names; a configuration that does not
    gets every missing name listed at once, and nothing is stored."""
    app = make_test_app(tmp_path / "shipped")
    assert run_import(app, [MEASEVAL / "tsv"], fmt="measeval").ok
    assert count(app, Document) > 0
    get_db(app).dispose()
    config = json.loads((Path(annotator.__file__).parent / "data" / "labels.json").read_text())
    config["entities"] = [e for e in config["entities"] if e["label"] != "ENTITY"]
    config["relations"] = [
        r for r in config["relations"] if r["label"] not in ("HAS_QUANTITY", "HAS_PROPERTY", "QUALIFIES")
    ]
    for part in ("entity", "has_quantity", "has_property", "qualifies"):  # the scheme has no such parts now
        del config["claims"][part]
    reduced = tmp_path / "reduced.json"
    reduced.write_text(json.dumps(config))
    app = make_test_app(tmp_path / "reduced", LABELS_FILE=str(reduced))
    report = run_import(app, [MEASEVAL / "tsv"], fmt="measeval")
    messages = "\n".join(str(p) for p in report.problems)
    for name in (
        "entity type 'MeasuredEntity'",
        "relation type 'HasQuantity'",
        "relation type 'HasProperty'",
        "relation type 'Qualifies'",
    ):
        assert name in messages
    assert len(report.problems) == 4 and count(app, Document) == 0
    get_db(app).dispose()


def test_claims_made_in_the_tool_get_new_sets(xapp, tmp_path):
    app = xapp
    assert run_import(app, [write_jsonl(tmp_path / "a.jsonl", [our_record()])]).ok
    result = run_export(app, tmp_path, fmt="measeval")
    [tsv] = (result.path / "measeval" / "tsv").iterdir()
    lines = tsv.read_text(encoding="utf-8").splitlines()[1:]
    where = lambda part: [str(x) for x in at(TEXT, part)]  # noqa: E731
    assert [line.split("\t")[2:6] for line in lines] == [
        ["Quantity", *where("up to 1.1 TB/s"), "T1-1"],
        ["MeasuredProperty", *where("memory bandwidth"), "T2-1"],
        ["MeasuredEntity", *where("Ascend 910C"), "T3-1"],
    ]
    assert [json.loads(line.split("\t")[7]) for line in lines] == [
        {"unit": "TB/s", "mods": ["IsApproximate"]},
        {"HasQuantity": "T1-1"},
        {"HasProperty": "T2-1"},
    ]
    assert result.manifest["measeval"]["rows_with_new_ids"] == 3
    # and back: the same claim, now with its MeasEval ids
    assert run_import(app, [result.path / "measeval" / "tsv"], layer="bob", fmt="measeval").ok
    [alice] = records(run_export(app, tmp_path, "alice"))
    [bob] = records(run_export(app, tmp_path, "bob"))
    assert len(bob["claims"]) == 1 and bob["claims"][0]["modifiers"] == ["IsApproximate"]
    key = lambda r, sid: next((s["start"], s["end"]) for s in r["spans"] if s["id"] == sid)  # noqa: E731
    for role in ("quantity", "entity"):
        assert key(alice, alice["claims"][0][role]) == key(bob, bob["claims"][0][role])


def test_edits_after_import_rebuild_other(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    assert run_import(app, [MEASEVAL / "tsv" / "S0002-3.tsv"], fmt="measeval").ok
    with get_db(app).writing() as session:
        claim = next(c for c in session.exec(select(Claim)).scalars() if c.meta["measeval"]["set"] == "2")
        claim.modifiers = ["IsMean"]
        session.add(claim)
    tsv = run_export(app, tmp_path, fmt="measeval").path / "measeval" / "tsv" / "S0002-3.tsv"
    changed = [line for line in rows(tsv) if "\tT1-2\t" in line]
    assert changed == ['S0002-3\t2\tQuantity\t55\t67\tT1-2\t2.5 ± 0.3 kg\t{"mods": ["IsMean"], "unit": "kg"}']


def test_cli(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(LABELS))
    result = cli(
        "import",
        "--layer",
        "alice",
        "--format",
        "measeval",
        "--text-dir",
        MEASEVAL / "text",
        "--no-prehighlight",
        MEASEVAL / "tsv",
    )
    assert result.exit_code == 0, result.output
    assert "(16 spans, 11 relations, 6 claims)" in result.output
    result = cli("export", "--layer", "alice", "--format", "measeval", "--out", tmp_path / "out")
    assert result.exit_code == 0 and "Wrote" in result.output
    assert cli("import", "--layer", "alice", "--text-dir", MEASEVAL / "text", MEASEVAL / "tsv").exit_code == 1
    assert cli("import", "--text-dir", MEASEVAL / "text", MEASEVAL / "tsv").exit_code == 2
