"""Layers as units of concurrency: every write names the layer version it saw, bumps it
atomically, and is refused when another tab or worker got there first. Every write is an
audit event (`record`) carrying its row changes, which is what undo and redo replay
(annotate/history.py)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from annotator.models import GOLD, AuditEvent, Document, Layer, utcnow


class AnnotationError(Exception):
    status = 422


class Conflict(AnnotationError):
    status = 409


class NotFound(AnnotationError):
    status = 404


class Forbidden(AnnotationError):
    status = 403


def find_layer(session: Session, doc: Document, name: str) -> Layer | None:
    return layer_of(session, doc.id, name)


LAYER_BY_NAME = select(Layer).where(Layer.document_id == bindparam("doc"), Layer.name == bindparam("name"))


def layer_of(session: Session, document_id: int, name: str) -> Layer | None:
    """The layer `name` of a document, looked up once per session: a write asks for it
    several times (access, checks, then claim_version), and claim_version keeps the object
    current. Only found layers are remembered, so one created later is still found."""
    key = ("layer", document_id, name)
    layer = session.info.get(key)
    if layer is None:
        layer = session.exec(LAYER_BY_NAME, params={"doc": document_id, "name": name}).scalars().first()
        if layer is not None:
            session.info[key] = layer
    return layer


def recorded_changes(session: Session) -> list[dict]:
    """Every row change the audit events recorded in this session so far, in order."""
    return [change for rows in session.info.get("recorded", ()) for change in rows]


# one statement bumps and reads back (RETURNING: SQLite >= 3.35 and PostgreSQL), built once
BUMP = (
    update(Layer.__table__)
    .where(Layer.id == bindparam("b_id"), Layer.version == bindparam("b_seen"))
    .values(version=Layer.version + 1, updated_at=bindparam("b_now"), status=bindparam("b_status"))
    .returning(Layer.version, Layer.status, Layer.updated_at)
)


def claim_version(session: Session, doc: Document, name: str, seen: int) -> Layer:
    """The layer to write, its version bumped from `seen`; Conflict if `seen` is stale.

    A layer that does not exist yet is created by its first write (seen == 0).
    """
    layer = find_layer(session, doc, name)
    if layer is None:
        if seen != 0:
            raise Conflict(f"this layer was removed or never saved (you had version {seen}); reload the page")
        layer = Layer(
            document_id=doc.id, name=name, kind="gold" if name == GOLD else "annotator", status="in_progress", version=0
        )
        session.add(layer)
        session.flush()
        session.info[("layer", doc.id, name)] = layer
    bumped = (
        session.connection()
        .execute(
            BUMP, {"b_id": layer.id, "b_seen": seen, "b_now": utcnow(), "b_status": _status_after_edit(layer.status)}
        )
        .first()
    )
    if bumped is None:
        session.refresh(layer)
        raise Conflict(
            f"this document was changed elsewhere (another tab or window) since you loaded it: "
            f"it is at version {layer.version}, you had {seen}. Reload to see the latest; nothing was saved."
        )
    for key, value in bumped._mapping.items():
        set_committed_value(layer, key, value)
    return layer


def _status_after_edit(status: str) -> str:
    return "in_progress" if status == "todo" else status


DISCARD_REDO = (
    update(AuditEvent.__table__)
    .where(AuditEvent.layer_id == bindparam("layer"), AuditEvent.state == "undone")
    .values(state="discarded")
)


NEW_EVENT = insert(AuditEvent.__table__)


def record(
    session: Session,
    layer: Layer,
    user: str,
    action: str,
    changes=None,
    target: str | None = None,
    before: dict | None = None,
    after: dict | None = None,
    undoable: bool = True,
) -> None:
    """Write the audit event; a new undoable action ends the redo history. One plain insert
    (no ORM object to flush): every write of the workspace pays for it. `changes`: the
    action's ChangeSet (annotate/changes.py)."""
    conn = session.connection()
    if undoable:
        conn.execute(DISCARD_REDO, {"layer": layer.id})
    rows = changes.items if changes else None
    conn.execute(
        NEW_EVENT,
        {
            "at": utcnow(),
            "user": user,
            "action": action,
            "document_id": layer.document_id,
            "layer_id": layer.id,
            "target": target,
            "before": before,
            "after": after,
            "changes": rows,
            "state": "applied" if undoable else None,
            "request_key": session.info.get("request_key"),
        },
    )
    session.info.setdefault("recorded", []).append(rows or [])


def already_stored(session: Session, layer: Layer | None, key: str) -> bool:
    """Whether the write the page named `key` is stored in this layer already (a retry after
    its answer was lost). Conflict if it is, but other writes have come after it: the page
    then shows a state it never saw and must reload."""
    if layer is None:
        return False
    conn = session.connection()
    mine = conn.execute(
        select(func.max(AuditEvent.id)).where(AuditEvent.layer_id == layer.id, AuditEvent.request_key == key)
    ).scalar()
    if mine is None:
        return False
    newest = conn.execute(select(func.max(AuditEvent.id)).where(AuditEvent.layer_id == layer.id)).scalar()
    if newest != mine:
        raise Conflict(
            "your change was saved before the connection dropped, but this document has been changed "
            "elsewhere since. Reload to see both."
        )
    return True
