"""The schema file is the single definition: jsonschema and the compiled validator agree."""

from __future__ import annotations

import copy

import jsonschema
import pytest

from annotator.schema import consistency_errors, load_schema, record_schema

SCHEMA = record_schema()  # the template: the default configuration's schema

GOOD = {
    "id": "0123456789abcdef",
    "text": "Sophgo’s FP300 has 256 GB 😀 of memory.",
    "lang": "en",
    "meta": {"title": "t", "source": None},
    "tokens": [{"start": 0, "end": 6}, {"start": 9, "end": 14}],
    "spans": [
        {"id": "s1", "start": 0, "end": 6, "label": "ORG", "text": "Sophgo", "origin": "gazetteer"},
        {"id": "s2", "start": 9, "end": 14, "label": "PRODUCT", "text": "FP300", "origin": "manual"},
        {
            "id": "s3",
            "start": 19,
            "end": 25,
            "label": "QUANTITY",
            "text": "256 GB",
            "origin": "pattern",
            "value": 256,
            "unit": "GB",
            "qualifier": None,
        },
        {"id": "s4", "start": 31, "end": 37, "label": "PROPERTY", "text": "memory", "origin": "manual"},
    ],
    "relations": [{"id": "r1", "head": "s1", "child": "s2", "label": "MAKES"}],
    "claims": [
        {
            "id": "c1",
            "quantity": "s3",
            "entity": "s2",
            "property": {"span": "s4"},
            "condition": None,
            "modifiers": ["IsCount"],
            "time": None,
            "source": None,
            "meta": {"annotSet": 1},
        }
    ],
    "layer": "alice",
    "annotators": ["alice"],
}


def mutate(path, value=None, delete=False):
    record = copy.deepcopy(GOOD)
    target = record
    for key in path[:-1]:
        target = target[key]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return record


BAD = {
    "missing id": mutate(["id"], delete=True),
    "empty text": mutate(["text"], ""),
    "bad lang": mutate(["lang"], "English"),
    "extra field": mutate(["extra"], 1),
    "span without origin": mutate(["spans", 0, "origin"], delete=True),
    "unknown origin": mutate(["spans", 0, "origin"], "guess"),
    "negative start": mutate(["spans", 0, "start"], -1),
    "string offset": mutate(["spans", 0, "end"], "6"),
    "quantity without unit": mutate(["spans", 2, "unit"], delete=True),
    "value on an ORG": mutate(["spans", 0, "value"], 3),
    "value not a number": mutate(["spans", 2, "value"], "256"),
    "unknown qualifier": mutate(["spans", 2, "qualifier"], "roughly"),
    "bad span id": mutate(["spans", 0, "id"], "T1"),
    "unknown modifier": mutate(["claims", 0, "modifiers"], ["IsGuess"]),
    "property both": mutate(["claims", 0, "property"], {"span": "s4", "text": "memory"}),
    "claim without quantity": mutate(["claims", 0, "quantity"], delete=True),
    "relation label empty": mutate(["relations", 0, "label"], ""),
    "tokens not objects": mutate(["tokens"], [[0, 6]]),
}


def test_good_record_is_valid_everywhere():
    jsonschema.Draft202012Validator.check_schema(load_schema())
    assert SCHEMA.errors(GOOD) == [] and SCHEMA.fast.is_valid(GOOD) and consistency_errors(GOOD) == []


@pytest.mark.parametrize("name", sorted(BAD))
def test_both_validators_refuse_bad_records(name):
    record = BAD[name]
    errors = SCHEMA.errors(record)
    assert errors, f"jsonschema accepted {name}"
    assert not SCHEMA.fast.is_valid(record), f"jsonschema-rs accepted {name}"
    assert all(e.startswith("$") for e in errors)  # every message names the failing field


@pytest.mark.parametrize(
    "path, value, message",
    [
        (["spans", 0, "text"], "Sophgx", "differs from the document text"),
        (["spans", 0, "end"], 999, "outside the text"),
        (["relations", 0, "child"], "s9", "no span has id 's9'"),
        (["claims", 0, "property"], {"span": "s8"}, "no span has id 's8'"),
        (["tokens", 0, "end"], 500, "outside the text"),
    ],
)
def test_consistency_checks_offsets_and_references(path, value, message):
    record = mutate(path, value)
    assert SCHEMA.fast.is_valid(record)  # the schema cannot see these
    assert any(message in e for e in SCHEMA.record_errors(record))


def test_offsets_are_code_points_not_utf16():
    # "memory" comes after an emoji: UTF-16 offsets would be one higher
    span = GOOD["spans"][3]
    assert GOOD["text"][span["start"] : span["end"]] == "memory"
    shifted = mutate(["spans", 3, "start"], 32)
    shifted["spans"][3]["end"] = 38
    assert any("differs" in e for e in SCHEMA.record_errors(shifted))
