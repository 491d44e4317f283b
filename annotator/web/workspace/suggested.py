"""Suggested claims and relations as the side panel lists them, and what answering one says.

Each row carries its parts' offsets (`ranges`), so the page can light their marks when the
row is the current item; its key is "c<id>" (a suggested claim) or "l<id>" (a relation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from annotator.annotate.claim_suggestions import PARTS, pending_claims, pending_relations
from annotator.models import Claim, ClaimSuggestion, Document, Layer, RelationSuggestion, Span, Suggestion
from annotator.web.workspace.panel import excerpt

NAMED_PARTS = ("entity", "property", "condition")


@dataclass
class Suggested:
    """The layer's pending suggested claims and relations, as rows for the templates."""

    claims: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)


def suggested(session: Session, doc: Document, layer: Layer | None) -> Suggested:
    return Suggested(_claim_rows(session, doc, layer), _relation_rows(session, doc, layer))


def _part(doc: Document, sugg: Suggestion | None) -> dict | None:
    if sugg is None:
        return None
    return {
        "label": sugg.label,
        "text": excerpt(doc.text[sugg.start : sugg.end], 40),
        "start": sugg.start,
        "end": sugg.end,
    }


def _ranges(parts: dict) -> list[list]:
    return [[p["start"], p["end"], name] for name, p in parts.items() if p]


def _claim_rows(session: Session, doc: Document, layer: Layer | None) -> list[dict]:
    out = []
    for c in pending_claims(session, doc, layer):
        parts = {name: _part(doc, getattr(c, name)) for name in PARTS}
        out.append(
            {
                "id": c.id,
                "key": f"c{c.id}",
                **parts,
                "value": c.quantity.value,
                "unit": c.quantity.unit,
                "qualifier": c.quantity.qualifier,
                "modifiers": c.modifiers,
                "origin": c.origin,
                "score": c.score,
                "ranges": _ranges(parts),
            }
        )
    return out


def _relation_rows(session: Session, doc: Document, layer: Layer | None) -> list[dict]:
    out = []
    for r in pending_relations(session, doc, layer):
        parts = {"head": _part(doc, r.head), "child": _part(doc, r.child)}
        out.append(
            {
                "id": r.id,
                "key": f"l{r.id}",
                **parts,
                "label": r.label,
                "origin": r.origin,
                "score": r.score,
                "ranges": _ranges(parts),
            }
        )
    return out


# --- what the status line says ------------------------------------------------------------------


def _text(doc: Document, row) -> str:
    return excerpt(doc.text[row.start : row.end], 50)


def claim_accepted(session: Session, doc: Document, claim_id: int) -> str:
    """What was stored: "Claim on 256 gigabytes accepted: entity FP300, property …"."""
    claim = session.get(Claim, claim_id)
    quantity = session.get(Span, claim.quantity_id)
    parts = [
        f"{name} {_text(doc, session.get(Span, getattr(claim, f'{name}_id')))}"
        for name in NAMED_PARTS
        if getattr(claim, f"{name}_id") is not None
    ]
    head = f"Claim on {_text(doc, quantity)} accepted"
    return f"{head}: {', '.join(parts)}" if parts else head


def claim_rejected(session: Session, doc: Document, suggestion_id: int) -> str:
    row = session.get(ClaimSuggestion, suggestion_id)
    return f"Rejected the suggested claim on {_text(doc, session.get(Suggestion, row.quantity_id))}"


def relation_said(session: Session, doc: Document, suggestion_id: int) -> str:
    """ "Sophgo → MAKES → SC11 FP300"."""
    row = session.get(RelationSuggestion, suggestion_id)
    head, child = session.get(Suggestion, row.head_id), session.get(Suggestion, row.child_id)
    return f"{_text(doc, head)} → {row.label} → {_text(doc, child)}"
