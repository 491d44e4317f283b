"""Two annotators' MeasEval-style brat folders as two layers: claims rebuilt, `annotator iaa`
on them like on any layers, and claims through brat -> layer -> brat."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from annotator.annotate.links import save_claim
from annotator.db import get_db
from annotator.ingest.pipeline import ImportRequestError
from annotator.models import Claim, Document, Layer, Span
from annotator.project import labels_of
from tests.interchange import DATA, ann_lines, annotations, exported_files, records, run_export, run_import

FOLDERS = DATA / "brat_agreement"
ANN1, ANN2 = FOLDERS / "ann1", FOLDERS / "ann2"
# MeasEval's brat names, as the brat import maps them by default
MEASEVAL_NAMES = {
    "Quantity": "QUANTITY",
    "MeasuredEntity": "ENTITY",
    "MeasuredProperty": "PROPERTY",
    "Qualifier": "CONDITION",
    "HasQuantity": "HAS_QUANTITY",
    "HasProperty": "HAS_PROPERTY",
    "Qualifies": "QUALIFIES",
}


def our_names(line: str) -> str:
    """A brat line with MeasEval's type name replaced by ours."""
    ident, rest = line.split("\t", 1)
    kind, tail = rest.split(" ", 1)
    return f"{ident}\t{MEASEVAL_NAMES.get(kind, kind)} {tail}"


def claims_by_quantity(app, layer: str) -> dict[str, dict]:
    """{quantity text: {"entity", "property", "condition": texts, "modifiers"}} of one layer."""
    with get_db(app).reading() as s:
        rows = s.exec(
            select(Claim, Document.text)
            .join(Layer, Claim.layer_id == Layer.id)
            .join(Document, Layer.document_id == Document.id)
            .where(Layer.name == layer)
        ).all()
        spans = {sp.id: sp for sp in s.exec(select(Span)).scalars()}
    text = lambda doc, span_id: doc[spans[span_id].start : spans[span_id].end] if span_id else None  # noqa: E731
    return {
        text(doc, c.quantity_id): {
            "entity": text(doc, c.entity_id),
            "property": text(doc, c.property_id),
            "condition": text(doc, c.condition_id),
            "modifiers": c.modifiers,
        }
        for c, doc in rows
    }


def test_claims_are_rebuilt_from_measeval_style_links(sqlite_xapp):
    report = run_import(sqlite_xapp, [ANN1], layer="ann1", fmt="brat")
    assert report.ok, report.problems
    assert (report.stored.layers, report.stored.claims) == (4, 6)
    assert claims_by_quantity(sqlite_xapp, "ann1") == {
        # property -> quantity, entity -> property, qualifier -> quantity
        "up to 800 TFLOPS": {
            "entity": "Ascend 910C",
            "property": "FP16 compute",
            "condition": "in sparse mode",
            "modifiers": [],
        },
        "about 3.2 TB/s": {
            "entity": None,
            "property": "memory bandwidth",
            "condition": None,
            "modifiers": ["IsApproximate"],
        },  # a binary attribute named like a modifier
        "256 GB": {"entity": "SC11 FP300", "property": "memory", "condition": None, "modifiers": []},
        "1.1 TB/s": {"entity": "SC11 FP300", "property": "interconnect", "condition": None, "modifiers": []},
        "up to 700 W": {"entity": "H100", "property": None, "condition": "at peak load", "modifiers": []},
        "44 GB": {"entity": "WSE-3", "property": "on-chip memory", "condition": None, "modifiers": []},
    }


