"""What an annotator can do to their layer: spans, suggestions, relations, claims.

Each function runs inside the caller's write transaction, checks everything before it
changes anything (a refused request stores nothing), claims the layer version it was
given, records its row changes in one audit event and returns what the page needs.
Offsets are code points; the server snaps them outward to its own token boundaries.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlmodel import Session

from annotator.annotate.changes import ChangeSet
from annotator.ingest.first_use import ensure_tokens
from annotator.labels import LabelConfig
from annotator.layers import AnnotationError, claim_version, find_layer, record
from annotator.models import (
    CLAIM_LINKS,
    QUANTITY_FIELDS,
    Claim,
    Document,
    Layer,
    LinkDecision,
    Relation,
    Span,
    Suggestion,
    SuggestionDecision,
)
from annotator.nlp.quantities import parsed_quantity
from annotator.tokens import bounds


@dataclass
class Outcome:
    layer: Layer
    ids: list[int]
    message: str = ""
    span: dict | None = None  # the span as stored, when one was added or changed
    count: int = 0  # how many items the action decided (accept or reject of suggestions)


# --- checks ---------------------------------------------------------------------------------

SAME_SPAN = select(Span.id).where(
    Span.layer_id == bindparam("layer"),
    Span.start == bindparam("start"),
    Span.end == bindparam("end"),
    Span.label == bindparam("label"),
)


def packed_tokens(session: Session, doc: Document, quantity_label: str | None) -> bytes:
    """The document's tokens as stored (settled on first use), for bisecting with
    tokens.bounds() rather than unpacking: a 1 MB document has 175,000 of them."""
    return ensure_tokens(session, doc, quantity_label)


def snap(session: Session, doc: Document, start, end, quantity_label: str | None) -> tuple[int, int]:
    """Check offsets and snap them to whole tokens: widened over a token cut in the middle,
    trimmed of the spaces a selection picked up at either end."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
        raise AnnotationError("start and end must be whole numbers (code-point offsets)")
    if not 0 <= start < end <= len(doc.text):
        raise AnnotationError(
            f"offsets {start}..{end} are not on this document (need 0 <= start < end <= {len(doc.text)})"
        )
    starts, ends = bounds(ensure_tokens(session, doc, quantity_label))
    first = bisect_right(ends, start)  # first token ending after start
    last = bisect_left(starts, end) - 1  # last token starting before end
    if first > last:
        raise AnnotationError(f"the selection {start}..{end} holds no word (only spaces or nothing)")
    return starts[first], ends[last]


def known_label(labels: LabelConfig, label) -> str:
    if label not in labels.entities:
        raise AnnotationError(f"unknown label {label!r}; known: {', '.join(labels.entity_labels)}")
    return label


def span_in_layer(session: Session, layer: Layer | None, span_id) -> Span:
    span = session.get(Span, span_id) if isinstance(span_id, int) else None
    if span is None or layer is None or span.layer_id != layer.id:
        raise AnnotationError(f"span {span_id!r} is not in this layer of this document")
    return span


def suggestion_of(session: Session, doc: Document, suggestion_id) -> Suggestion:
    row = session.get(Suggestion, suggestion_id) if isinstance(suggestion_id, int) else None
    if row is None or row.document_id != doc.id:
        raise AnnotationError(f"suggestion {suggestion_id!r} is not on this document")
    return row


def existing_span(session: Session, layer: Layer | None, start: int, end: int, label: str) -> int | None:
    """The id of the layer's span with exactly these offsets and label, if there is one."""
    if layer is None:
        return None
    return (
        session.connection()
        .execute(SAME_SPAN, {"layer": layer.id, "start": start, "end": end, "label": label})
        .scalar()
    )


def current_layer(session: Session, doc: Document, name: str) -> Layer | None:
    return find_layer(session, doc, name)


# --- spans ----------------------------------------------------------------------------------


def add_span(
    session: Session, labels: LabelConfig, doc: Document, name: str, user: str, seen: int, start, end, label
) -> Outcome:
    label = known_label(labels, label)
    start, end = snap(session, doc, start, end, labels.quantity_label)
    before_layer = current_layer(session, doc, name)
    if existing_span(session, before_layer, start, end, label):
        raise AnnotationError(f"{label} {doc.text[start:end]!r} is already marked")
    layer = claim_version(session, doc, name, seen)
    values = {"layer_id": layer.id, "start": start, "end": end, "label": label, "origin": "manual", "meta": {}}
    if label == labels.quantity_label:
        values.update(parsed_quantity(doc.text[start:end], doc.lang))
    changes = ChangeSet(session)
    span_id = changes.insert("span", values)
    record(session, layer, user, "add_span", changes, target=f"span:{span_id}", after=_brief(values, doc))
    return Outcome(layer, [span_id], span={**values, "id": span_id})


