"""Records, the schema's shape, built from a document and a layer's contents.

Deterministic: spans are numbered in text order (s1, s2, ...), relations and claims refer
to those numbers, and keys come out the same for the same data, so an export of unchanged
data gives the same bytes. Only QUANTITY spans carry value, unit and qualifier.
"""

from __future__ import annotations

import operator

from annotator.contents import Contents
from annotator.models import QUANTITY_FIELDS, SUGGESTIONS

REQUIRED_QUANTITY_FIELDS = ("value", "unit", "qualifier")


def span_json(text: str, row, quantity_label: str) -> dict:
    """A layer's span (a row of SPAN_COLUMNS or a Span) as exported. Spans carry no score:
    only suggestions have one (suggestion_spans)."""
    start, end = row.start, row.end
    out = {"start": start, "end": end, "label": row.label, "text": text[start:end], "origin": row.origin}
    if out["label"] == quantity_label:
        for key in QUANTITY_FIELDS:
            value = getattr(row, key)
            if value is not None or key in REQUIRED_QUANTITY_FIELDS:
                out[key] = value
    meta = row.meta
    if meta:
        out["meta"] = meta
    return out


def base_record(doc, layer: str, annotators: list[str], tokens, layer_meta: dict | None = None) -> dict:
    """`doc`: a row of DOCUMENT_COLUMNS (or a Document); `tokens` as the record carries them."""
    meta = {**doc.meta, "title": doc.title, "source": doc.source}
    if doc.pipeline:
        meta["pipeline"] = doc.pipeline
    record = {
        "id": doc.uid,
        "text": doc.text,
        "lang": doc.lang,
        "meta": meta,
        "tokens": tokens,
        "spans": [],
        "relations": [],
        "claims": [],
        "layer": layer,
        "annotators": annotators,
    }
    if doc.source_id:
        record["source_id"] = doc.source_id
    if layer_meta:
        record["layer_meta"] = layer_meta
    return record


# start, end, label, origin of a SUGGESTION_COLUMNS row (a C-level sort key)
_SUGGESTION_ORDER = operator.itemgetter(1, 2, 3, 4)


def suggestion_record(doc, rows: list[tuple], quantity_label: str, tokens, claims=(), relations=()) -> dict:
    """`rows`: tuples of SUGGESTION_COLUMNS, in the order the database returned them;
    `claims` and `relations`: rows of CLAIM_SUGGESTION_COLUMNS and RELATION_SUGGESTION_COLUMNS
    (export/rows.py) naming those suggestions by id."""
    record = base_record(doc, SUGGESTIONS, [], tokens)
    rows = sorted(rows, key=_SUGGESTION_ORDER)
    record["spans"] = suggestion_spans(doc.text, rows, quantity_label)
    if claims or relations:
        ids = dict(zip((row[-1] for row in rows), span_ids(len(rows))))
        record["claims"] = suggested_claims(claims, ids)
        record["relations"] = suggested_relations(relations, ids)
    return record


def suggested_claims(rows, ids: dict[int, str]) -> list[dict]:
    """Claim suggestions as records hold claims, in the order of their quantities; each
    names what made it. A part whose suggestion is gone (SET NULL) is left out."""
    out = []
    for quantity, entity, prop, condition, modifiers, origin, score in rows:
        if quantity not in ids:
            continue
        claim = {
            "quantity": ids[quantity],
            "entity": ids.get(entity),
            "property": {"span": ids[prop]} if prop in ids else None,
            "condition": ids.get(condition),
            "modifiers": list(modifiers or []),
            "origin": origin,
        }
        if score is not None:
            claim["score"] = score
        out.append(claim)
    out.sort(key=lambda c: (_span_order(c["quantity"]), _span_order(c["entity"] or "s0")))
    return [{"id": f"c{i}", **claim} for i, claim in enumerate(out, 1)]


