"""The record schema: the single definition of an exported record.

record.schema.json is the template, and the schema of the default label configuration. The
parts of a record that depend on a project's labels (which label is the quantity, the
modifiers it allows) are filled in from its configuration (record_schema),
so a record under any label scheme is held to a schema that names that scheme's labels; an
export writes the schema it validated against, and its manifest records the schema's id and
hash. `jsonschema` explains what is wrong (its error paths name the failing field) for
`annotator validate`; bulk exports use a compiled validator (jsonschema-rs) of the same
schema, about 150 times faster. Offsets and references are checked here in code, since
JSON Schema cannot compare a span's text with the document's.
"""

from __future__ import annotations

import copy
import hashlib
import operator
import re
from functools import cached_property, lru_cache
from pathlib import Path

import orjson

SCHEMA_PATH = Path(__file__).with_name("record.schema.json")
_START, _END = operator.itemgetter("start"), operator.itemgetter("end")
_SPAN_FIELDS = operator.itemgetter("id", "start", "end", "text")
_VERSION = re.compile(r"/record/(\d+)\.(\d+)\.(\d+)(?:/|$)")
TEMPLATE_QUANTITY = "QUANTITY"  # the quantity label the template is written for (the default one's)


@lru_cache(maxsize=1)
def schema_bytes() -> bytes:
    """The template's bytes (the default configuration's schema)."""
    return SCHEMA_PATH.read_bytes()


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return orjson.loads(schema_bytes())


@lru_cache(maxsize=1)
def schema_sha256() -> str:
    """The template's hash: every kept token array's seal starts with it (the token array's
    definition is the same in every configuration's schema)."""
    return hashlib.sha256(schema_bytes()).hexdigest()


def schema_version(schema_id: str) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a record schema's $id."""
    found = _VERSION.search(schema_id or "")
    return tuple(int(x) for x in found.groups()) if found else None


class RecordSchema:
    """One configuration's record schema, with its validators."""

    def __init__(self, document: dict, data: bytes):
        self.document, self.data = document, data

    @classmethod
    def from_bytes(cls, data: bytes) -> RecordSchema:
        return cls(orjson.loads(data), data)

    @property
    def id(self) -> str:
        return self.document["$id"]

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def quantity_label(self) -> str | None:
        return self.document["$defs"]["span"]["if"]["properties"]["label"]["const"]

    @cached_property
    def fast(self):
        import jsonschema_rs  # compiled on first use: a command that validates nothing skips it

        return jsonschema_rs.validator_for(self.document)

    @cached_property
    def explaining(self):
        from jsonschema import Draft202012Validator  # only needed to say what is wrong

        return Draft202012Validator(self.document)

    def errors(self, record) -> list[str]:
        """Every schema violation, each naming the failing field as a JSON path."""
        found = sorted(self.explaining.iter_errors(record), key=lambda e: list(e.absolute_path))
        return [f"{e.json_path}: {self._message(e)}" for e in found]

    def _message(self, error) -> str:
        if error.validator == "not" and error.validator_value == {}:  # $defs/quantity_only
            return f"only {self.quantity_label or 'quantity'} spans may carry this field"
        return error.message

    def record_errors(self, record) -> list[str]:
        """Schema errors first; consistency is checked only on a record of the right shape."""
        return self.errors(record) or consistency_errors(record)

    def is_valid(self, record: dict) -> bool:
        return self.fast.is_valid(record) and not consistency_errors(record)


def record_schema(labels=None) -> RecordSchema:
    """The record schema of a label configuration (the template's for None)."""
    if labels is None:
        return _template()
    return _for_labels(labels.quantity_label, tuple(labels.modifiers))


@lru_cache(maxsize=1)
def _template() -> RecordSchema:
    return RecordSchema(load_schema(), schema_bytes())


@lru_cache(maxsize=16)
def _for_labels(quantity: str | None, modifiers: tuple) -> RecordSchema:
    """The template with a scheme's quantity label and modifiers. Qualifiers stay the
    normaliser's vocabulary (a configuration's `qualifiers` are the choices the claim form
    offers): a value read as "approx" is kept as read under any scheme."""
    document = copy.deepcopy(load_schema())
    span = document["$defs"]["span"]
    # a label is a string, so a null const matches none: without a quantity label no span
    # may carry value fields
    span["if"]["properties"]["label"]["const"] = quantity
    document["$defs"]["claim"]["properties"]["modifiers"]["items"]["enum"] = list(modifiers)
    _rename_in_descriptions(document, TEMPLATE_QUANTITY, quantity or "quantity")
    if document == load_schema():
        return _template()
    # named by what it says, so configurations that differ only in colours or hotkeys share it
    digest = hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
    document["$id"] = f"{document['$id']}/labels/{digest[:16]}"
    return RecordSchema(document, orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")


def _rename_in_descriptions(node, old: str, new: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = re.sub(rf"\b{old}\b", new, value)
            else:
                _rename_in_descriptions(value, old, new)
    elif isinstance(node, list):
        for item in node:
            _rename_in_descriptions(item, old, new)


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
