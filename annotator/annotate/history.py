"""Undo and redo: every undoable write's audit event holds its row changes, replayed
backwards (undo) or forwards again (redo), as many steps as the layer has."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from annotator.annotate.changes import inverse, replay
from annotator.layers import AnnotationError, claim_version, record
from annotator.models import AuditEvent, Document, Layer


def undo(session: Session, doc: Document, name: str, user: str, seen: int) -> AuditEvent:
    layer = claim_version(session, doc, name, seen)
    event = (
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.layer_id == layer.id, AuditEvent.state == "applied")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    if event is None:
        raise AnnotationError("nothing to undo")
    replay(session, inverse(event.changes or []))
    event.state = "undone"
    record(session, layer, user, "undo", target=f"event:{event.id}", before={"action": event.action}, undoable=False)
    return event


def redo(session: Session, doc: Document, name: str, user: str, seen: int) -> AuditEvent:
    layer = claim_version(session, doc, name, seen)
    # undo walks back from the newest action, so the next redo is the oldest undone one
    event = (
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.layer_id == layer.id, AuditEvent.state == "undone")
            .order_by(AuditEvent.id)
            .limit(1)
        )
        .scalars()
        .first()
    )
    if event is None:
        raise AnnotationError("nothing to redo")
    replay(session, event.changes or [])
    event.state = "applied"
    record(session, layer, user, "redo", target=f"event:{event.id}", after={"action": event.action}, undoable=False)
    return event


HISTORY = (
    select(AuditEvent.state, func.count())  # built once: the workspace asks on every request
    .where(AuditEvent.layer_id == bindparam("layer"), AuditEvent.state.in_(("applied", "undone")))
    .group_by(AuditEvent.state)
)


def history(session: Session, layer: Layer | None) -> dict[str, int]:
    """How many steps can be undone and redone right now."""
    counts = dict(session.connection().execute(HISTORY, {"layer": layer.id}).all()) if layer is not None else {}
    return {"undo": counts.get("applied", 0), "redo": counts.get("undone", 0)}