def suggested_relations(rows, ids: dict[int, str]) -> list[dict]:
    out = []
    for head, child, label, origin, score in rows:
        if head in ids and child in ids:
            rel = {"head": ids[head], "child": ids[child], "label": label, "origin": origin}
            if score is not None:
                rel["score"] = score
            out.append(rel)
    out.sort(key=lambda r: (_span_order(r["head"]), _span_order(r["child"]), r["label"]))
    return [{"id": f"r{i}", **rel} for i, rel in enumerate(out, 1)]


def suggestion_spans(text: str, rows: list[tuple], quantity_label: str) -> list[dict]:
    """span_json() for suggestion rows (already in text order), by position and in one loop:
    the same keys, far fewer lookups and calls (there are ~50 per document). Suggestions
    carry no meta."""
    spans = []
    for span_id, (_doc_id, start, end, label, origin, score, value, value_max, tolerance, unit, qualifier, _id) in zip(
        span_ids(len(rows)), rows
    ):
        if label == quantity_label:
            out = {
                "id": span_id,
                "start": start,
                "end": end,
                "label": label,
                "text": text[start:end],
                "origin": origin,
                "value": value,
                "unit": unit,
                "qualifier": qualifier,
            }
            if value_max is not None:
                out["value_max"] = value_max
            if tolerance is not None:
                out["tolerance"] = tolerance
        else:
            out = {"id": span_id, "start": start, "end": end, "label": label, "text": text[start:end], "origin": origin}
        if score is not None:
            out["score"] = score
        spans.append(out)
    return spans


_SPAN_IDS: list[str] = []


def span_ids(n: int) -> list[str]:
    """s1, s2, ...: made once and shared, not formatted again for every span of every record."""
    while len(_SPAN_IDS) < n:
        _SPAN_IDS.extend(f"s{i}" for i in range(len(_SPAN_IDS) + 1, 2 * len(_SPAN_IDS) + 65))
    return _SPAN_IDS


def layer_record(
    doc, layer: str, contents: Contents, quantity_label: str, annotators: list[str], tokens, layer_meta=None
) -> dict:
    """Spans numbered in text order; relations and claims refer to those numbers."""
    record = base_record(doc, layer, annotators, tokens, layer_meta)
    record.update(contents_json(doc.text, contents, quantity_label))
    return record


def contents_json(text: str, contents: Contents, quantity_label: str) -> dict:
    """A layer's spans, relations and claims as a record holds them."""
    spans = sorted(contents.spans, key=_SPAN_ORDER)
    ids = dict(zip(map(_ID, spans), span_ids(len(spans))))
    rels = sorted(contents.relations, key=lambda r: (ids[r.head_id], ids[r.child_id], r.label))
    claims = sorted(contents.claims, key=lambda c: _span_order(ids[c.quantity_id]))
    return {
        "spans": [{"id": ids[r.id], **span_json(text, r, quantity_label)} for r in spans],
        "relations": [
            {
                "id": f"r{i}",
                "head": ids[r.head_id],
                "child": ids[r.child_id],
                "label": r.label,
                **({"meta": r.meta} if r.meta else {}),
            }
            for i, r in enumerate(rels, 1)
        ],
        "claims": [claim_json(f"c{i}", c, ids) for i, c in enumerate(claims, 1)],
    }


_SPAN_ORDER = operator.attrgetter("start", "end", "label")
_ID = operator.attrgetter("id")


def _span_order(span_id: str) -> int:
    return int(span_id[1:])


def claim_json(claim_id: str, claim, ids: dict[int, str]) -> dict:
    ref = lambda key: ids.get(getattr(claim, key)) if getattr(claim, key) else None  # noqa: E731
    if claim.property_id:
        prop = {"span": ids[claim.property_id]}
    elif claim.property_text:
        prop = {"text": claim.property_text}
    else:
        prop = None
    out = {
        "id": claim_id,
        "quantity": ids[claim.quantity_id],
        "entity": ref("entity_id"),
        "property": prop,
        "condition": ref("condition_id"),
        "modifiers": list(claim.modifiers),
        "time": ref("time_id"),
        "source": ref("source_id"),
    }
    if claim.meta:
        out["meta"] = claim.meta
    return out
