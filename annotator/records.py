"""Build exported records (the schema's shape) from stored documents and layers.

Documents and suggestions are read as plain column rows, not ORM objects: an export
touches every row once and never writes, and building ~50 ORM objects per document (and
reading their attributes through the ORM's instrumentation) was about half of its time.
"""
from __future__ import annotations

import operator
from typing import Iterator

from sqlalchemy import bindparam, select
from sqlmodel import Session

from .models import GOLD, SUGGESTIONS, Claim, Document, Layer, Relation, Span, Suggestion
from .nlp.language import settled
from .tokens import pack, token_dicts, tokenize

QUANTITY_FIELDS = ("value", "value_max", "tolerance", "unit", "qualifier")
REQUIRED_QUANTITY_FIELDS = ("value", "unit", "qualifier")
# What a record needs of a document (every column but the bookkeeping ones).
DOCUMENT_COLUMNS = (Document.id, Document.uid, Document.text, Document.lang, Document.meta, Document.title,
                    Document.source, Document.pipeline, Document.tokens)
# Unpacked by position in suggestion_span(); keep the two in step.
SUGGESTION_COLUMNS = (Suggestion.document_id, Suggestion.start, Suggestion.end, Suggestion.label, Suggestion.origin,
                      Suggestion.score, Suggestion.value, Suggestion.value_max, Suggestion.tolerance, Suggestion.unit,
                      Suggestion.qualifier)


class UnknownLayer(LookupError):
    pass


def fill_missing_tokens(db, batch: int = 500) -> int:
    """Tokenize documents imported without the pipeline (detecting their language first
    if that was left for first use), once, and keep the result.

    Runs before a read (export, show, the document view) so the read itself stays read-only.
    """
    done = 0
    while True:
        with db.reading() as session:
            rows = session.exec(select(Document.id, Document.text, Document.lang, Document.lang_source)
                                .where(Document.tokens.is_(None)).limit(batch)).all()
        if not rows:
            return done
        values = []
        for r in rows:
            lang, source = settled(r.text, r.lang, r.lang_source)
            values.append({"doc_id": r.id, "tokens": pack(tokenize(r.text, lang)), "new_lang": lang,
                           "new_source": source})
        with db.writing() as session:
            table = Document.__table__
            session.connection().execute(table.update().where(table.c.id == bindparam("doc_id"))
                                         .values(tokens=bindparam("tokens"), lang=bindparam("new_lang"),
                                                 lang_source=bindparam("new_source")), values)
        done += len(rows)


def record_tokens(doc) -> list[dict]:
    """The document's stored tokens; tokenized here (not stored) if it arrived after
    fill_missing_tokens ran, so a read never writes."""
    blob = doc.tokens if doc.tokens is not None else pack(tokenize(doc.text, doc.lang))
    return token_dicts(blob)


def span_json(text: str, row, quantity_label: str) -> dict:
    out = {"start": row.start, "end": row.end, "label": row.label, "text": text[row.start:row.end],
           "origin": row.origin}
    if getattr(row, "score", None) is not None:
        out["score"] = row.score
    if row.label == quantity_label:
        for key in QUANTITY_FIELDS:
            value = getattr(row, key)
            if value is not None or key in REQUIRED_QUANTITY_FIELDS:
                out[key] = value
    meta = getattr(row, "meta", None)
    if meta:
        out["meta"] = meta
    return out


def base_record(doc, layer: str, annotators: list[str]) -> dict:
    """`doc`: a row of DOCUMENT_COLUMNS (or a Document)."""
    meta = {**doc.meta, "title": doc.title, "source": doc.source}
    if doc.pipeline:
        meta["pipeline"] = doc.pipeline
    return {
        "id": doc.uid, "text": doc.text, "lang": doc.lang, "meta": meta, "tokens": record_tokens(doc),
        "spans": [], "relations": [], "claims": [], "layer": layer, "annotators": annotators,
    }


# start, end, label, origin of a SUGGESTION_COLUMNS row (a C-level sort key)
_SUGGESTION_ORDER = operator.itemgetter(1, 2, 3, 4)


def suggestion_record(doc, rows: list[tuple], quantity_label: str) -> dict:
    """`rows`: tuples of SUGGESTION_COLUMNS, in the order the database returned them."""
    record = base_record(doc, SUGGESTIONS, [])
    text = doc.text
    record["spans"] = [suggestion_span(f"s{i}", text, row, quantity_label)
                       for i, row in enumerate(sorted(rows, key=_SUGGESTION_ORDER), 1)]
    return record


def suggestion_span(span_id: str, text: str, row: tuple, quantity_label: str) -> dict:
    """span_json() for a suggestion row, by position: the same keys, far fewer lookups
    (there are ~50 per document). Suggestions carry no meta."""
    _doc_id, start, end, label, origin, score, value, value_max, tolerance, unit, qualifier = row
    out = {"id": span_id, "start": start, "end": end, "label": label, "text": text[start:end], "origin": origin}
    if score is not None:
        out["score"] = score
    if label == quantity_label:
        out["value"] = value
        if value_max is not None:
            out["value_max"] = value_max
        if tolerance is not None:
            out["tolerance"] = tolerance
        out["unit"] = unit
        out["qualifier"] = qualifier
    return out


