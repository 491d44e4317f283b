"""Pre-highlighting under a project's own labels: gazetteer entries for labels the
configuration lacks are skipped with one warning naming them, and quantities come under the
configuration's own quantity label."""

from __future__ import annotations

import json

from tests.ingest.test_importing import write_jsonl

TEXT = "Huawei shipped the Ascend 910C with 64 GB of memory; Nvidia sells the H100."


def test_gazetteer_labels_the_configuration_lacks_are_skipped_with_one_warning(cli, tmp_path, monkeypatch):
    config = {
        "entities": [{"label": "Amount", "hotkey": "a"}, {"label": "PRODUCT", "hotkey": "p"}],
        "claims": {"quantity": "Amount"},
    }
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(path))
    result = cli("import", write_jsonl(tmp_path / "d.jsonl", [{"id": "d1", "text": TEXT}]))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, result.output
    assert "MODEL (16 patterns)" in warnings[0] and "ORG (46 patterns)" in warnings[0]
    assert "PRODUCT" not in warnings[0] and "Traceback" not in result.output
    record = json.loads(cli("show", "d1", "--json").output)
    found = {(s["label"], s["text"]) for s in record["spans"]}
    assert ("Amount", "64 GB") in found and ("PRODUCT", "H100") in found
    assert not {label for label, _ in found} - {"Amount", "PRODUCT"}  # no ORG, no MODEL, no QUANTITY
    amount = next(s for s in record["spans"] if s["label"] == "Amount")
    assert (amount["value"], amount["unit"]) == (64.0, "GB")


def test_a_scheme_without_quantities_pre_highlights_its_entities_only(cli, tmp_path, monkeypatch):
    config = {"entities": [{"label": "ORG"}, {"label": "PRODUCT"}], "relations": []}
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(path))
    assert "No quantity label" in cli("labels", "check", path).output
    result = cli("import", write_jsonl(tmp_path / "d.jsonl", [{"id": "d1", "text": TEXT}]))
    assert result.exit_code == 0, result.output
    record = json.loads(cli("show", "d1", "--json").output)
    found = {(s["label"], s["text"]) for s in record["spans"]}
    assert {("ORG", "Huawei"), ("ORG", "Nvidia"), ("PRODUCT", "H100")} <= found
    assert {label for label, _ in found} == {"ORG", "PRODUCT"} and record["claims"] == []
    exported = cli("export", "--out", tmp_path / "out", "--json")
    assert exported.exit_code == 0, exported.output


def test_a_shorter_qualifier_list_keeps_what_the_normaliser_read_and_exports(cli, tmp_path, monkeypatch):
    """`qualifiers` are the choices a scheme's claim form offers; "about 5 kg" read as approx
    stays approx, and its export is valid and imports again."""
    config = {"entities": [{"label": "Amount"}], "qualifiers": ["up_to"], "claims": {"quantity": "Amount"}}
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(path))
    text = "The parcel weighs about 5 kg and holds up to 3 litres of water."
    assert cli("import", write_jsonl(tmp_path / "d.jsonl", [{"id": "p", "text": text}])).exit_code == 0
    out = tmp_path / "out"
    exported = cli("export", "--out", out, "--json")
    assert exported.exit_code == 0, exported.output
    [data] = out.rglob("data.jsonl")
    [record] = [json.loads(line) for line in data.read_text("utf-8").splitlines()]
    assert {s["text"]: s["qualifier"] for s in record["spans"]} == {"about 5 kg": "approx", "up to 3 litres": "up_to"}
    again = cli("import", "--layer", "alice", data)
    assert again.exit_code == 0, again.output
