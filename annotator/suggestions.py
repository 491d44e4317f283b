"""Accepting and rejecting suggestions into an annotator's layer.

A suggestion is never edited: accepting copies it into the layer as a span (keeping its
origin and parsed quantity) and records the decision; rejecting records the decision only,
so the suggestion stops showing as pending in that layer.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from .annotating import Outcome, current_layer, delete_span_rows, existing_span, suggestion_of
from .changes import ChangeSet
from .labels import LabelConfig
from .layers import AnnotationError, claim_version, record
from .models import Document, Span, Suggestion, SuggestionDecision

QUANTITY_FIELDS = ("value", "value_max", "tolerance", "unit", "qualifier")


def pending(session: Session, doc: Document, layer_id: int | None, label: str | None = None) -> list[Suggestion]:
    """Suggestions of the document this layer has not answered yet."""
    query = select(Suggestion).where(Suggestion.document_id == doc.id)
    if label:
        query = query.where(Suggestion.label == label)
    if layer_id is not None:
        decided = select(SuggestionDecision.suggestion_id).where(SuggestionDecision.layer_id == layer_id)
        query = query.where(Suggestion.id.not_in(decided))
    return session.exec(query.order_by(Suggestion.start, Suggestion.end)).scalars().all()


def decide(session: Session, labels: LabelConfig, doc: Document, name: str, user: str, seen: int,
           decision: str, ids: list[int] | None = None, label: str | None = None) -> Outcome:
    """Accept or reject the given suggestions, or every pending one (of one label)."""
    if decision not in ("accepted", "rejected"):
        raise AnnotationError(f"unknown decision {decision!r}")
    if label is not None and label not in labels.entities:
        raise AnnotationError(f"unknown label {label!r}")
    layer_before = current_layer(session, doc, name)
    if ids is not None:
        if not isinstance(ids, list) or not ids:
            raise AnnotationError("name at least one suggestion")
        targets = [suggestion_of(session, doc, i) for i in ids]
    else:
        targets = pending(session, doc, layer_before.id if layer_before else None, label)
        if not targets:
            raise AnnotationError("no pending suggestions" + (f" labelled {label}" if label else ""))
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    decided = {d.suggestion_id: d for d in session.exec(
        select(SuggestionDecision).where(SuggestionDecision.layer_id == layer.id,
                                         SuggestionDecision.suggestion_id.in_([s.id for s in targets]))).scalars()}
    span_ids = []
    for sugg in targets:
        previous = decided.get(sugg.id)
        if previous and previous.decision == decision:
            continue
        if previous:
            if previous.span_id and decision == "rejected":
                delete_span_rows(session, changes, session.get(Span, previous.span_id))
            else:
                changes.delete("suggestiondecision", previous.id)
        span_id = _accept(session, changes, layer, sugg, doc) if decision == "accepted" else None
        if span_id:
            span_ids.append(span_id)
        if not session.exec(select(SuggestionDecision.id).where(SuggestionDecision.layer_id == layer.id,
                                                                SuggestionDecision.suggestion_id == sugg.id)).first():
            changes.insert("suggestiondecision", {"layer_id": layer.id, "suggestion_id": sugg.id,
                                                  "decision": decision, "span_id": span_id})
    action = ("accept" if decision == "accepted" else "reject") + ("_all" if ids is None else "")
    record(session, layer, user, action, changes, target=f"label:{label}" if label else None,
           after={"suggestions": [s.id for s in targets], "count": len(targets)})
    return Outcome(layer, span_ids, f"{len(targets)} suggestion(s) {decision}")


def _accept(session: Session, changes: ChangeSet, layer, sugg: Suggestion, doc: Document) -> int:
    same = existing_span(session, layer, sugg.start, sugg.end, sugg.label)
    if same:
        return same.id
    values = {"layer_id": layer.id, "start": sugg.start, "end": sugg.end, "label": sugg.label,
              "origin": sugg.origin, "suggestion_id": sugg.id, "meta": {},
              **{k: getattr(sugg, k) for k in QUANTITY_FIELDS}}
    return changes.insert("span", values)
