"""A confirmed span, carried further: the same text with the same label elsewhere in the
document (one action, one undo), as suggestions in the corpus's other documents, and as a
gazetteer name that pre-highlighting finds from then on.

Matches are whole tokens only ("H100" is not found inside "H1000"), compared exactly (case
kept: "Apple" is not "apple"), on the server's own token boundaries.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from annotator.annotate.changes import ChangeSet
from annotator.annotate.spans import Outcome, current_layer, span_in_layer
from annotator.annotate.suggestions import accept_rows, pending
from annotator.ingest.bulk import insert_rows
from annotator.ingest.first_use import ensure_tokens
from annotator.labels import LabelConfig
from annotator.layers import AnnotationError, claim_version, record
from annotator.models import QUANTITY_FIELDS, AuditEvent, Document, GazetteerName, Span, Suggestion
from annotator.nlp.quantities import parsed_quantity
from annotator.tokens import bounds

PROPAGATION = "propagation"  # the pipeline name of suggestions made this way
BATCH = 500


def occurrences(text: str, phrase: str, tokens: bytes | None) -> list[tuple[int, int]]:
    """Where `phrase` stands in `text` as whole tokens of `tokens` (packed offsets)."""
    starts, ends = bounds(tokens)
    found = []
    for match in re.finditer(re.escape(phrase), text):
        i = bisect_left(starts, match.start())
        j = bisect_left(ends, match.end())
        if i < len(starts) and starts[i] == match.start() and j < len(ends) and ends[j] == match.end():
            found.append((match.start(), match.end()))
    return found


def elsewhere(session: Session, labels: LabelConfig, doc: Document, name: str, span_id) -> list[tuple[int, int]]:
    """The other places of this span's text in the document not yet marked with its label."""
    layer = current_layer(session, doc, name)
    span = span_in_layer(session, layer, span_id)
    phrase = doc.text[span.start : span.end]
    ensure_tokens(session, doc, labels.quantity_label)  # settles the tokens on first use (none unpacked)
    marked = set(
        session.exec(select(Span.start, Span.end).where(Span.layer_id == layer.id, Span.label == span.label)).all()
    )
    return [where for where in occurrences(doc.text, phrase, doc.tokens) if where not in marked]


def propagate(
    session: Session, labels: LabelConfig, doc: Document, name: str, user: str, seen: int, span_id
) -> Outcome:
    """Mark every other place of the span's text in the document with its label (one
    undoable action) and suggest it wherever it stands in the other documents. A place a
    pending suggestion of that label marks is that suggestion, accepted."""
    places = elsewhere(session, labels, doc, name, span_id)
    span = session.get(Span, span_id)
    phrase = doc.text[span.start : span.end]
    suggested = suggest_in_corpus(session, labels, phrase, span.label, doc.id)
    if not places and not suggested:
        raise AnnotationError(f"{phrase!r} appears nowhere else unmarked as {span.label}, here or in other documents")
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    # a place a pending suggestion of this label already marks is that suggestion, accepted
    wanted = set(places)
    waiting = [sugg for sugg in pending(session, doc, layer.id, span.label) if (sugg.start, sugg.end) in wanted]
    accepted = accept_rows(session, changes, layer, waiting) if waiting else {}
    taken = {(sugg.start, sugg.end) for sugg in waiting}
    quantity = span.label == labels.quantity_label
    rows = []
    for start, end in places:
        if (start, end) in taken:
            continue
        row = {"layer_id": layer.id, "start": start, "end": end, "label": span.label, "origin": "manual", "meta": {}}
        if quantity:
            row.update(parsed_quantity(doc.text[start:end], doc.lang))
        rows.append(row)
    ids = sorted(set(accepted.values())) + (changes.insert_many("span", rows) if rows else [])
    record(
        session,
        layer,
        user,
        "propagate",
        changes,
        target=f"span:{span.id}",
        after={"text": phrase, "label": span.label, "count": len(ids), "suggested_in_corpus": suggested},
    )
    message = f"{len(ids)} more {span.label} {phrase!r} here; suggested {suggested} time(s) in other documents"
    return Outcome(layer, ids, message, count=len(ids))


def suggest_in_corpus(session: Session, labels: LabelConfig, phrase: str, label: str, skip_document: int | None) -> int:
    """Add `phrase` as a `label` suggestion wherever it stands in the other documents (whole
    tokens; documents whose tokens first use has not stored yet are left to pre-highlighting,
    which the gazetteer name covers). How many suggestions were added."""
    if label not in labels.entities:
        raise AnnotationError(f"unknown label {label!r}")
    found: list[tuple] = []
    query = (
        select(Document.id, Document.text, Document.tokens, Document.lang)
        .where(Document.text.contains(phrase, autoescape=True), Document.tokens.is_not(None))
        .order_by(Document.id)
    )
    if skip_document is not None:
        query = query.where(Document.id != skip_document)
    docs = session.connection().execute(query).all()
    existing = set(
        session.connection().execute(
            select(Suggestion.document_id, Suggestion.start, Suggestion.end).where(
                Suggestion.label == label, Suggestion.document_id.in_([d.id for d in docs])
            )
        )
    )
    for doc_id, text, tokens, lang in docs:
        for start, end in occurrences(text, phrase, tokens):
            if (doc_id, start, end) in existing:
                continue
            quantity = parsed_quantity(text[start:end], lang) if label == labels.quantity_label else {}
            found.append(
                (doc_id, start, end, label, "gazetteer", PROPAGATION, None, *(quantity.get(k) for k in QUANTITY_FIELDS))
            )
    columns = ("document_id", "start", "end", "label", "origin", "pipeline", "pipeline_version", *QUANTITY_FIELDS)
    insert_rows(session.connection(), Suggestion.__table__, columns, found)
    return len(found)


def add_gazetteer_name(
    session: Session, labels: LabelConfig, doc: Document, name: str, user: str, span_id, corpus: bool = True
) -> tuple[GazetteerName, int]:
    """Keep the span's text as a gazetteer name of its label (pre-highlighting finds it from
    now on), audited; with `corpus`, also suggested at once in the other documents."""
    span = span_in_layer(session, current_layer(session, doc, name), span_id)
    phrase = doc.text[span.start : span.end]
    if not phrase.strip() or len(phrase) > 200:
        raise AnnotationError("a gazetteer name is 1 to 200 characters of text")
    known = (
        session.exec(select(GazetteerName).where(GazetteerName.label == span.label, GazetteerName.text == phrase))
        .scalars()
        .first()
    )
    if known is not None:
        raise AnnotationError(f"{phrase!r} is a {span.label} name of the gazetteer already")
    entry = GazetteerName(label=span.label, text=phrase, added_by=user, document_id=doc.id)
    try:  # someone may have added the same name since the check, in a transaction of their own
        with session.begin_nested():
            session.add(entry)
    except IntegrityError as exc:
        raise AnnotationError(f"{phrase!r} is a {span.label} name of the gazetteer already") from exc
    added = suggest_in_corpus(session, labels, phrase, span.label, doc.id) if corpus else 0
    session.add(
        AuditEvent(
            user=user,
            action="add_gazetteer_name",
            document_id=doc.id,
            target=f"gazetteer:{entry.id}",
            after={"label": span.label, "text": phrase, "suggested_in_corpus": added},
        )
    )
    return entry, added
