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
