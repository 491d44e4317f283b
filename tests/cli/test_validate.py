"""`annotator validate`: one line for a file that is not JSON Lines, repeated problems
counted, empty files refused as import refuses them, labels held to the configuration."""

from __future__ import annotations

import json

from annotator import config
from annotator.labels import load_label_config

TEXT = "Huawei makes chips."
DEFAULT_LABELS = ", ".join(load_label_config(config.load()["LABELS_FILE"]).entities)


def record(spans=None, relations=None, text=TEXT, **extra) -> dict:
    """A record the default configuration's schema accepts: ORG makes PRODUCT."""
    spans = spans or [span("s1", 0, 6, "ORG"), span("s2", 13, 18, "PRODUCT")]
    relations = relations if relations is not None else [{"id": "r1", "head": "s1", "child": "s2", "label": "MAKES"}]
    out = {
        "id": "d1",
        "text": text,
        "lang": "en",
        "meta": {},
        "tokens": [],
        "spans": spans,
        "relations": relations,
        "claims": [],
        "layer": "gold",
        "annotators": ["alice"],
    }
    return {**out, **extra}


def span(sid: str, start: int, end: int, label: str, text: str = TEXT, **values) -> dict:
    return {
        "id": sid,
        "start": start,
        "end": end,
        "label": label,
        "text": text[start:end],
        "origin": "manual",
        **values,
    }


def write_jsonl(path, records) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def problem_lines(result) -> list[str]:
    return result.stderr.splitlines()


def test_a_good_file_passes(cli, tmp_path):
    good = tmp_path / "good.jsonl"
    write_jsonl(good, [record(), record(id="d2")])
    result = cli("validate", good)
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout == "2 record(s) checked, 0 invalid.\n"


def test_one_json_document_is_named_in_one_line_with_how_to_convert_it(cli, tmp_path):
    array = tmp_path / "data.jsonl"
    array.write_text(json.dumps([record(id=f"d{i}") for i in range(359)], indent=2))
    result = cli("validate", array)
    assert result.exit_code == 1
    assert problem_lines(result) == [
        f"{array}: this is one JSON document (an array of 359 items), not JSON Lines (one record per line); "
        f"convert it with one item per line: jq -c '.[]' {array} > {tmp_path / 'data-lines.jsonl'}"
    ]
    assert result.stdout == "0 record(s) checked, 0 invalid; 1 file(s) gave no records to check.\n"
    # an array on a single line is one document too; a pretty-printed object is named as one
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps([record(), record()]))
    assert problem_lines(cli("validate", flat)) == [
        f"{flat}: this is one JSON document (an array of 2 items), not JSON Lines (one record per line); "
        f"convert it with one item per line: jq -c '.[]' {flat} > {tmp_path / 'flat.jsonl'}"
    ]
    obj = tmp_path / "one.json"
    obj.write_text(json.dumps(record(), indent=2))
    result = cli("validate", "--json", obj)
    assert result.exit_code == 1
    [found] = json.loads(result.stdout)["problems"]
    assert found["line"] is None and found["message"].startswith(
        "this is one JSON document (an object), not JSON Lines (one record per line); "
        f"convert it with if it is one record, put it on one line: jq -c . {obj} >"
    )


