"""Accepting and rejecting suggested claims and relations into an annotator's layer.

A suggested claim is accepted whole: its quantity and parts become spans of the layer (as
accepting each span suggestion would: same spans, same decisions), the claim is made on
them, and the answer is kept in linkdecision, so it stops showing as pending. A part the
annotator already rejected is left out: what the page shows is what is accepted. Rejecting
records the answer only (the spans keep their own suggestions). One audit event per action,
so one undo takes it all back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from annotator.annotate.changes import ChangeSet
from annotator.annotate.spans import Outcome, current_layer, forget_link_decisions
from annotator.annotate.suggestions import accept_rows
from annotator.labels import LabelConfig
from annotator.layers import AnnotationError, claim_version, record
from annotator.models import (
    Claim,
    ClaimSuggestion,
    Document,
    Layer,
    LinkDecision,
    Relation,
    RelationSuggestion,
    Span,
    Suggestion,
    SuggestionDecision,
)

PARTS = ("quantity", "entity", "property", "condition")


@dataclass
class PendingClaim:
    """A suggested claim as the workspace lists it: its parts as suggestions (None where it
    has none, or the layer rejected that part)."""

    id: int
    quantity: Suggestion
    entity: Suggestion | None
    property: Suggestion | None
    condition: Suggestion | None
    modifiers: list[str]
    origin: str
    score: float | None


@dataclass
class PendingRelation:
    id: int
    head: Suggestion
    child: Suggestion
    label: str
    origin: str
    score: float | None


def _decisions(session: Session, layer_id: int | None) -> dict[int, str]:
    if layer_id is None:
        return {}
    rows = select(SuggestionDecision.suggestion_id, SuggestionDecision.decision).where(
        SuggestionDecision.layer_id == layer_id
    )
    return dict(session.exec(rows).all())


def _answered(session: Session, layer_id: int | None, column) -> set[int]:
    if layer_id is None:
        return set()
    query = select(column).where(LinkDecision.layer_id == layer_id, column.is_not(None))
    return set(session.exec(query).scalars())


def pending_claims(session: Session, doc: Document, layer: Layer | None) -> list[PendingClaim]:
    """Suggested claims this layer has not answered, in text order. Hidden: one whose quantity
    the layer rejected, and one whose quantity already carries a claim in the layer (a
    quantity has one claim: that one is edited, not a second added)."""
    layer_id = layer.id if layer else None
    decided = _decisions(session, layer_id)
    answered = _answered(session, layer_id, LinkDecision.claim_suggestion_id)
    claimed = _claimed_quantities(session, layer_id)
    rows = session.exec(select(ClaimSuggestion).where(ClaimSuggestion.document_id == doc.id)).scalars().all()
    suggestions = _suggestions_of(session, {getattr(r, f"{part}_id") for r in rows for part in PARTS})
    out = []
    for row in rows:
        quantity = suggestions.get(row.quantity_id)
        if row.id in answered or quantity is None or decided.get(quantity.id) == "rejected":
            continue
        if (quantity.start, quantity.end, quantity.label) in claimed:
            continue
        parts = {
            part: suggestions.get(getattr(row, f"{part}_id"))
            if decided.get(getattr(row, f"{part}_id")) != "rejected"
            else None
            for part in PARTS[1:]
        }
        extra = {"modifiers": list(row.modifiers), "origin": row.origin, "score": row.score}
        out.append(PendingClaim(row.id, quantity, **parts, **extra))
    return sorted(out, key=lambda c: (c.quantity.start, c.quantity.end, c.id))


def pending_relations(session: Session, doc: Document, layer: Layer | None) -> list[PendingRelation]:
    """Suggested relations this layer has not answered and whose ends it has not rejected."""
    layer_id = layer.id if layer else None
    decided = _decisions(session, layer_id)
    answered = _answered(session, layer_id, LinkDecision.relation_suggestion_id)
    rows = session.exec(select(RelationSuggestion).where(RelationSuggestion.document_id == doc.id)).scalars().all()
    suggestions = _suggestions_of(session, {i for r in rows for i in (r.head_id, r.child_id)})
    out = []
    for row in rows:
        head, child = suggestions.get(row.head_id), suggestions.get(row.child_id)
        if row.id in answered or head is None or child is None:
            continue
        if "rejected" in (decided.get(head.id), decided.get(child.id)):
            continue
        out.append(PendingRelation(row.id, head, child, row.label, row.origin, row.score))
    return sorted(out, key=lambda r: (r.head.start, r.child.start, r.id))


IDS_PER_QUERY = 2000  # well under every backend's limit on bound parameters


def _suggestions_of(session: Session, ids: set[int | None]) -> dict[int, Suggestion]:
    """The suggestions with these ids, as read-only rows (attribute access like the model's):
    only those the suggested claims or relations name, since a long document has tens of
    thousands of span suggestions and making each an ORM object cost about 1 s a page."""
    wanted = sorted(i for i in ids if i is not None)
    columns = select(*Suggestion.__table__.c)
    out = {}
    for at in range(0, len(wanted), IDS_PER_QUERY):
        chunk = wanted[at : at + IDS_PER_QUERY]
        out.update((row.id, row) for row in session.connection().execute(columns.where(Suggestion.id.in_(chunk))))
    return out


def _claimed_quantities(session: Session, layer_id: int | None) -> set[tuple[int, int, str]]:
    if layer_id is None:
        return set()
    query = select(Span.start, Span.end, Span.label).join(Claim, Claim.quantity_id == Span.id)
    return set(session.exec(query.where(Claim.layer_id == layer_id)).all())


def _claim_suggestion(session: Session, doc: Document, claim_id) -> ClaimSuggestion:
    row = session.get(ClaimSuggestion, claim_id) if isinstance(claim_id, int) else None
    if row is None or row.document_id != doc.id:
        raise AnnotationError(f"suggested claim {claim_id!r} is not on this document")
    return row


def _relation_suggestion(session: Session, doc: Document, relation_id) -> RelationSuggestion:
    row = session.get(RelationSuggestion, relation_id) if isinstance(relation_id, int) else None
    if row is None or row.document_id != doc.id:
        raise AnnotationError(f"suggested relation {relation_id!r} is not on this document")
    return row


def _previous(session: Session, layer_id: int | None, column, target_id: int) -> LinkDecision | None:
    if layer_id is None:
        return None
    query = select(LinkDecision).where(LinkDecision.layer_id == layer_id, column == target_id)
    return session.exec(query).scalars().first()


def decide_claim(
    session: Session,
    labels: LabelConfig,
    doc: Document,
    name: str,
    user: str,
    seen: int,
    claim_id,
    decision: str,
) -> Outcome:
    """Accept (the claim and its spans) or reject one suggested claim."""
    if decision not in ("accepted", "rejected"):
        raise AnnotationError(f"unknown decision {decision!r}")
    row = _claim_suggestion(session, doc, claim_id)
    before = current_layer(session, doc, name)
    previous = _previous(session, before.id if before else None, LinkDecision.claim_suggestion_id, row.id)
    if previous and previous.decision == decision:
        raise AnnotationError(f"this suggested claim is {decision} already")
    decided = _decisions(session, before.id if before else None)
    parts = {
        part: session.get(Suggestion, getattr(row, f"{part}_id"))
        for part in PARTS
        if getattr(row, f"{part}_id") is not None and decided.get(getattr(row, f"{part}_id")) != "rejected"
    }
    if decision == "accepted":
        if "quantity" not in parts:
            raise AnnotationError("the quantity of this suggested claim was rejected in this layer")
        quantity = parts["quantity"]
        claimed = _claimed_quantities(session, before.id if before else None)
        if (quantity.start, quantity.end, quantity.label) in claimed:
            raise AnnotationError("this quantity carries a claim already: edit that claim instead")
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    made = None
    if previous:
        if previous.claim_id:
            forget_link_decisions(session, changes, claims=[previous.claim_id])
            changes.delete("claim", previous.claim_id)
        else:
            changes.delete("linkdecision", previous.id)
    if decision == "accepted":
        span_of = accept_rows(session, changes, layer, list(parts.values()))
        links = {f"{part}_id": span_of[s.id] for part, s in parts.items()}
        made = changes.insert(
            "claim",
            {
                **links,
                "layer_id": layer.id,
                "modifiers": sorted(set(row.modifiers) & set(labels.modifiers)),
                "meta": {"suggested": {"origin": row.origin, "pipeline": row.pipeline}},
            },
        )
    changes.insert(
        "linkdecision",
        {"layer_id": layer.id, "claim_suggestion_id": row.id, "decision": decision, "claim_id": made},
    )
    quantity = session.get(Suggestion, row.quantity_id)
    action = "accept_claim" if decision == "accepted" else "reject_claim"
    record(
        session,
        layer,
        user,
        action,
        changes,
        target=f"claim_suggestion:{row.id}",
        after={"quantity": doc.text[quantity.start : quantity.end], "claim": made},
    )
    return Outcome(layer, [made] if made else [], f"suggested claim {decision}", count=1)


def decide_relation(
    session: Session,
    labels: LabelConfig,
    doc: Document,
    name: str,
    user: str,
    seen: int,
    relation_id,
    decision: str,
) -> Outcome:
    """Accept (the relation and its two spans) or reject one suggested relation."""
    if decision not in ("accepted", "rejected"):
        raise AnnotationError(f"unknown decision {decision!r}")
    row = _relation_suggestion(session, doc, relation_id)
    head, child = session.get(Suggestion, row.head_id), session.get(Suggestion, row.child_id)
    before = current_layer(session, doc, name)
    previous = _previous(session, before.id if before else None, LinkDecision.relation_suggestion_id, row.id)
    if previous and previous.decision == decision:
        raise AnnotationError(f"this suggested relation is {decision} already")
    if decision == "accepted" and not labels.relation_allowed(row.label, head.label, child.label):
        raise AnnotationError(f"relation {row.label!r} is not allowed from {head.label} to {child.label}")
    layer = claim_version(session, doc, name, seen)
    changes = ChangeSet(session)
    made = None
    if previous:
        if previous.relation_id:
            forget_link_decisions(session, changes, relations=[previous.relation_id])
            changes.delete("relation", previous.relation_id)
        else:
            changes.delete("linkdecision", previous.id)
    if decision == "accepted":
        span_of = accept_rows(session, changes, layer, [head, child])
        ends = {"head_id": span_of[head.id], "child_id": span_of[child.id]}
        same = select(Relation.id).where(Relation.layer_id == layer.id, Relation.label == row.label)
        if session.exec(same.filter_by(**ends)).scalars().first() is None:  # else: the layer has it already
            made = changes.insert("relation", {**ends, "layer_id": layer.id, "label": row.label, "meta": {}})
    changes.insert(
        "linkdecision",
        {"layer_id": layer.id, "relation_suggestion_id": row.id, "decision": decision, "relation_id": made},
    )
    action = "accept_relation" if decision == "accepted" else "reject_relation"
    record(
        session,
        layer,
        user,
        action,
        changes,
        target=f"relation_suggestion:{row.id}",
        after={"head": doc.text[head.start : head.end], "label": row.label, "child": doc.text[child.start : child.end]},
    )
    return Outcome(layer, [made] if made else [], f"suggested relation {decision}", count=1)
