"""JSONL in: the project's own export records, and Prodigy's task format, record by record.

One reader for every JSONL import, of documents and of layers alike:
- our records (docs/records.md): spans with ids, relations by span id (`head`, `child`),
  claims; QUANTITY spans bring their value, unit and qualifier;
- Prodigy: spans with start/end/label, relations with `head_span`/`child_span` objects
  (Prodigy's `head`/`child` token indices are ignored), `answer` other than "accept"
  skips the task; QUANTITY spans get their value from our normaliser.
Fields of an export record that describe the export itself (tokens, layer, annotators,
pipeline) are ignored. A line with a problem is reported with its number and stores nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import orjson

from annotator.contents import ClaimItem, Incoming, RelationItem, SpanItem, TextAt
from annotator.formats.checks import offsets_problem, quantity_problem, relation_problem
from annotator.formats.files import TITLE_MAX, FileRead, Unreadable, first_line_title, text_lines
from annotator.formats.labelmap import Unknowns
from annotator.labels import CLAIM_ROLES, LabelConfig
from annotator.models import QUANTITY_FIELDS
from annotator.nlp.language import normalise_lang
from annotator.problems import Problem

SUFFIXES = (".jsonl",)
EXPORT_ONLY_META = ("pipeline",)
ID_MAX = 200  # a document's source id (models.Document.source_id)
NUL_IN_JSON = "a value holds a NUL character (\\u0000), which cannot be stored as text"


def read_jsonl_file(
    path: Path, labels: LabelConfig, unknowns: Unknowns, held: Callable[[Incoming], None] | None = None
) -> FileRead:
    """A file's records, read a line at a time (the file is never held whole). Each record
    notes where its text can be read again, and is given to `held` (which may let go of it)."""
    at: dict[int, tuple[int, int]] = {}
    where = str(path)

    def placed(doc: Incoming) -> None:
        doc.text_at = TextAt(where, *at.pop(doc.line))
        if held is not None:
            held(doc)

    try:
        return read_jsonl(where, text_lines(path, at), labels, unknowns, placed)
    except Unreadable as exc:
        return FileRead(where, problems=[exc.problem])


def read_jsonl(
    path: str,
    lines: Iterable[tuple[int, str]],
    labels: LabelConfig,
    unknowns: Unknowns,
    placed: Callable[[Incoming], None] | None = None,
) -> FileRead:
    """The records of (line number, line) pairs; lines are split on "\n" only: a record's
    text may hold \r, \u2028 and other line breaks inside its JSON string, and those must
    not be taken for record boundaries. `placed`: told of each document kept."""
    out = FileRead(path)
    for lineno, line in lines:
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
        if doc is not None:
            out.uids.add(doc.uid)
            if not problems:
                out.docs.append(doc)
                if placed is not None:
                    placed(doc)
    if not out.docs and not out.problems and not out.skipped:
        out.problems.append(Problem(path, None, "no records in file"))
    return out


def escapes_nul(line: str, obj) -> bool:
    """Whether a parsed JSON line holds NUL in a string: only the escape \\u0000 can put it
    there (JSON forbids the raw character), so most lines are cleared by one search."""
    return "\\u0000" in line and _holds_nul(obj)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(map(_holds_nul, value.keys())) or any(map(_holds_nul, value.values()))
    if isinstance(value, list):
        return any(map(_holds_nul, value))
    return False


def read_record(
    obj, path: str, lineno: int, labels: LabelConfig, unknowns: Unknowns
) -> tuple[Incoming | None, list[str]]:
    if not isinstance(obj, dict):
        return None, [f"expected a JSON object, got {type(obj).__name__}"]
    text = obj.get("text")
    if not isinstance(text, str):
        return None, ["missing 'text'" if text is None else f"'text' must be a string, got {type(text).__name__}"]
    if not text.strip():
        return None, ["empty 'text'"]
    meta, lang, claimed = obj.get("meta", {}), obj.get("lang"), obj.get("id")
    problems = []
    if not isinstance(meta, dict):
        problems.append("'meta' must be an object")
    if lang is not None and normalise_lang(lang) is None:
        problems.append(f"'lang' {lang!r} is not a language code")
    if claimed is not None and (not isinstance(claimed, (str, int)) or isinstance(claimed, bool)):
        problems.append("'id' must be a string or a number")
    if problems:
        return None, problems
    meta = {k: v for k, v in meta.items() if k not in EXPORT_ONLY_META}
    title = meta.pop("title", None)
    doc = Incoming(
        text=text,
        source=path,
        line=lineno,
        claimed_id=str(claimed) if claimed is not None else None,
        title=(title if isinstance(title, str) and title.strip() else first_line_title(text))[:TITLE_MAX],
        lang=normalise_lang(lang) if lang else None,
        meta=meta,
    )
    doc.sources = [doc.where]
    if doc.claimed_id is not None and len(doc.claimed_id) > ID_MAX:
        return None, [f"'id' is longer than {ID_MAX} characters"]
    layer_meta = obj.get("layer_meta", {})
    if not isinstance(layer_meta, dict):
        return None, ["'layer_meta' must be an object"]
    doc.layer_meta = dict(layer_meta)
    where = (path, lineno)
    by_id = _spans(obj.get("spans"), doc, labels, unknowns, where, problems)
    _relations(obj.get("relations"), doc, by_id, labels, unknowns, where, problems)
    _claims(obj.get("claims"), doc, by_id, labels, problems)
    return doc, problems


def _spans(spans, doc: Incoming, labels, unknowns: Unknowns, where, problems: list[str]) -> dict:
    """Spans into the document's contents; returns the checked spans by their record id."""
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
        sid = span.get("id", i)
        if not isinstance(sid, (str, int)) or isinstance(sid, bool):
            problems.append(f"{at}: 'id' must be a string or a number")
            continue
        checked = _span(span, doc, labels, unknowns, where, at, problems)
        if checked is None:
            continue
        if sid in by_id:
            problems.append(f"{at}: id {sid!r} is repeated")
            continue
        by_id[sid] = checked
        doc.contents.spans.append(checked)
    return by_id


