"""JSONL annotations: the project's own export records, and Prodigy's task format.

One reader takes both, record by record:
- our records (docs/records.md): spans with ids, relations by span id (`head`, `child`),
  claims; QUANTITY spans bring their value, unit and qualifier;
- Prodigy: spans with start/end/label, relations with `head_span`/`child_span` objects
  (Prodigy's `head`/`child` token indices are ignored), `answer` other than "accept"
  skips the task; QUANTITY spans get their value from our normaliser.
Fields of an export record that describe the export itself (tokens, layer, annotators,
pipeline) are ignored: the layer is the one named on the command line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from annotator.labels import LabelConfig
from annotator.nlp.language import normalise_lang
from annotator.formats.text import NUL_IN_JSON, Problem, escapes_nul, first_line_title
from annotator.contents import (PARSE, QUANTITY_FIELDS, LayerDoc, offsets_problem, quantity_problem,
                       relation_problem)
from annotator.formats.labelmap import Unknowns

EXPORT_ONLY_META = ("pipeline",)


@dataclass
class JsonlRead:
    docs: list[LayerDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # Prodigy tasks answered reject or ignore


def read_jsonl(path: str, text: str, labels: LabelConfig, unknowns: Unknowns) -> JsonlRead:
    out = JsonlRead()
    for lineno, line in enumerate(text.split("\n"), 1):  # "\n" only: texts may hold other breaks
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            out.problems.append(Problem(path, lineno, f"malformed JSON: {exc}"))
            continue
        if escapes_nul(line, obj):
            out.problems.append(Problem(path, lineno, NUL_IN_JSON))
            continue
        if isinstance(obj, dict) and obj.get("answer", "accept") != "accept":
            out.skipped += 1
            continue
        doc, problems = read_record(obj, path, lineno, labels, unknowns)
        out.problems += [Problem(path, lineno, p) for p in problems]
        if doc is not None and not problems:
            out.docs.append(doc)
    if not out.docs and not out.problems and not out.skipped:
        out.problems.append(Problem(path, None, "no records in file"))
    return out


def read_record(obj, path: str, lineno: int, labels: LabelConfig, unknowns: Unknowns) -> tuple[LayerDoc | None, list[str]]:
    if not isinstance(obj, dict):
        return None, [f"expected a JSON object, got {type(obj).__name__}"]
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return None, ["missing 'text'" if text is None else "'text' must be a non-empty string"]
    meta = obj.get("meta", {})
    lang = obj.get("lang")
    claimed = obj.get("id")
    problems = []
    if not isinstance(meta, dict):
        problems.append("'meta' must be an object")
    if lang is not None and normalise_lang(lang) is None:
        problems.append(f"'lang' {lang!r} is not a language code")
    if claimed is not None and not isinstance(claimed, (str, int)):
        problems.append("'id' must be a string or a number")
    if problems:
        return None, problems
    meta = {k: v for k, v in meta.items() if k not in EXPORT_ONLY_META}
    title = meta.pop("title", None)
    source = meta.pop("source", None)
    doc = LayerDoc(text=text, source=path, line=lineno, claimed_id=str(claimed) if claimed is not None else None,
                   title=(title if isinstance(title, str) and title.strip() else first_line_title(text))[:200],
                   lang=normalise_lang(lang) if lang else None, meta=meta)
    if source:
        doc.meta["source"] = source
    if doc.claimed_id and doc.claimed_id != doc.uid:
        doc.meta["source_id"] = doc.claimed_id
    where = (path, lineno)
    by_id = _spans(obj.get("spans"), doc, labels, unknowns, where, problems)
    _relations(obj.get("relations"), doc, by_id, labels, unknowns, where, problems)
    _claims(obj.get("claims"), doc, by_id, labels, problems)
    return doc, problems


def _spans(spans, doc: LayerDoc, labels, unknowns: Unknowns, where, problems: list[str]) -> dict:
    """Spans into doc.spans; returns the checked span dicts by their record id."""
    if spans is None:
        return {}
    if not isinstance(spans, list):
        problems.append("'spans' must be a list")
        return {}
    by_id = {}
    for i, span in enumerate(spans):
        at = f"spans[{i}]"
        if not isinstance(span, dict):
            problems.append(f"{at}: expected an object")
            continue
        checked = _span(span, doc, labels, unknowns, where, at, problems)
        if checked is None:
            continue
        sid = span.get("id", i)
        if sid in by_id:
            problems.append(f"{at}: id {sid!r} is repeated")
            continue
        by_id[sid] = checked
        doc.spans.append(checked)
    return by_id


def _span(span: dict, doc: LayerDoc, labels: LabelConfig, unknowns: Unknowns, where, at: str,
          problems: list[str]) -> dict | None:
    start, end, label = span.get("start"), span.get("end"), span.get("label")
    problem = offsets_problem(doc.text, start, end)
    if problem is None and not isinstance(label, str):
        problem = "'label' must be a string"
    if problem is None and "text" in span and span["text"] != doc.text[start:end]:
        problem = (f"'text' {span['text']!r} does not match the document at {start}..{end} "
                   f"({doc.text[start:end]!r}); offsets are counted in Unicode code points")
    meta = span.get("meta", {})
    if problem is None and not isinstance(meta, dict):
        problem = "'meta' must be an object"
    if problem is None and unknowns.map.entity(label) == labels.quantity_label:
        problem = quantity_problem(span, labels)
    if problem:
        problems.append(f"{at}: {problem}")
        return None
    label = unknowns.entity(label, where)
    checked = {"key": span.get("id", at), "start": start, "end": end, "label": label, "meta": dict(meta)}
    if label == labels.quantity_label:
        given = any(k in span for k in QUANTITY_FIELDS)
        checked.update({k: span.get(k) for k in QUANTITY_FIELDS} if given else {PARSE: True})
    return checked


def _relations(relations, doc: LayerDoc, by_id: dict, labels, unknowns: Unknowns, where, problems: list[str]) -> None:
    if relations is None:
        return
    if not isinstance(relations, list):
        problems.append("'relations' must be a list")
        return
    for i, rel in enumerate(relations):
        at = f"relations[{i}]"
        if not isinstance(rel, dict) or not isinstance(rel.get("label"), str):
            problems.append(f"{at}: expected an object with a 'label'")
            continue
        ends = [_end(rel, side, doc, by_id, labels, unknowns, where, f"{at}.{side}", problems) for side in ("head", "child")]
        if None in ends:
            continue
        head, child = ends
        if head["key"] == child["key"]:
            problems.append(f"{at}: a relation needs two different spans")
            continue
        label = unknowns.relation(rel["label"], where)
        problem = relation_problem(labels, label, head["label"], child["label"])
        if problem:
            problems.append(f"{at}: {problem}")
            continue
        meta = rel.get("meta", {})
        doc.relations.append({"head": head["key"], "child": child["key"], "label": label,
                              "meta": dict(meta) if isinstance(meta, dict) else {}})


def _end(rel: dict, side: str, doc, by_id: dict, labels, unknowns, where, at: str, problems: list[str]) -> dict | None:
    """One end of a relation: our span id, or Prodigy's span object (added if new)."""
    prodigy = rel.get(f"{side}_span")
    if prodigy is None:
        ref = rel.get(side)
        if ref not in by_id:
            problems.append(f"{at}: no span has id {ref!r}")
            return None
        return by_id[ref]
    if not isinstance(prodigy, dict):
        problems.append(f"{at}_span: expected an object with start and end")
        return None
    start, end = prodigy.get("start"), prodigy.get("end")
    label = prodigy.get("label")
    mapped = unknowns.map.entity(label) if isinstance(label, str) else None
    for span in by_id.values():
        if (span["start"], span["end"]) == (start, end) and mapped in (None, span["label"]):
            return span
    if label is None:
        problems.append(f"{at}_span: no span at {start}..{end} in 'spans', and no label to make one")
        return None
    span = _span({**prodigy, "id": f"{at}_span"}, doc, labels, unknowns, where, f"{at}_span", problems)
    if span is not None:
        by_id[span["key"]] = span
        doc.spans.append(span)
    return span


