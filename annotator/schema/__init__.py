"""The record schema: the single definition of an exported record.

`jsonschema` explains what is wrong (its error paths name the failing field) and is used by
`annotator validate`; bulk exports use a compiled validator (jsonschema-rs) of the same
file, about 150 times faster. Offsets and references are checked here in code, since JSON
Schema cannot compare a span's text with the document's.
"""

from __future__ import annotations

import hashlib
import operator
from functools import lru_cache
from pathlib import Path

import orjson

SCHEMA_PATH = Path(__file__).with_name("record.schema.json")
_START, _END = operator.itemgetter("start"), operator.itemgetter("end")
_SPAN_FIELDS = operator.itemgetter("id", "start", "end", "text")


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


@lru_cache(maxsize=1)
def schema_sha256() -> str:
    return hashlib.sha256(schema_bytes()).hexdigest()  # every kept token array's seal starts with it


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
    problems = _token_problems(record["tokens"], len(text))
    if _spans_consistent(record["spans"], text):
        span_ids = {span["id"] for span in record["spans"]}
    else:
        span_ids = _span_problems(record["spans"], text, problems)
    for kind, refs in (
        ("relations", ("head", "child")),
        ("claims", ("quantity", "entity", "condition", "time", "source")),
    ):
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


def _spans_consistent(spans: list[dict], text: str) -> bool:
    """The all-clear for the spans (unique ids, offsets inside the text, every span's text
    equal to the document's at its offsets) in C-level passes over all spans at once.
    Anything odd (a missing key, a non-number) is left to _span_problems to report."""
    if not spans:
        return True
    try:
        ids, starts, ends, texts = zip(*map(_SPAN_FIELDS, spans))
        return (
            len(set(ids)) == len(ids)
            and min(starts) >= 0
            and max(ends) <= len(text)
            and all(map(operator.lt, starts, ends))
            and list(map(text.__getitem__, map(slice, starts, ends))) == list(texts)
        )
    except (KeyError, TypeError):
        return False


def _span_problems(spans: list[dict], text: str, problems: list[str]) -> set[str]:
    """Name every span problem (appended to `problems`); returns the span ids."""
    span_ids: set[str] = set()
    for i, span in enumerate(spans):
        where = f"$.spans[{i}]"
        span_id, start, end = span["id"], span["start"], span["end"]
        if span_id in span_ids:
            problems.append(f"{where}.id: {span_id!r} is repeated")
        span_ids.add(span_id)
        if not 0 <= start < end <= len(text):
            problems.append(f"{where}: offsets {start}..{end} outside the text (length {len(text)})")
        elif text[start:end] != span["text"]:
            problems.append(
                f"{where}.text: {span['text']!r} differs from the document text {text[start:end]!r} at {start}..{end}"
            )
    return span_ids


def _token_problems(tokens: list[dict], length: int) -> list[str]:
    """Tokens outside the text; the per-token loop only runs to name a failure."""
    if _tokens_inside(tokens, length):
        return []
    return [
        f"$.tokens[{i}]: offsets {tok['start']}..{tok['end']} outside the text (length {length})"
        for i, tok in enumerate(tokens)
        if not 0 <= tok["start"] < tok["end"] <= length
    ]


def _tokens_inside(tokens: list[dict], length: int) -> bool:
    """The all-clear for hundreds of tokens in C-level passes (map, min, max); anything
    odd (a missing key, a non-number) is left to the loop in _token_problems."""
    if not tokens:
        return True
    try:
        starts, ends = list(map(_START, tokens)), list(map(_END, tokens))
        return min(starts) >= 0 and max(ends) <= length and all(map(operator.lt, starts, ends))
    except (KeyError, TypeError):
        return False


def record_errors(record) -> list[str]:
    """Schema errors first; consistency is checked only on a record of the right shape."""
    errors = schema_errors(record)
    return errors or consistency_errors(record)


def is_valid_fast(record: dict) -> bool:
    return fast_validator().is_valid(record) and not consistency_errors(record)