def update_span(
    session: Session,
    labels: LabelConfig,
    doc: Document,
    name: str,
    user: str,
    seen: int,
    span_id,
    label=None,
    start=None,
    end=None,
) -> Outcome:
    span = span_in_layer(session, current_layer(session, doc, name), span_id)
    new_label = known_label(labels, label) if label is not None else span.label
    new_start, new_end = snap(
        session, doc, span.start if start is None else start, span.end if end is None else end, labels.quantity_label
    )
    if (new_start, new_end, new_label) == (span.start, span.end, span.label):
        raise AnnotationError("nothing to change")
    if existing_span(session, current_layer(session, doc, name), new_start, new_end, new_label):
        raise AnnotationError(f"{new_label} {doc.text[new_start:new_end]!r} is already marked")
    if span.label == labels.quantity_label and new_label != span.label and _claims_on(session, span.id):
        raise AnnotationError("this quantity carries a claim; delete the claim before relabelling it")
    layer = claim_version(session, doc, name, seen)
    values = {"start": new_start, "end": new_end, "label": new_label}
    if new_label == labels.quantity_label and (new_start, new_end) != (span.start, span.end):
        values.update(parsed_quantity(doc.text[new_start:new_end], doc.lang))
    elif new_label != labels.quantity_label:
        values.update(dict.fromkeys(QUANTITY_FIELDS))
    before = _brief(span.model_dump(), doc)
    changes = ChangeSet(session)
    changes.update("span", span.id, **values)
    record(
        session,
        layer,
        user,
        "update_span",
        changes,
        target=f"span:{span.id}",
        before=before,
        after=_brief({**span.model_dump(), **values}, doc),
    )
    return Outcome(layer, [span.id])


def _claims_on(session: Session, span_id: int) -> list[Claim]:
    return session.exec(select(Claim).where(Claim.quantity_id == span_id)).scalars().all()


def delete_span(session: Session, doc: Document, name: str, user: str, seen: int, span_id) -> Outcome:
    span = span_in_layer(session, current_layer(session, doc, name), span_id)
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    delete_span_rows(session, changes, span)
    record(
        session, layer, user, "delete_span", changes, target=f"span:{span.id}", before=_brief(span.model_dump(), doc)
    )
    return Outcome(layer, [span.id])


def delete_span_rows(session: Session, changes: ChangeSet, span: Span) -> None:
    """A span goes with what depends on it, each step recorded so undo brings all back."""
    ends = (Relation.head_id == span.id) | (Relation.child_id == span.id)
    relations = list(session.exec(select(Relation.id).where(ends)).scalars())
    claims = [claim.id for claim in _claims_on(session, span.id)]
    forget_link_decisions(session, changes, claims, list(relations))
    for rel_id in relations:
        changes.delete("relation", rel_id)
    for claim_id in claims:
        changes.delete("claim", claim_id)
    for key in CLAIM_LINKS:
        column = getattr(Claim, key)
        for claim in session.exec(select(Claim).where(column == span.id)).scalars():
            changes.update("claim", claim.id, **{key: None})
    for decision in session.exec(select(SuggestionDecision).where(SuggestionDecision.span_id == span.id)).scalars():
        changes.delete("suggestiondecision", decision.id)  # the suggestion is pending again
    changes.delete("span", span.id)


def forget_link_decisions(session: Session, changes: ChangeSet, claims=(), relations=()) -> None:
    """Before claims or relations a suggestion made go: their suggestions are pending again
    (as a span suggestion is when its span goes), and undo brings the decisions back."""
    if not claims and not relations:
        return
    made = LinkDecision.claim_id.in_(list(claims)) | LinkDecision.relation_id.in_(list(relations))
    for decision_id in session.exec(select(LinkDecision.id).where(made)).scalars():
        changes.delete("linkdecision", decision_id)


def _brief(row: dict, doc: Document) -> dict:
    return {
        "start": row["start"],
        "end": row["end"],
        "label": row["label"],
        "text": doc.text[row["start"] : row["end"]],
    }
