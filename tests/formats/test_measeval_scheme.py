"""A research group's own corpus under its own names: MeasEval's trial split, as two
annotators' brat folders and as its TSVs, under the MeasEval label configuration shipped in
docs/examples. What goes in comes back file by file, agreement equals an independent count
per label, and every export format is published under that scheme."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.export.validation import validate_file
from annotator.schema import record_schema
from tests.support.measeval_corpus import (
    compare_brat_folders,
    compare_measeval_folders,
    require_measeval,
    span_f1_per_label,
    write_brat_corpus,
)

SCHEME = Path(__file__).resolve().parents[2] / "docs" / "examples" / "measeval-labels.json"


@pytest.fixture
def measeval_cli(cli, tmp_path, monkeypatch):
    """`annotator ...` on a project under the MeasEval scheme; returns (run, db url)."""
    monkeypatch.setenv("ANNOTATOR_LABELS_FILE", str(SCHEME))
    url = f"sqlite:///{tmp_path / 'measeval.db'}"

    def run(*args):
        result = cli(*args[:1], "--db", url, *args[1:])
        assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture(scope="module")
def trial():
    return require_measeval() / "trial"


def exported(out: Path, name: str, kind: str) -> Path:
    [version] = sorted((out / name).glob("v*"))
    return version / kind


def manifest_of(version: Path) -> dict:
    return json.loads((version / "manifest.json").read_text("utf-8"))


def test_two_annotators_brat_folders_come_back_line_for_line(measeval_cli, trial, tmp_path):
    folders = {}
    for n in (1, 2):
        folders[n] = tmp_path / f"a{n}"
        summary = write_brat_corpus(trial, folders[n], annotator=n, seed=0)
        assert summary["documents"] > 20
        measeval_cli("import", "--layer", f"ann{n}", "--format", "brat", "--split-discontinuous", "--done", folders[n])
    # a discontinuous entity is there to be joined again (the corpus cuts a few)
    assert any(";" in line for ann in folders[1].glob("*.ann") for line in ann.read_text("utf-8").splitlines())
    out = tmp_path / "exports"
    for n in (1, 2):
        report = json.loads(
            measeval_cli("export", "--layer", f"ann{n}", "--format", "brat", "--out", out, "--json").output
        )
        assert report["manifest"]["format"] == "brat"
        assert compare_brat_folders(folders[n], exported(out, f"ann{n}", "brat")) == []
    # agreement under MeasEval's own names equals a count made without the package
    iaa = json.loads(measeval_cli("iaa", "--format", "json").output)
    [pair] = iaa["pairs"]
    ours = pair["span_f1"]["exact"]
    independent = span_f1_per_label(folders[1], folders[2])
    assert set(ours["per_label"]) == set(independent) - {"micro"} >= {"Quantity", "MeasuredEntity", "Unit"}
    for label, figures in ours["per_label"].items():
        expected = independent[label]
        assert (figures["a"], figures["b"], figures["matched"]) == (expected["a"], expected["b"], expected["matched"])
        assert figures["f1"] == pytest.approx(expected["f1"]), label
    micro = independent["micro"]
    assert (ours["micro"]["a"], ours["micro"]["b"], ours["micro"]["matched"]) == (
        micro["a"],
        micro["b"],
        micro["matched"],
    )
    assert 0 < ours["micro"]["f1"] < 1  # annotator 2 differs on purpose
    assert pair["claims"]["a"] > 0 and pair["claims"]["full"] < pair["claims"]["a"]


def test_tsvs_round_trip_and_every_format_publishes_under_the_scheme(measeval_cli, trial, tmp_path):
    measeval_cli("import", "--layer", "alice", "--format", "measeval", "--no-prehighlight", trial / "tsv")
    out = tmp_path / "exports"
    measeval_cli("export", "--layer", "alice", "--format", "measeval", "--out", out)
    assert compare_measeval_folders(trial / "tsv", exported(out, "alice", "measeval") / "tsv") == []
    for fmt in ("jsonl", "spacy", "brat", "conll"):
        report = json.loads(
            measeval_cli(
                "export", "--layer", "alice", "--format", fmt, "--name", f"alice-{fmt}", "--out", out, "--json"
            ).output
        )
        manifest = report["manifest"]
        assert manifest["format"] == fmt and manifest["documents"] > 20, fmt
    # the records were checked against the scheme's own schema, which is published beside them
    version = exported(out, "alice-jsonl", "")
    schema = json.loads((version / "schema.json").read_text("utf-8"))
    assert schema["$defs"]["span"]["if"]["properties"]["label"]["const"] == "Quantity"
    assert schema["$id"] == manifest_of(version)["schema"]["id"] != record_schema().id
    problems, n = validate_file(version / "data.jsonl")
    assert problems == [] and n == manifest_of(version)["documents"]
    # held to the default scheme instead, the same records are wrong: the check can fail
    problems, _ = validate_file(version / "data.jsonl", record_schema())
    assert problems and "only QUANTITY spans may carry this field" in problems[0]["message"]
    records = [json.loads(line) for line in (version / "data.jsonl").read_text("utf-8").splitlines()]
    quantities = [s for r in records for s in r["spans"] if s["label"] == "Quantity"]
    assert quantities and all("value" in s for s in quantities)
    assert {m for r in records for c in r["claims"] for m in c["modifiers"]} >= {"IsCount", "IsRange"}
