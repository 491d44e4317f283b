"""The rows exported records are built from: which documents a layer exports, and their
rows read a batch at a time.

Everything is read as plain column rows, not ORM objects: an export touches every row once
and never writes, and building ~50 ORM objects per document (and reading their attributes
through the ORM's instrumentation) was about half of its time.
"""

from __future__ import annotations

import operator
from itertools import groupby

from sqlalchemy import func, select
from sqlmodel import Session

from annotator.contents import SUGGESTION_COLUMNS, Contents, load_contents
from annotator.models import (
    GOLD,
    RESERVED_LAYER_NAMES,
    SUGGESTIONS,
    AuditEvent,
    ClaimSuggestion,
    Document,
    Layer,
    RelationSuggestion,
    Suggestion,
    TokenArray,
)

# What a record needs of a document (every column but the bookkeeping ones).
DOCUMENT_COLUMNS = (
    Document.source_id,
    Document.id,
    Document.uid,
    Document.text,
    Document.lang,
    Document.meta,
    Document.title,
    Document.source,
    Document.pipeline,
    Document.tokens,
)
# ... and for an export, the document's kept token array (schema/token_arrays.py), if any.
EXPORT_COLUMNS = (*DOCUMENT_COLUMNS, TokenArray.seal, TokenArray.data)
LAYER_COLUMNS = (Layer.id, Layer.document_id, Layer.name, Layer.meta)


# --- which documents a layer exports --------------------------------------------------------


def layer_documents_query(layer: str, columns=DOCUMENT_COLUMNS):
    """Documents (rows of `columns`) that have something to export for `layer`."""
    if layer == SUGGESTIONS:
        return select(*columns)
    query = select(*columns).join(Layer, Layer.document_id == Document.id).where(Layer.name == layer)
    if layer == GOLD:
        query = query.where(Layer.status == "done")  # only gold-done documents are released
    else:
        # an assignment makes an empty layer; "no entities here" is only said by a layer
        # someone worked on (marking done with no spans bumps the version too)
        query = query.where(Layer.version > 0)
    return query


def export_uids(session: Session, layer: str) -> list[str]:
    """Ids of the documents `layer` exports, in export order (by uid, stable across databases)."""
    query = layer_documents_query(layer, (Document.uid,)).order_by(Document.uid)
    return list(session.connection().execute(query).scalars())


def layer_names(session: Session) -> list[str]:
    """The layers an export can name: suggestions and gold always (gold says what is left
    out even before anything is curated), and every layer someone has."""
    stored = session.connection().execute(select(Layer.name).distinct()).scalars()
    return [SUGGESTIONS, GOLD, *sorted(set(stored) - {SUGGESTIONS, GOLD})]


def count_documents(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Document)).scalar_one()


def gold_curators(session: Session) -> list[str]:
    """Everyone with an audit event on a released (done) gold layer: who curated the gold."""
    query = (
        select(AuditEvent.user)
        .join(Layer, Layer.id == AuditEvent.layer_id)
        .where(Layer.name == GOLD, Layer.status == "done")
        .distinct()
    )
    return sorted(session.connection().execute(query).scalars())


# --- rows, a batch of documents at a time ---------------------------------------------------


def fetch_document_batch(session: Session, query, after: str, batch: int) -> list:
    """The next `batch` documents of `query` (rows of DOCUMENT_COLUMNS) after uid `after`."""
    return session.connection().execute(query.where(Document.uid > after).limit(batch)).all()