def _span(
    span: dict, doc: Incoming, labels: LabelConfig, unknowns: Unknowns, where, at: str, problems: list[str]
) -> SpanItem | None:
    start, end, label = span.get("start"), span.get("end"), span.get("label")
    problem = offsets_problem(doc.text, start, end)
    if problem is None and not isinstance(label, str):
        problem = "'label' must be a string"
    if problem is None and "text" in span and span["text"] != doc.text[start:end]:
        problem = (
            f"'text' {span['text']!r} does not match the document at {start}..{end} "
            f"({doc.text[start:end]!r}); offsets are counted in Unicode code points"
        )
    meta = span.get("meta", {})
    if problem is None and not isinstance(meta, dict):
        problem = "'meta' must be an object"
    if problem is None and unknowns.map.entity(label) == labels.quantity_label:
        problem = quantity_problem(span, labels)
    if problem:
        problems.append(f"{at}: {problem}")
        return None
    label = unknowns.entity(label, where)
    item = SpanItem(span.get("id", at), start, end, label, meta=dict(meta))
    if label == labels.quantity_label:
        if any(k in span for k in QUANTITY_FIELDS):
            for k in QUANTITY_FIELDS:
                setattr(item, k, span.get(k))
        else:
            item.parse = True
    return item


def _relations(relations, doc: Incoming, by_id: dict, labels, unknowns: Unknowns, where, problems: list[str]) -> None:
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
        ends = [
            _end(rel, side, doc, by_id, labels, unknowns, where, f"{at}.{side}", problems) for side in ("head", "child")
        ]
        if None in ends:
            continue
        head, child = ends
        if head.id == child.id:
            problems.append(f"{at}: a relation needs two different spans")
            continue
        label = unknowns.relation(rel["label"], where)
        problem = relation_problem(labels, label, head.label, child.label)
        if problem:
            problems.append(f"{at}: {problem}")
            continue
        meta = rel.get("meta", {})
        doc.contents.relations.append(
            RelationItem(head.id, child.id, label, dict(meta) if isinstance(meta, dict) else {})
        )


def _end(
    rel: dict, side: str, doc, by_id: dict, labels, unknowns, where, at: str, problems: list[str]
) -> SpanItem | None:
    """One end of a relation: our span id, or Prodigy's span object (added if new)."""
    prodigy = rel.get(f"{side}_span")
    if prodigy is None:
        ref = rel.get(side)
        if not _is_key(ref) or ref not in by_id:
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
        if (span.start, span.end) == (start, end) and mapped in (None, span.label):
            return span
    if label is None:
        problems.append(f"{at}_span: no span at {start}..{end} in 'spans', and no label to make one")
        return None
    span = _span({**prodigy, "id": f"{at}_span"}, doc, labels, unknowns, where, f"{at}_span", problems)
    if span is not None:
        by_id[span.id] = span
        doc.contents.spans.append(span)
    return span


def _is_key(value) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def _claims(claims, doc: Incoming, by_id: dict, labels: LabelConfig, problems: list[str]) -> None:
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
            doc.contents.claims.append(found)


def _claim(claim: dict, by_id: dict, labels: LabelConfig) -> ClaimItem | str:
    """A checked claim (its parts are span ids of the record), or what is wrong with it."""
    parts = {}
    for role in CLAIM_ROLES:
        if role == "property":
            continue
        value = claim.get(role)
        if value is None and role != "quantity":
            parts[f"{role}_id"] = None
        elif not _is_key(value) or value not in by_id:
            return f"'{role}': no span has id {value!r}"
        else:
            parts[f"{role}_id"] = by_id[value].id
    if by_id[claim["quantity"]].label != labels.quantity_label:
        return f"'quantity' must be a {labels.quantity_label} span"
    prop = claim.get("property")
    parts["property_id"], parts["property_text"] = None, None
    if isinstance(prop, dict) and set(prop) == {"span"} and _is_key(prop["span"]) and prop["span"] in by_id:
        parts["property_id"] = by_id[prop["span"]].id
    elif isinstance(prop, dict) and set(prop) == {"text"} and isinstance(prop["text"], str) and prop["text"].strip():
        parts["property_text"] = prop["text"].strip()[:500]
    elif prop is not None:
        return '\'property\' must be null, {"span": id} naming a span, or {"text": "..."}'
    modifiers = claim.get("modifiers", [])
    if not isinstance(modifiers, list) or not all(isinstance(m, str) for m in modifiers):
        return "'modifiers' must be a list of names"
    unknown = [m for m in modifiers if m not in labels.modifiers]
    if unknown:
        return f"unknown modifiers {unknown} (known: {', '.join(labels.modifiers)})"
    meta = claim.get("meta", {})
    if not isinstance(meta, dict):
        return "'meta' must be an object"
    return ClaimItem(**parts, modifiers=sorted(set(modifiers)), meta=dict(meta))
