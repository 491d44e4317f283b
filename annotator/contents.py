"""Annotations read from another tool's file, checked and waiting to be stored in a layer.

A LayerDoc holds one document's text and the spans, relations and claims a file gives it.
Readers refer to spans by any key of their own (brat ids, record ids, offsets); unique()
then folds spans with the same offsets and label into one (a layer holds a span once),
keeping every key's meta, so references from relations and claims still resolve.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import orjson

from annotator.labels import LabelConfig
from annotator.models import QUANTITY_FIELDS
from annotator.formats.text import document_uid

PARSE = "parse_quantity"  # a QUANTITY span whose value our normaliser reads in the document's language
CLAIM_REFS = ("quantity", "entity", "property", "condition", "time", "source")
SpanKey = tuple[int, int, str]


@dataclass
class LayerDoc:
    text: str
    source: str                      # the file, for messages and a new document's `source`
    line: int | None = None          # where in the file (JSONL records)
    claimed_id: str | None = None    # the id the file gives the document, if any
    title: str = ""
    lang: str | None = None
    lang_source: str = "import"      # "detected" when a reader had to detect it
    meta: dict = field(default_factory=dict)   # a new document's meta
    spans: list[dict] = field(default_factory=list)      # key, start, end, label, meta, quantity fields
    relations: list[dict] = field(default_factory=list)  # head, child (span keys), label, meta
    claims: list[dict] = field(default_factory=list)     # CLAIM_REFS (span keys), property_text, modifiers, meta
    sources: list[str] = field(default_factory=list)     # every file:line that contributed

    @cached_property
    def uid(self) -> str:
        return document_uid(self.text)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source

    def counts(self) -> dict:
        return {"spans": len(self.spans), "relations": len(self.relations), "claims": len(self.claims)}


def offsets_problem(text: str, start, end) -> str | None:
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        return "'start' and 'end' must be integers"
    if not 0 <= start < end <= len(text):
        return (f"offsets {start}..{end} out of range for a text of {len(text)} characters "
                "(need 0 <= start < end <= length; offsets count Unicode code points)")
    return None


def quantity_problem(values: dict, labels: LabelConfig) -> str | None:
    """Value fields given by a file (our own records): numbers, and a known qualifier."""
    for key in ("value", "value_max", "tolerance"):
        v = values.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            return f"'{key}' must be a finite number or null"
    unit = values.get("unit")
    if unit is not None and (not isinstance(unit, str) or len(unit) > 64):
        return "'unit' must be a string of at most 64 characters or null"
    qualifier = values.get("qualifier")
    if qualifier is not None and qualifier not in labels.qualifiers:
        return f"unknown qualifier {qualifier!r} (known: {', '.join(labels.qualifiers)})"
    return None


def parsed_quantity(text: str, lang: str | None) -> dict:
    """Value, unit and qualifier of a QUANTITY span read by our normaliser."""
    return dict(_parsed(text, lang or "en"))


@lru_cache(maxsize=8192)
def _parsed(text: str, lang: str) -> tuple:
    # a corpus repeats its quantities ("50 %", "2 GB"): each is read once per import process
    from annotator.nlp.quantities import normalise

    parsed = normalise(text, lang) or {}
    return tuple((k, parsed.get(k)) for k in QUANTITY_FIELDS)


def fill_quantities(doc: LayerDoc, lang: str) -> None:
    """Value, unit and qualifier of the QUANTITY spans that came without them."""
    for span in doc.spans:
        if span.pop(PARSE, False):
            span.update(_parsed(doc.text[span["start"]:span["end"]], lang or "en"))  # (key, value) pairs


def relation_problem(labels: LabelConfig, label: str, head: str, child: str) -> str | None:
    if label not in labels.relations or labels.relation_allowed(label, head, child):
        return None  # unknown labels are reported once, by the Unknowns collector
    pairs = ", ".join(f"{h}->{c}" for h, c in labels.relations[label]["pairs"])
    return f"relation {label} is not allowed from {head} to {child} (allowed: {pairs})"


def merge_meta(first: dict, second: dict) -> dict:
    """Meta of two records of one annotation: lists joined (without repeats), objects merged,
    and for anything else the first value kept."""
    out = dict(first)
    for key, value in second.items():
        mine = out.get(key)
        if key not in out:
            out[key] = value
        elif isinstance(mine, list) and isinstance(value, list):
            out[key] = mine + [v for v in value if v not in mine]
        elif isinstance(mine, dict) and isinstance(value, dict):
            out[key] = merge_meta(mine, value)
    return out


def unique(doc: LayerDoc) -> LayerDoc:
    """Spans keyed by (start, end, label), relations by (head, child, label); repeats merged.

    Works on the document's own dicts (readers make fresh ones): a corpus has ~20 of them
    per document, and copying each was a good part of reading it.
    """
    spans: dict[SpanKey, dict] = {}
    key_of: dict = {}
    for span in doc.spans:
        key = (span["start"], span["end"], span["label"])
        key_of[span["key"]] = key
        if key in spans:
            spans[key]["meta"] = merge_meta(spans[key]["meta"], span.get("meta") or {})
        else:
            span["key"], span["meta"] = key, span.get("meta") or {}
            spans[key] = span
    relations: dict[tuple, dict] = {}
    for rel in doc.relations:
        head, child = key_of[rel["head"]], key_of[rel["child"]]
        rkey = (head, child, rel["label"])
        if rkey in relations:
            relations[rkey]["meta"] = merge_meta(relations[rkey]["meta"], rel.get("meta") or {})
        else:
            rel["head"], rel["child"], rel["meta"] = head, child, rel.get("meta") or {}
            relations[rkey] = rel
    for claim in doc.claims:
        for ref in CLAIM_REFS:
            claim[ref] = key_of[claim[ref]] if claim.get(ref) is not None else None
    doc.spans = sorted(spans.values(), key=lambda s: s["key"])
    doc.relations = list(relations.values())
    return doc


def merged(docs: list[LayerDoc]) -> LayerDoc:
    """Several files' annotations of one text (annotation sets, copies) as one document."""
    first = docs[0]
    if len(docs) == 1:
        first.sources = [first.where]
        return unique(first)
    lang_from = next((d for d in docs if d.lang), first)
    out = LayerDoc(text=first.text, source=first.source, line=first.line, claimed_id=first.claimed_id,
                   title=first.title, lang=lang_from.lang, lang_source=lang_from.lang_source, meta=first.meta,
                   sources=[d.where for d in docs])
    for doc in docs:
        doc = unique(doc)  # keys are offsets now, the same in every copy
        out.spans += doc.spans
        out.relations += doc.relations
        out.claims += doc.claims
    return unique(out)


def fingerprint(spans: list[dict], relations: list[dict], claims: list[dict]) -> bytes:
    """What the annotations say, without ids or origins: equal fingerprints, equal layers.

    spans: start, end, label, meta, quantity fields; relations/claims refer to span keys.
    """
    rows = {
        "spans": [[s["start"], s["end"], s["label"], [_number(s.get(k)) for k in QUANTITY_FIELDS], s.get("meta") or {}]
                  for s in spans],
        "relations": [[list(r["head"]), list(r["child"]), r["label"], r.get("meta") or {}] for r in relations],
        "claims": [[[list(c[k]) if c.get(k) else None for k in CLAIM_REFS], c.get("property_text"),
                    sorted(c.get("modifiers") or []), c.get("meta") or {}] for c in claims],
    }
    rows = {kind: sorted(orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in items)
            for kind, items in rows.items()}
    return b"\n".join(b"%s:%s" % (kind.encode(), b"|".join(items)) for kind, items in rows.items())


def _number(value):
    """50000 and 50000.0 are one value (a file may write either; the database keeps floats)."""
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value