def layer_record(doc, layer: Layer, spans: list[Span], relations: list[Relation],
                 claims: list[Claim], quantity_label: str, annotators: list[str]) -> dict:
    """Spans numbered in text order; relations and claims refer to those numbers."""
    record = base_record(doc, layer.name, annotators)
    spans = sorted(spans, key=lambda r: (r.start, r.end, r.label))
    ids = {row.id: f"s{i}" for i, row in enumerate(spans, 1)}
    record["spans"] = [{"id": ids[r.id], **span_json(doc.text, r, quantity_label)} for r in spans]
    rels = sorted(relations, key=lambda r: (ids[r.head_id], ids[r.child_id], r.label))
    record["relations"] = [
        {"id": f"r{i}", "head": ids[r.head_id], "child": ids[r.child_id], "label": r.label, **({"meta": r.meta} if r.meta else {})}
        for i, r in enumerate(rels, 1)
    ]
    claims = sorted(claims, key=lambda c: _span_order(ids[c.quantity_id]))
    record["claims"] = [claim_json(f"c{i}", c, ids) for i, c in enumerate(claims, 1)]
    return record


def _span_order(span_id: str) -> int:
    return int(span_id[1:])


def claim_json(claim_id: str, claim: Claim, ids: dict[int, str]) -> dict:
    ref = lambda key: ids.get(getattr(claim, key)) if getattr(claim, key) else None  # noqa: E731
    if claim.property_id:
        prop = {"span": ids[claim.property_id]}
    elif claim.property_text:
        prop = {"text": claim.property_text}
    else:
        prop = None
    out = {"id": claim_id, "quantity": ids[claim.quantity_id], "entity": ref("entity_id"), "property": prop,
           "condition": ref("condition_id"), "modifiers": list(claim.modifiers),
           "time": ref("time_id"), "source": ref("source_id")}
    if claim.meta:
        out["meta"] = claim.meta
    return out


def layer_documents_query(layer: str):
    """Documents (rows of DOCUMENT_COLUMNS) that have something to export for `layer`."""
    if layer == SUGGESTIONS:
        return select(*DOCUMENT_COLUMNS)
    query = select(*DOCUMENT_COLUMNS).join(Layer, Layer.document_id == Document.id).where(Layer.name == layer)
    if layer == GOLD:
        query = query.where(Layer.status == "done")  # only gold-done documents are released
    return query


def iter_records(session: Session, layer: str, quantity_label: str, batch: int = 500,
                 uids: list[str] | None = None) -> Iterator[dict]:
    """Records of one layer, ordered by document uid (stable across databases)."""
    query = layer_documents_query(layer).order_by(Document.uid)
    if uids is not None:
        query = query.where(Document.uid.in_(uids))
    last = ""
    while True:
        docs = fetch_document_batch(session, query, last, batch)
        if not docs:
            return
        yield from _records_for(session, docs, layer, quantity_label)
        last = docs[-1].uid


def fetch_document_batch(session: Session, query, after: str, batch: int) -> list:
    """The next `batch` documents of `query` (rows of DOCUMENT_COLUMNS) after uid `after`."""
    return session.connection().execute(query.where(Document.uid > after).limit(batch)).all()


def fetch_suggestion_batch(session: Session, ids: list[int]) -> dict[int, list[tuple]]:
    """Suggestion rows (SUGGESTION_COLUMNS) of these documents, grouped by document.

    Read through the session's connection (Core rows): the ORM's row loading would cost
    about as much again as the query, for ~25,000 rows per batch.
    """
    by_doc: dict[int, list] = {i: [] for i in ids}
    rows = session.connection().execute(select(*SUGGESTION_COLUMNS).where(Suggestion.document_id.in_(ids))).all()
    for row in rows:
        by_doc[row[0]].append(row)
    return by_doc


def _records_for(session: Session, docs: list, layer: str, quantity_label: str) -> Iterator[dict]:
    ids = [d.id for d in docs]
    if layer == SUGGESTIONS:
        by_doc = fetch_suggestion_batch(session, ids)
        for doc in docs:
            yield suggestion_record(doc, by_doc[doc.id], quantity_label)
        return
    layers = {l.document_id: l for l in session.exec(
        select(Layer).where(Layer.document_id.in_(ids), Layer.name == layer)).scalars()}
    layer_ids = [l.id for l in layers.values()]
    spans, rels, claims = ({l: [] for l in layer_ids} for _ in range(3))
    for model, bucket in ((Span, spans), (Relation, rels), (Claim, claims)):
        for row in session.exec(select(model).where(model.layer_id.in_(layer_ids))).scalars():
            bucket[row.layer_id].append(row)
    for doc in docs:
        lay = layers[doc.id]
        annotators = [] if lay.kind == "gold" else [lay.name]
        yield layer_record(doc, lay, spans[lay.id], rels[lay.id], claims[lay.id], quantity_label, annotators)


def get_record(session: Session, uid: str, layer: str, quantity_label: str) -> dict:
    doc = session.connection().execute(select(*DOCUMENT_COLUMNS).where(Document.uid == uid)).first()
    if doc is None:
        raise LookupError(f"no document with id {uid!r}")
    if layer != SUGGESTIONS:
        exists = session.exec(select(Layer.id).where(Layer.document_id == doc.id, Layer.name == layer)).first()
        if exists is None:
            raise UnknownLayer(f"document {uid} has no layer {layer!r}")
    return next(_records_for(session, [doc], layer, quantity_label))
