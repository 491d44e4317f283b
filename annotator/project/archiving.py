"""Archiving, restoring and deleting a document (admins), each an audit event with the state
before and after. A document whose layers hold people's work (spans, relations, claims,
answers to suggestions) is refused unless forced, and the refusal names every such layer
with its counts, so nobody archives or deletes work by accident."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from annotator.models import (
    AuditEvent,
    Claim,
    Document,
    Layer,
    LinkDecision,
    Relation,
    Span,
    SuggestionDecision,
    utcnow,
)

WORK = {"spans": Span, "relations": Relation, "claims": Claim, "answers": SuggestionDecision}


class ArchiveRefused(ValueError):
    """The document holds people's work and the action was not forced."""


class NoSuchDocument(LookupError):
    pass


def human_work(session: Session, doc_id: int) -> dict[str, dict[str, int]]:
    """{layer name: {what: count}} for the layers of the document that hold any work."""
    found: dict[str, dict[str, int]] = {}
    tables = {**WORK, "answers to suggested links": LinkDecision}
    for what, table in tables.items():
        query = (
            select(Layer.name, func.count())
            .join(table, table.layer_id == Layer.id)
            .where(Layer.document_id == doc_id)
            .group_by(Layer.name)
        )
        for name, n in session.exec(query).all():
            found.setdefault(name, {})[what] = n
    return dict(sorted(found.items()))


def describe(work: dict[str, dict[str, int]]) -> str:
    """'alice: 3 spans, 1 claim; gold: 2 spans'."""

    def part(what: str, n: int) -> str:
        return f"{n} {what if n != 1 else what.replace('answers', 'answer').rstrip('s')}"

    return "; ".join(f"{name}: " + ", ".join(part(w, n) for w, n in counts.items()) for name, counts in work.items())


def _document(session: Session, uid: str) -> Document:
    doc = session.exec(select(Document).where(Document.uid == uid)).scalars().first()
    if doc is None:
        raise NoSuchDocument(f"there is no document with the id {uid!r}")
    return doc


def _refuse_work(session: Session, doc: Document, verb: str, force: bool) -> dict:
    work = human_work(session, doc.id)
    if work and not force:
        raise ArchiveRefused(
            f"refused to {verb} “{doc.title or doc.uid}”: its layers hold people's work ({describe(work)}). "
            f"Tick “force” to {verb} it anyway"
        )
    return work


def _state(doc: Document, work: dict | None = None) -> dict:
    state = {"archived_at": doc.archived_at.isoformat() if doc.archived_at else None, "archived_by": doc.archived_by}
    return {**state, "layers": work} if work else state


def archive(session: Session, uid: str, user: str, force: bool = False) -> Document:
    """Hide the document from the list (it can be restored)."""
    doc = _document(session, uid)
    if doc.archived_at is not None:
        return doc
    work = _refuse_work(session, doc, "archive", force)
    before = _state(doc, work)
    doc.archived_at, doc.archived_by = utcnow(), user
    session.add(doc)
    _audit(session, user, "archive_document", doc, before, _state(doc) | {"forced": bool(work)})
    return doc


def restore(session: Session, uid: str, user: str) -> Document:
    """Bring an archived document back to the list."""
    doc = _document(session, uid)
    if doc.archived_at is None:
        return doc
    before = _state(doc)
    doc.archived_at, doc.archived_by = None, None
    session.add(doc)
    _audit(session, user, "restore_document", doc, before, _state(doc))
    return doc


def delete(session: Session, uid: str, user: str, force: bool = False) -> dict:
    """Delete the document with its suggestions and layers; the audit event keeps what it
    was (its id, title, language and the work deleted with it)."""
    doc = _document(session, uid)
    work = _refuse_work(session, doc, "delete", force)
    before = {"uid": doc.uid, "title": doc.title, "lang": doc.lang, "n_chars": doc.n_chars, **_state(doc, work)}
    _audit(session, user, "delete_document", doc, before, None)
    session.delete(doc)
    session.flush()
    return before


def _audit(session: Session, user: str, action: str, doc: Document, before: dict | None, after: dict | None) -> None:
    session.add(
        AuditEvent(
            user=user, action=action, document_id=doc.id, target=f"document:{doc.uid}", before=before, after=after
        )
    )
    session.flush()
