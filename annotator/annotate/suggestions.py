"""Accepting and rejecting suggestions into an annotator's layer.

A suggestion is never edited: accepting copies it into the layer as a span (keeping its
origin and parsed quantity) and records the decision; rejecting records the decision only,
so the suggestion stops showing as pending in that layer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from annotator.annotate.changes import ChangeSet
from annotator.annotate.spans import Outcome, current_layer, delete_span_rows, suggestion_of
from annotator.labels import LabelConfig
from annotator.layers import AnnotationError, claim_version, record
from annotator.models import QUANTITY_FIELDS, Document, Span, Suggestion, SuggestionDecision


def pending(session: Session, doc: Document, layer_id: int | None, label: str | None = None) -> list[Suggestion]:
    """Suggestions of the document this layer has not answered yet."""
    query = select(Suggestion).where(Suggestion.document_id == doc.id)
    if label:
        query = query.where(Suggestion.label == label)
    if layer_id is not None:
        decided = select(SuggestionDecision.suggestion_id).where(SuggestionDecision.layer_id == layer_id)
        query = query.where(Suggestion.id.not_in(decided))
    return session.exec(query.order_by(Suggestion.start, Suggestion.end)).scalars().all()


def decide(
    session: Session,
    labels: LabelConfig,
    doc: Document,
    name: str,
    user: str,
    seen: int,
    decision: str,
    ids: list[int] | None = None,
    label: str | None = None,
) -> Outcome:
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
    decided = {
        d.suggestion_id: d
        for d in session.exec(
            select(SuggestionDecision).where(
                SuggestionDecision.layer_id == layer.id, SuggestionDecision.suggestion_id.in_([s.id for s in targets])
            )
        ).scalars()
    }
    fresh, gone = [], set()  # suggestions to decide now; spans deleted on the way
    for sugg in targets:
        previous = decided.get(sugg.id)
        if previous and previous.decision == decision:
            continue
        if previous and previous.span_id and decision == "rejected":
            if previous.span_id not in gone:  # two suggestions can share one accepted span
                gone.add(previous.span_id)
                delete_span_rows(session, changes, session.get(Span, previous.span_id))
        elif previous:
            changes.delete("suggestiondecision", previous.id)
        fresh.append(sugg)
    span_of = _accept(session, changes, layer, fresh) if decision == "accepted" else {}
    changes.insert_many(
        "suggestiondecision",
        [
            {"layer_id": layer.id, "suggestion_id": sugg.id, "decision": decision, "span_id": span_of.get(sugg.id)}
            for sugg in fresh
        ],
    )
    action = ("accept" if decision == "accepted" else "reject") + ("_all" if ids is None else "")
    record(
        session,
        layer,
        user,
        action,
        changes,
        target=f"label:{label}" if label else None,
        after={"suggestions": [s.id for s in targets], "count": len(targets)},
    )
    span_ids = [span_of[sugg.id] for sugg in fresh if sugg.id in span_of]
    return Outcome(layer, span_ids, f"{len(targets)} suggestion(s) {decision}", count=len(targets))


def accept_rows(session: Session, changes: ChangeSet, layer, suggestions: list[Suggestion]) -> dict[int, int]:
    """Accept these suggestions into the layer inside a larger action (a suggested claim or
    relation): {suggestion id: span id}, with the decisions recorded as decide() does. One
    already accepted keeps its span."""
    decided = {
        d.suggestion_id: d
        for d in session.exec(
            select(SuggestionDecision).where(
                SuggestionDecision.layer_id == layer.id,
                SuggestionDecision.suggestion_id.in_([s.id for s in suggestions]),
            )
        ).scalars()
    }
    kept = {s.id: decided[s.id].span_id for s in suggestions if s.id in decided and decided[s.id].span_id}
    fresh = list({s.id: s for s in suggestions if s.id not in kept}.values())
    for sugg in fresh:
        if sugg.id in decided:  # rejected before (or its span gone): answered anew
            changes.delete("suggestiondecision", decided[sugg.id].id)
    span_of = _accept(session, changes, layer, fresh)
    changes.insert_many(
        "suggestiondecision",
        [
            {"layer_id": layer.id, "suggestion_id": s.id, "decision": "accepted", "span_id": span_of[s.id]}
            for s in fresh
        ],
    )
    return {**kept, **span_of}


def _accept(session: Session, changes: ChangeSet, layer, suggestions: list[Suggestion]) -> dict[int, int]:
    """{suggestion id: span id}: the layer's span with the same offsets and label, or a new
    one copied from the suggestion. New spans go in with one statement however many there are."""
    if not suggestions:
        return {}
    starts = sorted({sugg.start for sugg in suggestions})
    same = {
        (r.start, r.end, r.label): r.id
        for r in session.exec(
            select(Span.id, Span.start, Span.end, Span.label).where(Span.layer_id == layer.id, Span.start.in_(starts))
        )
    }
    new: dict[tuple, dict] = {}
    for sugg in suggestions:
        key = (sugg.start, sugg.end, sugg.label)
        if key not in same and key not in new:
            new[key] = {
                "layer_id": layer.id,
                "start": sugg.start,
                "end": sugg.end,
                "label": sugg.label,
                "origin": sugg.origin,
                "suggestion_id": sugg.id,
                "meta": {},
                **{k: getattr(sugg, k) for k in QUANTITY_FIELDS},
            }
    same.update(zip(new, changes.insert_many("span", list(new.values()))))
    return {sugg.id: same[(sugg.start, sugg.end, sugg.label)] for sugg in suggestions}
