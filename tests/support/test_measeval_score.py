"""The MeasEval-style scorer (benchmarks/measeval_score.py) on tiny hand-counted cases, and
the real trial split scored against itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.measeval_score import (
    HEADER,
    Row,
    main,
    overlap,
    paired_bootstrap,
    per_paragraph,
    score_folders,
    score_rows,
)

from .measeval_corpus import require_measeval

TEXT = "The samples weigh 5 kg at room temperature and 3 kg when dry."
DOC = "S0000-1"


def at(fragment: str) -> tuple[int, int]:
    start = TEXT.index(fragment)
    return start, start + len(fragment)


def row(annot_set: str, kind: str, fragment: str, annot_id: str, other: dict | None = None) -> Row:
    start, end = at(fragment)
    return Row(DOC, annot_set, kind, start, end, annot_id, fragment, other or {})


def gold_rows() -> list[Row]:
    """Two sets, 15 scored rows: set 1 has all four parts, a unit, mods and three relations
    (9 rows); set 2 a quantity with unit, an entity, a qualifier and two relations (6 rows)."""
    return [
        row("1", "Quantity", "5 kg", "T1-1", {"unit": "kg", "mods": ["IsApproximate"]}),
        row("1", "MeasuredEntity", "samples", "T3-1", {"HasProperty": "T2-1"}),
        row("1", "MeasuredProperty", "weigh", "T2-1", {"HasQuantity": "T1-1"}),
        row("1", "Qualifier", "at room temperature", "T4-1", {"Qualifies": "T1-1"}),
        row("2", "Quantity", "3 kg", "T1-2", {"unit": "kg"}),
        row("2", "MeasuredEntity", "samples", "T2-2", {"HasQuantity": "T1-2"}),
        row("2", "Qualifier", "when dry", "T3-2", {"Qualifies": "T1-2"}),
    ]


def replaced(rows: list[Row], annot_id: str, **changes) -> list[Row]:
    """The rows with one row changed: a new fragment (its offsets follow) or other fields."""
    if "fragment" in changes:
        start, end = at(changes["fragment"])
        changes = {**{k: v for k, v in changes.items() if k != "fragment"}, "start": start, "end": end}
        changes["text"] = TEXT[start:end]
    return [r._replace(**changes) if r.annot_id == annot_id else r for r in rows]


def write_folder(folder: Path, docs: dict[str, tuple[str, list[Row]]]) -> Path:
    """A MeasEval folder: text/DOCID.txt and tsv/DOCID.tsv for each docId."""
    (folder / "text").mkdir(parents=True)
    (folder / "tsv").mkdir()
    for doc_id, (text, rows) in docs.items():
        (folder / "text" / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        lines = ["\t".join(HEADER)]
        for r in rows:
            other = json.dumps(r.other) if r.other else ""
            lines.append(
                "\t".join([doc_id, r.annot_set, r.annot_type, str(r.start), str(r.end), r.annot_id, r.text, other])
            )
        (folder / "tsv" / f"{doc_id}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def scored(tmp_path: Path, pred: list[Row], pred_doc: str = DOC) -> dict:
    gold = write_folder(tmp_path / "gold", {DOC: (TEXT, gold_rows())})
    predicted = write_folder(tmp_path / "pred", {pred_doc: (TEXT, [r._replace(doc_id=pred_doc) for r in pred])})
    return score_folders(gold, predicted)


def counts(entry: dict) -> tuple[int, int, int]:
    return entry["gold"], entry["predicted"], entry["matched"]


def test_perfect_prediction_scores_one_everywhere(tmp_path):
    report = scored(tmp_path, gold_rows())
    assert counts(report["overall"]) == (15, 15, 15)
    assert report["overall"]["f1"] == 1.0
    for kind, entry in report["types"].items():
        assert entry["f1"] == 1.0, kind
    assert report["types"]["MeasuredProperty"]["gold"] == 1
    assert counts(report["relations"]) == (5, 5, 5)


def test_a_missed_quantity_loses_its_whole_set(tmp_path):
    report = scored(tmp_path, [r for r in gold_rows() if r.annot_set == "1"])
    assert counts(report["overall"]) == (15, 9, 9)
    assert report["overall"]["precision"] == 1.0
    assert report["overall"]["recall"] == pytest.approx(0.6)
    assert report["overall"]["f1"] == pytest.approx(0.75)
    assert report["types"]["Quantity"]["f1"] == pytest.approx(2 / 3)
    assert counts(report["types"]["Qualifier"]) == (2, 1, 1)


def test_an_extra_quantity_costs_precision_only(tmp_path):
    extra = row("3", "Quantity", "The", "T1-3")
    report = scored(tmp_path, [*gold_rows(), extra])
    assert counts(report["overall"]) == (15, 16, 15)
    assert report["overall"]["f1"] == pytest.approx(30 / 31)
    quantity = report["types"]["Quantity"]
    assert (quantity["precision"], quantity["recall"]) == (pytest.approx(2 / 3), 1.0)
    assert quantity["f1"] == pytest.approx(0.8)
    assert counts(report["types"]["Unit"]) == (2, 2, 2)


def test_a_wrong_entity_span_also_breaks_its_relation(tmp_path):
    report = scored(tmp_path, replaced(gold_rows(), "T3-1", fragment="The"))
    assert counts(report["types"]["MeasuredEntity"]) == (2, 2, 1)
    assert report["types"]["MeasuredEntity"]["f1"] == pytest.approx(0.5)
    assert counts(report["types"]["HasProperty"]) == (1, 1, 0)
    assert report["types"]["HasQuantity"]["f1"] == 1.0  # the property still holds the quantity
    assert counts(report["overall"]) == (15, 15, 13)
    assert report["overall"]["f1"] == pytest.approx(26 / 30)


def test_partial_overlap_counts_as_a_match(tmp_path):
    pred = replaced(gold_rows(), "T1-1", fragment="5")
    pred = replaced(pred, "T3-1", fragment="The samples")
    pred = replaced(pred, "T4-1", fragment="room")
    report = scored(tmp_path, pred)
    assert counts(report["overall"]) == (15, 15, 15)
    assert report["overall"]["f1"] == 1.0


def test_spans_that_only_touch_do_not_overlap():
    a, b = Row(DOC, "1", "Quantity", 0, 3, "a", "", {}), Row(DOC, "1", "Quantity", 3, 5, "b", "", {})
    assert overlap(a, b) == 0
    assert overlap(a, a._replace(start=2, end=9)) == 1


def test_unit_and_modifier_mismatches(tmp_path):
    pred = replaced(gold_rows(), "T1-1", other={"unit": "g"})  # wrong unit, mods left out
    pred = replaced(pred, "T1-2", other={"unit": "kg", "mods": ["IsApproximate"]})  # mods not in gold
    report = scored(tmp_path, pred)
    assert counts(report["types"]["Unit"]) == (2, 2, 1)
    assert report["types"]["Unit"]["f1"] == pytest.approx(0.5)
    assert counts(report["types"]["Modifiers"]) == (1, 1, 0)
    assert report["types"]["Modifiers"]["f1"] == 0.0
    assert report["types"]["Quantity"]["f1"] == 1.0
    assert counts(report["overall"]) == (15, 15, 13)


def test_modifiers_must_match_as_a_whole_set(tmp_path):
    pred = replaced(gold_rows(), "T1-1", other={"unit": "kg", "mods": ["IsApproximate", "IsCount"]})
    report = scored(tmp_path, pred)
    assert counts(report["types"]["Modifiers"]) == (1, 1, 0)


def test_quantities_pair_one_to_one_by_largest_overlap():
    gold = [row("1", "Quantity", "5 kg", "g")]
    pred = [row("1", "Quantity", "5", "p1"), row("2", "Quantity", "kg", "p2")]
    report = score_rows(gold, pred)
    assert counts(report["types"]["Quantity"]) == (1, 2, 1)
    assert counts(report["types"]["Unit"]) == (0, 0, 0)
    assert report["types"]["Unit"]["f1"] is None  # nothing on either side
    assert report["types"]["Unit"]["precision"] is None


def test_paragraphs_align_by_text_when_the_ids_differ(tmp_path):
    report = scored(tmp_path, gold_rows(), pred_doc="0123456789abcdef")
    assert report["documents"] == {"gold": 1, "predicted": 1, "aligned": 1, "predicted_not_in_gold": 0}
    assert report["overall"]["f1"] == 1.0


def test_a_paragraph_not_in_gold_counts_as_false_positives(tmp_path):
    gold = write_folder(tmp_path / "gold", {DOC: (TEXT, gold_rows())})
    other = [r._replace(doc_id="elsewhere") for r in gold_rows()]
    pred = write_folder(tmp_path / "pred", {"elsewhere": ("Another paragraph.", other)})
    report = score_folders(gold, pred)
    assert report["documents"]["predicted_not_in_gold"] == 1
    assert counts(report["overall"]) == (15, 15, 0)


def test_the_command_prints_json(tmp_path, capsys):
    gold = write_folder(tmp_path / "gold", {DOC: (TEXT, gold_rows())})
    assert main([str(gold), str(gold), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["f1"] == 1.0


def test_trial_split_against_itself_scores_one():
    trial = require_measeval() / "trial"
    report = score_folders(trial, trial)
    assert report["documents"]["aligned"] == report["documents"]["gold"] == 65
    assert report["overall"]["matched"] == report["overall"]["gold"] > 1000
    assert report["overall"]["f1"] == 1.0
    for kind, entry in report["types"].items():
        assert entry["f1"] == 1.0, kind


def test_per_paragraph_counts_add_up_to_the_overall_figure():
    other = [r._replace(doc_id="S0000-2") for r in gold_rows()]
    gold = gold_rows() + other
    pred = [r for r in gold if r.annot_type != "Qualifier"] + [r for r in gold_rows() if r.annot_type == "Qualifier"]
    counts = per_paragraph(gold, pred)
    overall = score_rows(gold, pred)["overall"]
    assert set(counts) == {DOC, "S0000-2"}
    for key in ("gold", "predicted", "matched"):
        assert sum(c[key] for c in counts.values()) == overall[key]
    assert counts[DOC] == {"gold": 15, "predicted": 15, "matched": 15}
    assert counts["S0000-2"]["matched"] < counts["S0000-2"]["gold"]


def test_the_paired_bootstrap_tells_a_real_gain_from_none():
    worse = {f"p{i}": {"gold": 10, "predicted": 10, "matched": 4} for i in range(30)}
    better = {f"p{i}": {"gold": 10, "predicted": 10, "matched": 6} for i in range(30)}
    gain = paired_bootstrap(worse, better, rounds=500)
    assert gain["difference"] == pytest.approx(0.2)
    assert gain["low_2_5"] > 0 and gain["share_better"] == 1.0
    mixed = {f"p{i}": {"gold": 10, "predicted": 10, "matched": 6 if i % 2 else 2} for i in range(30)}
    same = paired_bootstrap(worse, mixed, rounds=500)  # equal on the whole, either way per paragraph
    assert same["difference"] == pytest.approx(0.0)
    assert same["low_2_5"] < 0 < same["high_97_5"] and 0.2 < same["share_better"] < 0.8