def test_iaa_on_two_imported_brat_folders(sqlite_xapp, cli):
    """Hand-computed figures. The folders hold four texts; ann2 has no file for `wse`, so
    three documents are compared and one is counted as not done by both.

    Spans (label: ann1 / ann2 / exact matches; overlap pairs every one of them):
      ascend  ENTITY 1/1/1, QUANTITY 2/2/1 ("about 3.2 TB/s" vs "3.2 TB/s"), PROPERTY 2/2/2, CONDITION 1/1/1
      sophgo  ENTITY 2/2/1 ("SC11 FP300" vs "Sophgo's SC11 FP300"), QUANTITY 2/2/1 ("256 GB" vs "256"),
              PROPERTY 2/2/2
      h100    ENTITY 1/1/1, QUANTITY 1/1/1, CONDITION 1/1/1
      exact F1 = 2*12/(15+15) = 0.8; overlap F1 = 1.0; per label exact: ENTITY 2*3/8, QUANTITY 2*3/10,
      PROPERTY 1, CONDITION 1.
    Relations between matched spans: ann1 4+4+2 = 10, ann2 3+4+2 = 9, matched 3+3+2 = 8
      (ann2 left out ascend's Qualifies; in sophgo ann2's HasProperty to "interconnect" comes from "card").
    Claims: 5 each, all on matched quantities; same value and unit 4 ("256 GB" vs "256"), same entity 4
      ("1.1 TB/s": SC11 FP300 vs card); wholly the same 2: "about 3.2 TB/s" and "up to 700 W" (the other
      three differ in condition, value/unit, entity and modifiers) -> F1 2*2/10.
    """
    url = sqlite_xapp.config["DATABASE_URL"]
    for folder, layer in ((ANN1, "ann1"), (ANN2, "ann2")):  # through the command line, as a team would
        imported = cli("import", "--db", url, "--layer", layer, "--format", "brat", "--done", folder)
        assert imported.exit_code == 0, imported.output
    result = cli("iaa", "--db", sqlite_xapp.config["DATABASE_URL"], "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["annotators"] == ["ann1", "ann2"]
    assert (report["documents"], report["documents_done_by_fewer_than_two"]) == (3, 1)
    [pair] = report["pairs"]
    exact, overlap = pair["span_f1"]["exact"], pair["span_f1"]["overlap"]
    assert (exact["micro"]["a"], exact["micro"]["b"], exact["micro"]["matched"]) == (15, 15, 12)
    assert exact["micro"]["f1"] == pytest.approx(0.8) and overlap["micro"]["f1"] == pytest.approx(1.0)
    assert {label: round(v["f1"], 6) for label, v in exact["per_label"].items()} == {
        "CONDITION": 1.0,
        "ENTITY": 0.75,
        "PROPERTY": 1.0,
        "QUANTITY": 0.6,
    }
    relations = pair["relation_f1"]
    assert (relations["a"], relations["b"], relations["matched"]) == (10, 9, 8)
    assert relations["f1"] == pytest.approx(16 / 19)
    claims = pair["claims"]
    assert {k: claims[k] for k in ("a", "b", "same_quantity", "same_value_unit", "same_entity", "full")} == {
        "a": 5,
        "b": 5,
        "same_quantity": 5,
        "same_value_unit": 4,
        "same_entity": 4,
        "full": 2,
    }
    assert claims["f1_full"] == pytest.approx(0.4)


def test_layers_stay_in_progress_unless_asked(sqlite_xapp):
    assert run_import(sqlite_xapp, [ANN1], layer="ann1", fmt="brat").ok
    assert statuses(sqlite_xapp, "ann1") == {"in_progress"}
    again = run_import(sqlite_xapp, [ANN1], layer="ann1", fmt="brat", status="done")
    assert again.stored.unchanged == 4 and statuses(sqlite_xapp, "ann1") == {"done"}  # identical: only marked
    with pytest.raises(ImportRequestError, match="unknown status 'finished'"):
        run_import(sqlite_xapp, [ANN1], layer="ann1", fmt="brat", status="finished")


def statuses(app, layer: str) -> set[str]:
    with get_db(app).reading() as s:
        return set(s.exec(select(Layer.status).where(Layer.name == layer)).scalars())


def test_claims_round_trip_brat_layer_brat(xapp, tmp_path):
    """brat (MeasEval names) -> layer -> brat -> another layer -> brat: the same claims, the same lines."""
    assert run_import(xapp, [ANN1], layer="alice", fmt="brat").ok
    first = run_export(xapp, tmp_path, "alice", fmt="brat")
    assert first.manifest["brat"]["claim_links_written_as_relations"] == 0  # the links are the file's own
    assert first.manifest["brat"]["modifiers_written_as_attributes"] == 0
    files = exported_files(first)
    for original in ANN1.glob("*.ann"):
        assert ann_lines(files[original.name]) == sorted(map(our_names, ann_lines(original))), original.name
    assert run_import(xapp, [first.path / "brat"], layer="bob", fmt="brat").ok
    second = run_export(xapp, tmp_path, "bob", fmt="brat")
    for name, path in exported_files(second).items():
        assert path.read_bytes() == files[name].read_bytes(), name
    alice, bob = (records(run_export(xapp, tmp_path, layer)) for layer in ("alice", "bob"))
    assert [annotations(r)["claims"] for r in bob] == [annotations(r)["claims"] for r in alice]


def test_a_modifier_taken_off_in_the_tool_is_not_written_back(sqlite_xapp, tmp_path):
    app = sqlite_xapp
    assert run_import(app, [ANN1 / "ascend.ann"], layer="alice", fmt="brat").ok
    with get_db(app).writing() as s:
        doc = s.exec(select(Document)).scalars().one()
        layer = s.exec(select(Layer)).scalars().one()
        claim = next(c for c in s.exec(select(Claim)).scalars() if c.modifiers)
        save_claim(
            s,
            labels_of(app),
            doc,
            "alice",
            "alice",
            layer.version,
            {
                "quantity_id": claim.quantity_id,
                "property_id": claim.property_id,
                "modifiers": [],
                "value": 3.2,
                "unit": "TB/s",
            },
            claim_id=claim.id,
        )
    [ann] = [p for p in exported_files(run_export(app, tmp_path, "alice", fmt="brat")).values() if p.suffix == ".ann"]
    assert "A1\tIsApproximate T6" not in ann_lines(ann)
    assert run_import(app, [ann], layer="bob", fmt="brat").ok
    assert claims_by_quantity(app, "bob")["about 3.2 TB/s"]["modifiers"] == []


def test_a_condition_only_one_annotator_marked_makes_the_claims_differ():
    from annotator.contents import ClaimItem, Contents, SpanItem
    from annotator.review.agreement import PairTally

    a = Contents(
        spans=[SpanItem(1, 0, 5, "QUANTITY", value=5.0, unit="GB"), SpanItem(2, 6, 12, "CONDITION")],
        claims=[ClaimItem(1, condition_id=2)],
    )
    b = Contents(spans=[SpanItem(11, 0, 5, "QUANTITY", value=5.0, unit="GB")], claims=[ClaimItem(11)])
    tally = PairTally()
    tally.add_doc(a, b)
    assert tally.claims["same_quantity"] == 1 and tally.claims["full"] == 0
