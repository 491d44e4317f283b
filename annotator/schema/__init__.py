"""The record schema: the single definition of an exported record.

`jsonschema` explains what is wrong (its error paths name the failing field) and is used by
`annotator validate`; bulk exports use a compiled validator (jsonschema-rs) of the same
file, about 150 times faster. Offsets and references are checked here in code, since JSON
Schema cannot compare a span's text with the document's.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import orjson

SCHEMA_PATH = Path(__file__).with_name("record.schema.json")


@lru_cache(maxsize=1)
def schema_bytes() -> bytes:
    return SCHEMA_PATH.read_bytes()


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return orjson.loads(schema_bytes())


def schema_id() -> str:
    return load_schema()["$id"]


def schema_version() -> str:
    return schema_id().rsplit("/", 1)[-1]


def schema_sha256() -> str:
    return hashlib.sha256(schema_bytes()).hexdigest()


@lru_cache(maxsize=1)
def fast_validator():
    import jsonschema_rs

    return jsonschema_rs.validator_for(load_schema())


@lru_cache(maxsize=1)
def explaining_validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


def schema_errors(record) -> list[str]:
    """Every schema violation, each naming the failing field as a JSON path."""
    errors = sorted(explaining_validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {_message(e)}" for e in errors]


def _message(error) -> str:
    if error.validator == "not" and error.validator_value == {}:  # $defs/quantity_only
        return "only QUANTITY spans may carry this field"
    return error.message


def consistency_errors(record: dict) -> list[str]:
    """What the schema cannot say: offsets inside the text and matching it, ids that resolve."""
    text = record["text"]
    problems: list[str] = []
    for i, tok in enumerate(record["tokens"]):
        if not 0 <= tok["start"] < tok["end"] <= len(text):
            problems.append(f"$.tokens[{i}]: offsets {tok['start']}..{tok['end']} outside the text (length {len(text)})")
    span_ids: set[str] = set()
    for i, span in enumerate(record["spans"]):
        where = f"$.spans[{i}]"
        if span["id"] in span_ids:
            problems.append(f"{where}.id: {span['id']!r} is repeated")
        span_ids.add(span["id"])
        if not 0 <= span["start"] < span["end"] <= len(text):
            problems.append(f"{where}: offsets {span['start']}..{span['end']} outside the text (length {len(text)})")
        elif text[span["start"]:span["end"]] != span["text"]:
            problems.append(f"{where}.text: {span['text']!r} differs from the document text "
                            f"{text[span['start']:span['end']]!r} at {span['start']}..{span['end']}")
    for kind, refs in (("relations", ("head", "child")), ("claims", ("quantity", "entity", "condition", "time", "source"))):
        for i, item in enumerate(record[kind]):
            for ref in refs:
                value = item.get(ref)
                if value is not None and value not in span_ids:
                    problems.append(f"$.{kind}[{i}].{ref}: no span has id {value!r}")
    for i, claim in enumerate(record["claims"]):
        prop = claim.get("property")
        if isinstance(prop, dict) and "span" in prop and prop["span"] not in span_ids:
            problems.append(f"$.claims[{i}].property.span: no span has id {prop['span']!r}")
    return problems


def record_errors(record) -> list[str]:
    """Schema errors first; consistency is checked only on a record of the right shape."""
    errors = schema_errors(record)
    return errors or consistency_errors(record)


def is_valid_fast(record: dict) -> bool:
    return fast_validator().is_valid(record) and not consistency_errors(record)