def test_broken_json_that_is_no_document_is_checked_line_by_line(cli, tmp_path):
    """Starting with { but not parsing as a whole: not taken for one document."""
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{\n" + json.dumps(record()) + "\n")
    result = cli("validate", broken)
    assert result.exit_code == 1
    assert problem_lines(result) == [
        f"{broken}:1: malformed JSON: unexpected end of data at column 2",
    ]
    assert result.stdout == "2 record(s) checked, 1 invalid.\n"


def test_a_problem_on_many_lines_is_shown_five_times_then_counted(cli, tmp_path):
    records = [record(id=f"d{i}") for i in range(360)]
    for r in records:
        del r["tokens"]
    for r in records[:3]:  # a second problem, on fewer lines than the cap: every line shown
        r["spans"][0]["origin"] = "guess"
    # the same unknown label at a different index is the same problem
    records[10]["spans"].insert(0, span("s9", 7, 12, "GADGET"))
    records[11]["spans"].append(span("s9", 7, 12, "GADGET"))
    data = tmp_path / "data.jsonl"
    write_jsonl(data, records)
    result = cli("validate", data)
    assert result.exit_code == 1
    missing = "$: 'tokens' is a required property"
    origin = "$.spans[0].origin: 'guess' is not one of ['model', 'pattern', 'gazetteer', 'import', 'manual']"
    unknown = (
        f"unknown span label 'GADGET'; known: {DEFAULT_LABELS} (label configuration {config.load()['LABELS_FILE']})"
    )
    assert problem_lines(result) == [
        *(f"{data}:{n}: {problem}" for n in range(1, 4) for problem in (missing, origin)),
        f"{data}:4: {missing}",
        f"{data}:5: {missing}",
        f"{data}:11: $.spans[0].label: {unknown}",
        f"{data}:12: $.spans[2].label: {unknown}",
        f"{data}: ... and 355 more lines with the same problem: {missing}",
    ]
    assert result.stdout == "360 record(s) checked, 360 invalid.\n"
    # --json keeps every problem and counts each one
    report = json.loads(cli("validate", "--json", data).stdout)
    assert report["valid"] is False and report["records"] == 360
    assert len(report["problems"]) == 360 + 3 + 2
    assert report["summary"] == [
        {"file": str(data), "problem": missing, "lines": 360},
        {"file": str(data), "problem": origin.replace("[0]", "[*]"), "lines": 3},
        {"file": str(data), "problem": f"$.spans[*].label: {unknown}", "lines": 2},
    ]


def test_an_empty_file_is_refused_as_import_refuses_it(cli, tmp_path):
    empty, blank = tmp_path / "empty.jsonl", tmp_path / "blank.jsonl"
    empty.write_bytes(b"")
    blank.write_text("\n  \n\t\n")
    result = cli("validate", empty, blank)
    assert result.exit_code == 1
    assert problem_lines(result) == [f"{empty}: no records in file", f"{blank}: no records in file"]
    assert result.stdout == "0 record(s) checked, 0 invalid; 2 file(s) gave no records to check.\n"
    report = json.loads(cli("validate", "--json", empty).stdout)
    assert report["problems"] == [{"file": str(empty), "line": None, "message": "no records in file"}]
    # the import's words for the same file
    imported = cli("import", "--no-prehighlight", "--db", f"sqlite:///{tmp_path / 'p.sqlite3'}", empty)
    assert imported.exit_code == 1 and f"{empty}: no records in file" in imported.output


def test_labels_are_held_to_the_projects_configuration(cli, tmp_path):
    where = f"known: {DEFAULT_LABELS} (label configuration {config.load()['LABELS_FILE']})"
    data = tmp_path / "data.jsonl"
    write_jsonl(
        data,
        [
            record(),
            record(spans=[span("s1", 0, 6, "Organisation"), span("s2", 13, 18, "PRODUCT")], relations=[]),
            record(relations=[{"id": "r1", "head": "s1", "child": "s2", "label": "BUILDS"}]),
            record(relations=[{"id": "r1", "head": "s2", "child": "s1", "label": "MAKES"}]),
        ],
    )
    result = cli("validate", data)
    assert result.exit_code == 1
    lines = problem_lines(result)
    assert lines[0] == f"{data}:2: $.spans[0].label: unknown span label 'Organisation'; {where}"
    assert lines[1].startswith(f"{data}:3: $.relations[0].label: unknown relation label 'BUILDS'; known: MAKES, USES")
    assert lines[2:] == [
        f"{data}:4: $.relations[0]: relation MAKES is not allowed from PRODUCT to ORG (allowed: ORG->PRODUCT)"
    ]
    assert result.stdout == "4 record(s) checked, 3 invalid.\n"


def test_labels_are_held_to_the_configuration_given(cli, tmp_path):
    labels = tmp_path / "measeval.json"
    labels.write_text(
        json.dumps(
            {
                "entities": [{"label": "Quantity"}, {"label": "MeasuredEntity"}],
                "relations": [{"label": "HasQuantity", "pairs": [["MeasuredEntity", "Quantity"]]}],
                "claims": {"quantity": "Quantity", "entity": "MeasuredEntity", "has_quantity": "HasQuantity"},
            }
        )
    )
    text = "The tank holds 5 l of water."
    quantity = span("s1", 15, 18, "Quantity", text, value=5, unit="l", qualifier=None)
    tank = span("s2", 4, 8, "MeasuredEntity", text)
    has = {"id": "r1", "head": "s2", "child": "s1", "label": "HasQuantity"}
    good, bad = tmp_path / "measeval.jsonl", tmp_path / "default.jsonl"
    write_jsonl(good, [record([quantity, tank], [has], text)])
    write_jsonl(bad, [record(), record([quantity, tank], [{**has, "label": "MAKES"}], text)])
    assert cli("validate", good).exit_code == 1  # the project's (default) labels have neither
    result = cli("validate", "--labels-config", labels, good)
    assert result.exit_code == 0 and result.stdout == "1 record(s) checked, 0 invalid.\n"
    result = cli("validate", "--labels-config", labels, bad)
    assert result.exit_code == 1
    known = f"(label configuration {labels})"
    assert problem_lines(result) == [
        f"{bad}:1: $.spans[0].label: unknown span label 'ORG'; known: Quantity, MeasuredEntity {known}",
        f"{bad}:1: $.spans[1].label: unknown span label 'PRODUCT'; known: Quantity, MeasuredEntity {known}",
        f"{bad}:1: $.relations[0].label: unknown relation label 'MAKES'; known: HasQuantity {known}",
        f"{bad}:2: $.relations[0].label: unknown relation label 'MAKES'; known: HasQuantity {known}",
    ]


def test_malformed_input_is_named_by_file_and_line(cli, tmp_path):
    good = json.dumps(record())
    not_utf8 = tmp_path / "latin1.jsonl"
    not_utf8.write_bytes(good.encode() + b"\n" + good.replace("Huawei", "Hu\xe9wei").encode("latin-1") + b"\n")
    result = cli("validate", not_utf8)
    assert result.exit_code == 1
    offset = len(good) + 1 + good.index("Huawei") + 2
    assert problem_lines(result) == [
        f"{not_utf8}:2: not UTF-8: byte 0xe9 at offset {offset} (convert the file to UTF-8 first)"
    ]
    assert result.stdout == "0 record(s) checked, 0 invalid; 1 file(s) gave no records to check.\n"
    huge = "x" * 5_000_000
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        "\n".join([good, "not json", json.dumps(huge), huge, "[" * 5000 + "]" * 5000, json.dumps(record(meta=huge))])
        + "\n"
    )
    result = cli("validate", mixed)
    assert result.exit_code == 1
    lines = problem_lines(result)
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{mixed}:2", "malformed JSON"],
        [f"{mixed}:3", "$"],
        [f"{mixed}:4", "malformed JSON"],
        [f"{mixed}:5", "malformed JSON"],
        [f"{mixed}:6", "$.meta"],
    ]
    assert lines[1].endswith("…") and all(len(line) < 400 for line in lines)
    assert result.stdout == "6 record(s) checked, 5 invalid.\n"


def test_help_ends_with_an_example(cli):
    result = cli("validate", "--help")
    assert result.exit_code == 0
    text = result.output.split("Options:")[0].rstrip()
    assert text.endswith("Example:\n\n    annotator validate exports/gold/latest/data.jsonl")
