"""Layers as units of concurrency: every write names the layer version it saw, bumps it
atomically, and is refused when another tab or worker got there first. Every write is an
audit event; undoable ones can be undone and redone, as many steps as the layer has."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session

from .changes import ChangeSet, inverse, replay
from .models import GOLD, AuditEvent, Document, Layer, utcnow


class AnnotationError(Exception):
    status = 422


class Conflict(AnnotationError):
    status = 409


class NotFound(AnnotationError):
    status = 404


class Forbidden(AnnotationError):
    status = 403


def find_layer(session: Session, doc: Document, name: str) -> Layer | None:
    return session.exec(select(Layer).where(Layer.document_id == doc.id, Layer.name == name)).scalars().first()


def claim_version(session: Session, doc: Document, name: str, seen: int) -> Layer:
    """The layer to write, its version bumped from `seen`; Conflict if `seen` is stale.

    A layer that does not exist yet is created by its first write (seen == 0).
    """
    layer = find_layer(session, doc, name)
    if layer is None:
        if seen != 0:
            raise Conflict(f"this layer was removed or never saved (you had version {seen}); reload the page")
        layer = Layer(document_id=doc.id, name=name, kind="gold" if name == GOLD else "annotator",
                      status="in_progress", version=0)
        session.add(layer)
        session.flush()
    bumped = session.execute(
        update(Layer).where(Layer.id == layer.id, Layer.version == seen)
        .values(version=Layer.version + 1, updated_at=utcnow(),
                status=_status_after_edit(layer.status))
    ).rowcount
    if bumped != 1:
        session.refresh(layer)
        raise Conflict(f"this document was changed elsewhere (another tab or window) since you loaded it: "
                       f"it is at version {layer.version}, you had {seen}. Reload to see the latest; nothing was saved.")
    session.refresh(layer)
    return layer


def _status_after_edit(status: str) -> str:
    return "in_progress" if status == "todo" else status


def record(session: Session, layer: Layer, user: str, action: str, changes: ChangeSet | None = None,
           target: str | None = None, before: dict | None = None, after: dict | None = None,
           undoable: bool = True) -> AuditEvent:
    """Write the audit event; a new undoable action ends the redo history."""
    if undoable:
        session.execute(update(AuditEvent).where(AuditEvent.layer_id == layer.id, AuditEvent.state == "undone")
                        .values(state="discarded"))
    event = AuditEvent(user=user, action=action, document_id=layer.document_id, layer_id=layer.id, target=target,
                       before=before, after=after, changes=changes.items if changes else None,
                       state="applied" if undoable else None)
    session.add(event)
    session.flush()
    return event


def undo(session: Session, doc: Document, name: str, user: str, seen: int) -> AuditEvent:
    layer = claim_version(session, doc, name, seen)
    event = session.exec(select(AuditEvent).where(AuditEvent.layer_id == layer.id, AuditEvent.state == "applied")
                         .order_by(AuditEvent.id.desc()).limit(1)).scalars().first()
    if event is None:
        raise AnnotationError("nothing to undo")
    replay(session, inverse(event.changes or []))
    event.state = "undone"
    record(session, layer, user, "undo", target=f"event:{event.id}", before={"action": event.action}, undoable=False)
    return event


def redo(session: Session, doc: Document, name: str, user: str, seen: int) -> AuditEvent:
    layer = claim_version(session, doc, name, seen)
    # undo walks back from the newest action, so the next redo is the oldest undone one
    event = session.exec(select(AuditEvent).where(AuditEvent.layer_id == layer.id, AuditEvent.state == "undone")
                         .order_by(AuditEvent.id).limit(1)).scalars().first()
    if event is None:
        raise AnnotationError("nothing to redo")
    replay(session, event.changes or [])
    event.state = "applied"
    record(session, layer, user, "redo", target=f"event:{event.id}", after={"action": event.action}, undoable=False)
    return event


def history(session: Session, layer: Layer | None) -> dict[str, int]:
    """How many steps can be undone and redone right now."""
    if layer is None:
        return {"undo": 0, "redo": 0}
    rows = session.exec(select(AuditEvent.state).where(AuditEvent.layer_id == layer.id,
                                                       AuditEvent.state.in_(["applied", "undone"]))).scalars().all()
    return {"undo": rows.count("applied"), "redo": rows.count("undone")}