def fetch_suggestion_batch(session: Session, docs: list, after: str | None = None) -> dict[int, list[tuple]]:
    """Suggestion rows (SUGGESTION_COLUMNS) of these documents (rows with `id` and `uid`),
    grouped by document id. `after`: the documents are every one with a uid after it up to
    the last one's, so they are asked for as that range rather than as a list of ids.

    Read as the driver's plain tuples (plain_rows): the ORM's row loading would cost about
    as much again as the query, for ~25,000 rows per batch, and even Core's rows a tenth.
    """
    by_doc: dict[int, list] = {doc.id: [] for doc in docs}
    query = select(*SUGGESTION_COLUMNS)
    if after is None:
        query = query.where(Suggestion.document_id.in_(list(by_doc)))
    else:
        query = query.join(Document, Document.id == Suggestion.document_id).where(
            Document.uid > after, Document.uid <= docs[-1].uid
        )
    rows = plain_rows(session.connection(), query)
    # the rows come grouped by document (the index's order), so this moves them a run at a
    # time; it stays right, one run per visit, if a database returns them otherwise
    for doc_id, run in groupby(rows, _DOCUMENT_ID):
        if doc_id in by_doc:  # a document stored in the range since `docs` were read is not ours
            by_doc[doc_id].extend(run)
    return by_doc


_DOCUMENT_ID = operator.itemgetter(0)


CLAIM_SUGGESTION_COLUMNS = (
    ClaimSuggestion.quantity_id,
    ClaimSuggestion.entity_id,
    ClaimSuggestion.property_id,
    ClaimSuggestion.condition_id,
    ClaimSuggestion.modifiers,
    ClaimSuggestion.origin,
    ClaimSuggestion.score,
)
RELATION_SUGGESTION_COLUMNS = (
    RelationSuggestion.head_id,
    RelationSuggestion.child_id,
    RelationSuggestion.label,
    RelationSuggestion.origin,
    RelationSuggestion.score,
)


def fetch_link_batch(session: Session, ids: list[int]) -> tuple[dict[int, list], dict[int, list]]:
    """Suggested claims and relations of these documents, by document id (rows of
    CLAIM_SUGGESTION_COLUMNS and RELATION_SUGGESTION_COLUMNS). Far fewer than span
    suggestions, so the ORM's rows (which read the modifiers' JSON) cost little here."""
    conn = session.connection()
    claims: dict[int, list] = {i: [] for i in ids}
    relations: dict[int, list] = {i: [] for i in ids}
    query = select(ClaimSuggestion.document_id, *CLAIM_SUGGESTION_COLUMNS).where(ClaimSuggestion.document_id.in_(ids))
    for doc_id, *row in conn.execute(query):
        claims[doc_id].append(row)
    query = select(RelationSuggestion.document_id, *RELATION_SUGGESTION_COLUMNS).where(
        RelationSuggestion.document_id.in_(ids)
    )
    for doc_id, *row in conn.execute(query):
        relations[doc_id].append(row)
    return claims, relations


def plain_rows(conn, query) -> list[tuple]:
    """A select's rows as the database driver returns them, in the connection's transaction.
    Only for columns whose values need no conversion (numbers and strings)."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})  # IN lists
    params = compiled.construct_params()
    args = tuple(params[name] for name in compiled.positiontup) if compiled.positional else params
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(compiled.string, args)
        return cursor.fetchall()
    finally:
        cursor.close()


def fetch_layer_batch(session: Session, ids: list[int], layer: str) -> tuple[dict, dict[int, Contents]]:
    """The layer `layer` of these documents (rows of LAYER_COLUMNS by document id) and its
    contents, by layer id."""
    conn = session.connection()
    layers = {
        row.document_id: row
        for row in conn.execute(select(*LAYER_COLUMNS).where(Layer.document_id.in_(ids), Layer.name == layer))
    }
    return layers, load_contents(conn, [row.id for row in layers.values()])


def layer_annotators(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Per document, the annotator layers someone worked on (a gold layer is curated from
    them); empty assigned layers (version 0) took no part."""
    out: dict[int, list[str]] = {i: [] for i in ids}
    query = (
        select(Layer.document_id, Layer.name)
        .where(Layer.document_id.in_(ids), Layer.version > 0, Layer.name.not_in(RESERVED_LAYER_NAMES))
        .order_by(Layer.name)
    )
    for doc_id, name in session.connection().execute(query):
        out[doc_id].append(name)
    return out
