"""Build exported records (the schema's shape) from stored documents and layers, read as
plain column rows a batch at a time (record_rows.py)."""
from __future__ import annotations

import operator
from typing import Callable, Iterator

from sqlalchemy import bindparam, select
from sqlmodel import Session

from annotator.models import GOLD, QUANTITY_FIELDS, SUGGESTIONS, Document, Layer, TokenArray
from annotator.ingest.documents import reparse_imported_quantities
from annotator.nlp.language import PENDING, settled
from annotator.export.rows import (DOCUMENT_COLUMNS, EXPORT_COLUMNS, fetch_document_batch, fetch_layer_batch,
                          fetch_suggestion_batch, layer_annotators, layer_documents_query)
from annotator.token_arrays import Tokenized, checked_count, export_tokens, keep_arrays
from annotator.tokens import pack, token_dicts, tokenize

REQUIRED_QUANTITY_FIELDS = ("value", "unit", "qualifier")


class UnknownLayer(LookupError):
    pass


def fill_missing_tokens(db, batch: int = 500, quantity_label: str = "QUANTITY") -> int:
    """Tokenize documents imported without the pipeline (detecting their language first
    if that was left for first use), once, and keep the result.

    Runs before a read (export, show, the document view) so the read itself stays read-only.
    """
    done = 0
    while True:
        with db.reading() as session:
            rows = session.exec(select(Document.id, Document.uid, Document.text, Document.lang, Document.lang_source)
                                .where(Document.tokens.is_(None)).limit(batch)).all()
        if not rows:
            return done
        values, detected = [], {}
        for r in rows:
            lang, source = settled(r.text, r.lang, r.lang_source)
            values.append({"doc_id": r.id, "tokens": pack(tokenize(r.text, lang)), "new_lang": lang,
                           "new_source": source})
            if r.lang_source == PENDING:
                detected[r.id] = lang
        with db.writing() as session:
            table = Document.__table__
            session.connection().execute(table.update().where(table.c.id == bindparam("doc_id"))
                                         .values(tokens=bindparam("tokens"), lang=bindparam("new_lang"),
                                                 lang_source=bindparam("new_source")), values)
            keep_arrays(session.connection(), [Tokenized(r.id, r.uid, r.text, v["tokens"])
                                               for r, v in zip(rows, values)])
            reparse_imported_quantities(session, detected, quantity_label)
        done += len(rows)


def _stored_tokens(doc) -> bytes:
    """Tokenized here (not stored) if the document arrived after fill_missing_tokens ran,
    so a read never writes."""
    return doc.tokens if doc.tokens is not None else pack(tokenize(doc.text, doc.lang))


def record_tokens(doc) -> list[dict]:
    """The document's tokens as exported ({"start", "end"} objects)."""
    return token_dicts(_stored_tokens(doc))


def checked_tokens(doc) -> list[dict]:
    """record_tokens(), refusing offsets that do not fit the text (checked on the packed
    numbers, before ~450 token objects are made)."""
    packed = _stored_tokens(doc)
    checked_count(packed, len(doc.text), doc.uid)
    return token_dicts(packed)


def sealed_tokens(doc):
    """checked_tokens() for an export: the document's kept array where its seal holds (a
    row of EXPORT_COLUMNS)."""
    return export_tokens(doc, _stored_tokens(doc))


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


def base_record(doc, layer: str, annotators: list[str], tokens: list[dict] | None = None) -> dict:
    """`doc`: a row of DOCUMENT_COLUMNS (or a Document)."""
    meta = {**doc.meta, "title": doc.title, "source": doc.source}
    if doc.pipeline:
        meta["pipeline"] = doc.pipeline
    return {
        "id": doc.uid, "text": doc.text, "lang": doc.lang, "meta": meta,
        "tokens": record_tokens(doc) if tokens is None else tokens,
        "spans": [], "relations": [], "claims": [], "layer": layer, "annotators": annotators,
    }


# start, end, label, origin of a SUGGESTION_COLUMNS row (a C-level sort key)
_SUGGESTION_ORDER = operator.itemgetter(1, 2, 3, 4)


def suggestion_record(doc, rows: list[tuple], quantity_label: str, tokens: list[dict] | None = None) -> dict:
    """`rows`: tuples of SUGGESTION_COLUMNS, in the order the database returned them."""
    record = base_record(doc, SUGGESTIONS, [], tokens)
    record["spans"] = suggestion_spans(doc.text, sorted(rows, key=_SUGGESTION_ORDER), quantity_label)
    return record


