"""Records of a layer read from the project: documents and their layer's contents a batch
at a time, as plain column rows (rows.py), built into the schema's shape (schema/build.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlmodel import Session

from annotator.export.rows import (
    DOCUMENT_COLUMNS,
    EXPORT_COLUMNS,
    fetch_document_batch,
    fetch_layer_batch,
    fetch_link_batch,
    fetch_suggestion_batch,
    layer_annotators,
    layer_documents_query,
)
from annotator.ingest.first_use import tokens_of
from annotator.models import GOLD, SUGGESTIONS, Document, Layer, TokenArray, uid_for_key
from annotator.schema.build import layer_record, suggestion_record
from annotator.schema.token_arrays import checked_count, export_tokens
from annotator.tokens import token_dicts


class UnknownLayer(LookupError):
    pass


def record_tokens(doc) -> list[dict]:
    """The document's tokens as exported ({"start", "end"} objects)."""
    return token_dicts(tokens_of(doc))


def checked_tokens(doc) -> list[dict]:
    """record_tokens(), refusing offsets that do not fit the text (checked on the packed
    numbers, before ~450 token objects are made)."""
    packed = tokens_of(doc)
    checked_count(packed, len(doc.text), doc.uid)
    return token_dicts(packed)


def sealed_tokens(doc):
    """checked_tokens() for an export: the document's kept array where its seal holds (a
    row of EXPORT_COLUMNS)."""
    return export_tokens(doc, tokens_of(doc))


# --- records --------------------------------------------------------------------------------


def iter_records(
    session: Session,
    layer: str,
    quantity_label: str,
    batch: int = 500,
    uids: list[str] | None = None,
    after: str = "",
    through: str | None = None,
    sealed: bool = False,
) -> Iterator[dict]:
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
        yield from _records_for(
            session,
            docs,
            layer,
            quantity_label,
            sealed_tokens if sealed else checked_tokens,
            after=last if uids is None else None,
        )
        if len(docs) < batch:
            return
        last = docs[-1].uid


def _records_for(
    session: Session,
    docs: list,
    layer: str,
    quantity_label: str,
    tokens_for: Callable[[object], list[dict]] = record_tokens,
    after: str | None = None,
) -> Iterator[dict]:
    if layer == SUGGESTIONS:
        by_doc = fetch_suggestion_batch(session, docs, after)
        claims, relations = fetch_link_batch(session, [d.id for d in docs])
        for doc in docs:
            yield suggestion_record(
                doc, by_doc[doc.id], quantity_label, tokens_for(doc), claims[doc.id], relations[doc.id]
            )
        return
    ids = [d.id for d in docs]
    layers, contents = fetch_layer_batch(session, ids, layer)
    curated_from = layer_annotators(session, ids) if layer == GOLD else {}
    for doc in docs:
        lay = layers[doc.id]
        annotators = curated_from[doc.id] if layer == GOLD else [lay.name]
        yield layer_record(doc, lay.name, contents[lay.id], quantity_label, annotators, tokens_for(doc), lay.meta)


def get_record(session: Session, key: str, layer: str, quantity_label: str) -> dict:
    """The record of one layer of the document `key` names (its uid or its source id)."""
    uid = session.connection().execute(uid_for_key(key)).scalar()
    doc = uid and session.connection().execute(select(*DOCUMENT_COLUMNS).where(Document.uid == uid)).first()
    if not doc:
        raise LookupError(f"no document with id {key!r}")
    if layer != SUGGESTIONS:
        exists = session.exec(select(Layer.id).where(Layer.document_id == doc.id, Layer.name == layer)).first()
        if exists is None:
            raise UnknownLayer(f"document {uid} has no layer {layer!r}")
    return next(_records_for(session, [doc], layer, quantity_label))
