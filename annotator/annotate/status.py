"""A layer's status ("todo", "in_progress", "done", "skipped") and an annotator's progress.

Setting the status is a write like any other: it names the layer version it saw (a stale
tab is refused), bumps it, and leaves an audit event. It is not an undoable step: undo in
the workspace walks back annotations, never the "done" mark.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from annotator import document_counts
from annotator.layers import AnnotationError, claim_version, find_layer, record
from annotator.models import LAYER_STATUSES, Document, Layer


def set_status(session: Session, doc: Document, name: str, user: str, seen: int, status: str) -> Layer:
    if status not in LAYER_STATUSES:
        raise AnnotationError(f"unknown status {status!r}; known: {', '.join(LAYER_STATUSES)}")
    existing = find_layer(session, doc, name)
    before = existing.status if existing else "todo"
    if before == status:
        raise AnnotationError(f"this document is already marked {status.replace('_', ' ')}")
    layer = claim_version(session, doc, name, seen)
    layer.status = status
    session.add(layer)
    session.flush()
    record(
        session,
        layer,
        user,
        "set_status",
        target=f"layer:{layer.id}",
        before={"status": before},
        after={"status": status},
        undoable=False,
    )
    return layer


ASSIGNED_PROGRESS = select(func.count(), func.count().filter(Layer.status == "done")).where(
    Layer.name == bindparam("name"), Layer.assigned_at.is_not(None)
)  # built once: every workspace page asks


def progress(session: Session, name: str) -> tuple[int, int]:
    """(documents done, documents to do) for annotator `name`: their assignments once a
    curator has assigned them any, otherwise every document of the project."""
    assigned, done = session.connection().execute(ASSIGNED_PROGRESS, {"name": name}).one()
    if assigned:
        return done, assigned
    done = session.exec(
        select(func.count()).select_from(Layer).where(Layer.name == name, Layer.status == "done")
    ).scalar_one()
    return done, document_counts.documents(session)