def suggestion_spans(text: str, rows: list[tuple], quantity_label: str) -> list[dict]:
    """span_json() for suggestion rows (already in text order), by position and in one loop:
    the same keys, far fewer lookups and calls (there are ~50 per document). Suggestions
    carry no meta."""
    spans = []
    for span_id, (_doc_id, start, end, label, origin, score, value, value_max, tolerance, unit, qualifier) \
            in zip(span_ids(len(rows)), rows):
        if label == quantity_label:
            out = {"id": span_id, "start": start, "end": end, "label": label, "text": text[start:end],
                   "origin": origin, "value": value, "unit": unit, "qualifier": qualifier}
            if value_max is not None:
                out["value_max"] = value_max
            if tolerance is not None:
                out["tolerance"] = tolerance
        else:
            out = {"id": span_id, "start": start, "end": end, "label": label, "text": text[start:end],
                   "origin": origin}
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


def layer_record(doc, layer, spans: list, relations: list, claims: list, quantity_label: str,
                 annotators: list[str], tokens: list[dict] | None = None) -> dict:
    """Spans numbered in text order; relations and claims refer to those numbers.

    `layer` needs a `name`; spans, relations and claims are rows of their *_COLUMNS (or
    ORM objects)."""
    record = base_record(doc, layer.name, annotators, tokens)
    spans = sorted(spans, key=_SPAN_ORDER)
    ids = dict(zip(map(_ID, spans), span_ids(len(spans))))
    record["spans"] = [{"id": ids[r.id], **span_json(doc.text, r, quantity_label)} for r in spans]
    rels = sorted(relations, key=lambda r: (ids[r.head_id], ids[r.child_id], r.label))
    record["relations"] = [
        {"id": f"r{i}", "head": ids[r.head_id], "child": ids[r.child_id], "label": r.label, **({"meta": r.meta} if r.meta else {})}
        for i, r in enumerate(rels, 1)
    ]
    claims = sorted(claims, key=lambda c: _span_order(ids[c.quantity_id]))
    record["claims"] = [claim_json(f"c{i}", c, ids) for i, c in enumerate(claims, 1)]
    return record


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
    out = {"id": claim_id, "quantity": ids[claim.quantity_id], "entity": ref("entity_id"), "property": prop,
           "condition": ref("condition_id"), "modifiers": list(claim.modifiers),
           "time": ref("time_id"), "source": ref("source_id")}
    if claim.meta:
        out["meta"] = claim.meta
    return out


# --- records --------------------------------------------------------------------------------

def iter_records(session: Session, layer: str, quantity_label: str, batch: int = 500,
                 uids: list[str] | None = None, after: str = "", through: str | None = None,
                 sealed: bool = False) -> Iterator[dict]:
    """Records of one layer, ordered by document uid (stable across databases): every one,
    those of `uids`, or those after uid `after` up to `through` (a chunk of an export).

    Their tokens are checked against the text as they are unpacked (StoredTokensError).
    `sealed`: a record's tokens may be its document's kept array (token_arrays.SealedArray),
    for an export, which validates the rest of the record and splices the array's bytes."""
    query = layer_documents_query(layer, EXPORT_COLUMNS if sealed else DOCUMENT_COLUMNS).order_by(Document.uid)
    if sealed:
        query = query.outerjoin(TokenArray, TokenArray.document_id == Document.id)
    if uids is not None:
        query = query.where(Document.uid.in_(uids))
    if through is not None:
        query = query.where(Document.uid <= through)
    last = after
    while True:
        docs = fetch_document_batch(session, query, last, batch)
        if not docs:
            return
        # a run of uids is a range: its suggestions need no list of ids (unless only some
        # documents of the range were asked for)
        yield from _records_for(session, docs, layer, quantity_label, sealed_tokens if sealed else checked_tokens,
                                after=last if uids is None else None)
        if len(docs) < batch:
            return
        last = docs[-1].uid


def _records_for(session: Session, docs: list, layer: str, quantity_label: str,
                 tokens_of: Callable[[object], list[dict]] = record_tokens, after: str | None = None) -> Iterator[dict]:
    if layer == SUGGESTIONS:
        by_doc = fetch_suggestion_batch(session, docs, after)
        for doc in docs:
            yield suggestion_record(doc, by_doc[doc.id], quantity_label, tokens_of(doc))
        return
    ids = [d.id for d in docs]
    layers, spans, rels, claims = fetch_layer_batch(session, ids, layer)
    curated_from = layer_annotators(session, ids) if layer == GOLD else {}
    for doc in docs:
        lay = layers[doc.id]
        annotators = curated_from[doc.id] if layer == GOLD else [lay.name]
        yield layer_record(doc, lay, spans[lay.id], rels[lay.id], claims[lay.id], quantity_label, annotators,
                           tokens_of(doc))


def get_record(session: Session, uid: str, layer: str, quantity_label: str) -> dict:
    doc = session.connection().execute(select(*DOCUMENT_COLUMNS).where(Document.uid == uid)).first()
    if doc is None:
        raise LookupError(f"no document with id {uid!r}")
    if layer != SUGGESTIONS:
        exists = session.exec(select(Layer.id).where(Layer.document_id == doc.id, Layer.name == layer)).first()
        if exists is None:
            raise UnknownLayer(f"document {uid} has no layer {layer!r}")
    return next(_records_for(session, [doc], layer, quantity_label))
