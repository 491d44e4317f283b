"""Assignments: which annotator works on which document, k annotators per document.

An assignment is the annotator's layer of that document, created up front with status
"todo", a queue position and who assigned it. Documents go to the least-loaded annotators
not already on them, so the load stays balanced; an annotator who never shows up can be
found (stale assignments) and their untouched work handed to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import defer
from sqlmodel import Session

from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, SuggestionDecision, User, utcnow


class AssignmentError(ValueError):
    pass


@dataclass
class AssignReport:
    documents: int
    created: int
    per_annotator: dict[str, int]


def annotator_accounts(session: Session, names: list[str]) -> list[User]:
    users = {u.name: u for u in session.exec(select(User).where(User.name.in_(names))).scalars()}
    missing = [n for n in names if n not in users]
    if missing:
        raise AssignmentError(f"no such user(s): {', '.join(missing)}")
    inactive = [n for n in names if not users[n].active]
    if inactive:
        raise AssignmentError(f"deactivated user(s): {', '.join(inactive)}")
    others = [f"{n} ({users[n].role})" for n in names if users[n].role != "annotator"]
    if others:
        raise AssignmentError(f"only annotators are assigned documents, not {', '.join(others)}")
    return [users[n] for n in names]


ORDERS = ("arrival", "need")


def assign(
    session: Session,
    by: str,
    annotators: list[str],
    overlap: int,
    uids: list[str] | None = None,
    order: str = "arrival",
) -> AssignReport:
    """Give each document to `overlap` annotators, least-loaded first (ties by name).

    `order`: the order documents join the queues: as they arrived, or by need (the ones
    the trained model was least sure of first; documents no model has read after them)."""
    if order not in ORDERS:
        raise AssignmentError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
    names = sorted(set(annotators))
    if not 1 <= overlap <= len(names):
        raise AssignmentError(f"overlap {overlap} needs between 1 and {len(names)} annotators")
    users = {u.name: u for u in annotator_accounts(session, names)}
    ordering = (Document.uncertainty.desc().nulls_last(), Document.id) if order == "need" else (Document.id,)
    query = select(Document.id).order_by(*ordering)
    if uids:
        found = dict(session.exec(select(Document.uid, Document.id).where(Document.uid.in_(uids))).all())
        unknown = [u for u in uids if u not in found]
        if unknown:
            raise AssignmentError(f"no such document(s): {', '.join(unknown[:10])}")
        query = query.where(Document.uid.in_(uids))
    doc_ids = session.exec(query).scalars().all()
    existing: dict[int, dict[str, Layer]] = {}
    for layer in session.exec(select(Layer).where(Layer.name.in_(names), Layer.document_id.in_(doc_ids))).scalars():
        existing.setdefault(layer.document_id, {})[layer.name] = layer
    load = dict(
        session.exec(
            select(Layer.name, func.count())
            .where(Layer.name.in_(names), Layer.assigned_at.is_not(None))
            .group_by(Layer.name)
        ).all()
    )
    queue_end = dict(
        session.exec(
            select(Layer.name, func.max(Layer.position)).where(Layer.name.in_(names)).group_by(Layer.name)
        ).all()
    )
    created: dict[str, int] = dict.fromkeys(names, 0)
    now = utcnow()
    for doc_id in doc_ids:
        have = {n for n, layer in existing.get(doc_id, {}).items() if layer.assigned_at is not None}
        for name in sorted((n for n in names if n not in have), key=lambda n: (load.get(n, 0), n))[
            : max(0, overlap - len(have))
        ]:
            layer = existing.get(doc_id, {}).get(name) or Layer(
                document_id=doc_id, name=name, kind="annotator", status="todo"
            )
            queue_end[name] = (queue_end.get(name) or 0) + 1
            layer.user_id, layer.assigned_at, layer.assigned_by, layer.position = (
                users[name].id,
                now,
                by,
                queue_end[name],
            )
            session.add(layer)
            load[name] = load.get(name, 0) + 1
            created[name] += 1
    session.flush()
    session.add(
        AuditEvent(
            user=by,
            action="assign",
            target=f"overlap:{overlap}",
            after={"documents": len(doc_ids), "per_annotator": created, "order": order},
        )
    )
    return AssignReport(len(doc_ids), sum(created.values()), created)


def queue(session: Session, name: str) -> list[tuple[Layer, Document]]:
    """An annotator's assigned documents in order, with their layer (status, version); the
    documents' text and tokens stay unloaded (a queue lists hundreds of long documents)."""
    rows = session.exec(
        select(Layer, Document)
        .join(Document, Document.id == Layer.document_id)
        .options(defer(Document.text), defer(Document.tokens))
        .where(Layer.name == name, Layer.assigned_at.is_not(None))
        .order_by(Layer.position, Layer.id)
    ).all()
    return [(layer, doc) for layer, doc in rows]


STALE_DAYS = 7  # `reassign`'s default, as the assignments page's (web/assignments.py)


def stale(session: Session, older_than: timedelta, name: str | None = None) -> list[Layer]:
    """Assignments not done or skipped and untouched for longer than `older_than` (only
    those of the layer `name`, if given)."""
    cutoff = utcnow() - older_than
    query = select(Layer).where(
        Layer.assigned_at.is_not(None), Layer.status.in_(["todo", "in_progress"]), Layer.updated_at < cutoff
    )
    if name is not None:
        query = query.where(Layer.name == name)
    return session.exec(query.order_by(Layer.updated_at, Layer.id)).scalars().all()


def is_empty(session: Session, layer: Layer) -> bool:
    return not any(
        session.exec(select(model.id).where(model.layer_id == layer.id).limit(1)).first()
        for model in (Span, Relation, Claim, SuggestionDecision)
    )


def reassign(session: Session, by: str, layer_id: int, to: str) -> Layer:
    """Hand a stale assignment to another annotator. Untouched layers move; a layer with
    work stays with its author (status "skipped") and the new annotator starts afresh."""
    old = session.get(Layer, layer_id)
    if old is None or old.assigned_at is None:
        raise AssignmentError(f"no assignment {layer_id}")
    if old.status == "done":
        raise AssignmentError("this assignment is done; nothing to hand over")
    [user] = annotator_accounts(session, [to])
    if session.exec(select(Layer.id).where(Layer.document_id == old.document_id, Layer.name == to)).first():
        raise AssignmentError(f"{to} already has this document")
    position = (session.exec(select(func.max(Layer.position)).where(Layer.name == to)).scalar_one() or 0) + 1
    new = Layer(
        document_id=old.document_id,
        name=to,
        kind="annotator",
        status="todo",
        user_id=user.id,
        assigned_at=utcnow(),
        assigned_by=by,
        position=position,
    )
    if is_empty(session, old):
        session.delete(old)
    else:
        old.status, old.assigned_at = "skipped", None
        session.add(old)
    session.add(new)
    session.flush()
    session.add(
        AuditEvent(
            user=by,
            action="reassign",
            document_id=new.document_id,
            layer_id=new.id,
            target=f"layer:{layer_id}",
            before={"annotator": old.name},
            after={"annotator": to},
        )
    )
    return new