def _claims(claims, doc: LayerDoc, by_id: dict, labels: LabelConfig, problems: list[str]) -> None:
    if claims is None:
        return
    if not isinstance(claims, list):
        problems.append("'claims' must be a list")
        return
    for i, claim in enumerate(claims):
        at = f"claims[{i}]"
        if not isinstance(claim, dict):
            problems.append(f"{at}: expected an object")
            continue
        found = _claim(claim, by_id, labels)
        if isinstance(found, str):
            problems.append(f"{at}: {found}")
        else:
            doc.claims.append(found)


def _claim(claim: dict, by_id: dict, labels: LabelConfig) -> dict | str:
    """A checked claim (refs are span keys), or what is wrong with it."""
    out = {}
    for ref in ("quantity", "entity", "condition", "time", "source"):
        value = claim.get(ref)
        if value is None and ref != "quantity":
            out[ref] = None
        elif value not in by_id:
            return f"'{ref}': no span has id {value!r}"
        else:
            out[ref] = by_id[value]["key"]
    if by_id[claim["quantity"]]["label"] != labels.quantity_label:
        return f"'quantity' must be a {labels.quantity_label} span"
    prop = claim.get("property")
    out["property"], out["property_text"] = None, None
    if isinstance(prop, dict) and set(prop) == {"span"} and prop["span"] in by_id:
        out["property"] = by_id[prop["span"]]["key"]
    elif isinstance(prop, dict) and set(prop) == {"text"} and isinstance(prop["text"], str) and prop["text"].strip():
        out["property_text"] = prop["text"].strip()[:500]
    elif prop is not None:
        return "'property' must be null, {\"span\": id} naming a span, or {\"text\": \"...\"}"
    modifiers = claim.get("modifiers", [])
    unknown = [m for m in modifiers if m not in labels.modifiers] if isinstance(modifiers, list) else None
    if unknown is None or unknown:
        return f"unknown modifiers {unknown} (known: {', '.join(labels.modifiers)})"
    meta = claim.get("meta", {})
    if not isinstance(meta, dict):
        return "'meta' must be an object"
    return {**out, "modifiers": sorted(set(modifiers)), "meta": dict(meta)}
