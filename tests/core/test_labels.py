"""Label configurations: every field checked with a message naming it (`annotator labels
check`), the claim scheme read from the file, and the record schema made from it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from annotator.labels import LabelConfigError, config_problems, parse_label_config
from annotator.schema import record_schema, schema_bytes
from annotator.unit_table import qualifier_codes

ROOT = Path(__file__).resolve().parents[2]
MEASEVAL = ROOT / "docs" / "examples" / "measeval-labels.json"
DEFAULT = ROOT / "annotator" / "data" / "labels.json"


def default_raw() -> dict:
    return json.loads(DEFAULT.read_text("utf-8"))


def measeval_raw() -> dict:
    return json.loads(MEASEVAL.read_text("utf-8"))


def test_the_shipped_configurations_are_valid():
    assert config_problems(default_raw()) == []
    assert config_problems(measeval_raw()) == []


def broken(change) -> dict:
    raw = measeval_raw()
    change(raw)
    return raw


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.update(colour="#fff"), "colour: unknown field"),
        (lambda r: r["entities"][1].update(hotkey="q"), "entities[1].hotkey: 'q' is already the hotkey of Quantity"),
        (lambda r: r["entities"][2].update(color="red"), "entities[2].color: 'red' is not a colour"),
        (lambda r: r["entities"][3].update(label="Quantity"), "entities[3].label: 'Quantity' is repeated"),
        (lambda r: r["relations"][0]["pairs"].append(["Thing", "Quantity"]), "relations[0].pairs[2]: 'Thing' is not"),
        (lambda r: r["claims"].update(entity="Entity"), "claims.entity: 'Entity' is not an entity label"),
        (lambda r: r["claims"].update(qualifies="Qualifier"), "claims.qualifies: 'Qualifier' is not a relation label"),
        (lambda r: r["claims"].update(modifier_attribute="Mods"), "claims.modifier_attribute: 'Mods' must be one of"),
        (lambda r: r["claims"].update(unit="Unit"), "claims.unit: unknown field"),
        (lambda r: r.update(qualifiers=["about"]), "qualifiers[0]: 'about' is not a qualifier the normaliser knows"),
        (lambda r: r.update(model_labels={"ORG": "Organisation"}), "model_labels.ORG: 'Organisation' is not"),
        (lambda r: r.update(entities=[]), "entities: must be a non-empty list"),
        # names in the wrong type are problems, not a crash of the check
        (lambda r: r["claims"].update(entity=["MeasuredEntity"]), "claims.entity: must be a label name"),
        (lambda r: r.update(quantity_label=["Quantity"]), "quantity_label: ['Quantity'] must be an entity label"),
        (lambda r: r["relations"][0]["pairs"].append([["Quantity"], "Quantity"]), "relations[0].pairs[2]: ['Qua"),
        (lambda r: r.update(model_labels={"ORG": ["Quantity"]}), "model_labels.ORG: ['Quantity'] is not"),
        (lambda r: r.update(attributes=7), "attributes: must be a list of names"),
        (lambda r: r["relations"][0].update(label="HasQuantity "), "relations[0].label: must be a non-empty name"),
    ],
)
def test_each_problem_names_its_field(change, message):
    problems = config_problems(broken(change))
    assert any(p.startswith(message) for p in problems), problems
    with pytest.raises(LabelConfigError):
        parse_label_config(broken(change))


def test_every_problem_is_listed_at_once():
    def two(raw):
        raw["claims"]["entity"] = "Entity"
        raw["entities"][0]["hotkey"] = "qq"

    assert len(config_problems(broken(two))) == 2


def test_the_claim_scheme_comes_from_the_file():
    scheme = parse_label_config(measeval_raw()).claims
    assert (scheme.quantity, scheme.entity, scheme.property, scheme.condition) == (
        "Quantity",
        "MeasuredEntity",
        "MeasuredProperty",
        "Qualifier",
    )
    assert (scheme.has_quantity, scheme.qualifies, scheme.modifier_attribute) == (
        "HasQuantity",
        "Qualifies",
        "QuantityQualifier",
    )
    # an older file's top-level quantity_label still names the quantity
    older = default_raw()
    quantity = older.pop("claims")["quantity"]
    older["quantity_label"] = quantity
    assert parse_label_config(older).quantity_label == quantity
    # a scheme without quantities is a scheme too: spans and relations, no claims
    plain = {"entities": [{"label": "Gene"}, {"label": "Disease"}], "relations": []}
    assert config_problems(plain) == [] and parse_label_config(plain).quantity_label is None


def test_the_record_schema_follows_the_configuration():
    default = parse_label_config(default_raw())
    assert record_schema(default).data == schema_bytes()  # the published template, byte for byte
    ours = record_schema(parse_label_config(measeval_raw()))
    assert ours.id != record_schema().id and ours.id.startswith(record_schema().id.rsplit("/", 1)[0])
    assert ours.quantity_label == "Quantity"
    # qualifiers are the normaliser's whatever the scheme offers in its form
    shorter = measeval_raw() | {"qualifiers": ["up_to"]}
    enum = record_schema(parse_label_config(shorter)).document["$defs"]["span"]["properties"]["qualifier"]["enum"]
    assert enum == [None, *qualifier_codes()]
    assert ours.document["$defs"]["claim"]["properties"]["modifiers"]["items"]["enum"] == measeval_raw()["modifiers"]
    # the same change of labels gives the same schema: exports of one scheme compare equal
    again = copy.deepcopy(measeval_raw())
    assert record_schema(parse_label_config(again)).sha256 == ours.sha256
    # and one that differs in colours and descriptions only has the same schema, id and all
    recoloured = measeval_raw()
    recoloured["entities"][0].update(color="#123456", description="Numbers")
    assert parse_label_config(recoloured).sha256 != parse_label_config(measeval_raw()).sha256
    assert record_schema(parse_label_config(recoloured)).data == ours.data


def test_labels_check_command(cli, tmp_path):
    good = cli("labels", "check", MEASEVAL)
    assert good.exit_code == 0 and "valid." in good.output and "Claims are built on Quantity spans" in good.output
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(broken(lambda r: r["claims"].update(entity="Entity"))), encoding="utf-8")
    bad = cli("labels", "check", path)
    assert bad.exit_code == 1 and "claims.entity: 'Entity' is not an entity label" in bad.output
    as_json = json.loads(cli("labels", "check", "--json", path).output)
    assert as_json["valid"] is False and as_json["problems"] == ["claims.entity: 'Entity' is not an entity label"]
    path.write_text("{not json", encoding="utf-8")
    assert "not valid JSON" in cli("labels", "check", path).output
    missing = cli("labels", "check", tmp_path / "absent.json")
    assert missing.exit_code != 0 and "cannot read it" in missing.output
