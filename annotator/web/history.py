"""History from the audit events: per document (curators and admins) and per user (admins,
and everyone for themselves): who did what, when, with the state before and after, newest
first, a page at a time."""

from __future__ import annotations

import json

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import func, or_, select

from annotator.db import get_db
from annotator.models import AuditEvent, Document
from annotator.web.auth import curator_required
from annotator.web.guards import page_number

bp = Blueprint("history", __name__, url_prefix="/history")
PAGE_SIZE = 50
EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.user,
    AuditEvent.action,
    AuditEvent.target,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.state,
    AuditEvent.document_id,
)


def events_page(session, where, page: int, size: int = PAGE_SIZE) -> dict:
    """One page of the events matching `where`, newest first, with their documents' uids."""
    total = session.exec(select(func.count()).select_from(AuditEvent).where(where)).scalar_one()
    pages = max(1, -(-total // size))
    page = min(page, pages)
    query = select(*EVENT_COLUMNS).where(where).order_by(AuditEvent.id.desc()).offset((page - 1) * size).limit(size)
    rows = session.exec(query).all()
    doc_ids = {r.document_id for r in rows if r.document_id is not None}
    docs = (
        dict(session.exec(select(Document.id, Document.uid).where(Document.id.in_(doc_ids))).all()) if doc_ids else {}
    )
    return dict(rows=rows, docs=docs, page=page, pages=pages, total=total)


def as_json(value) -> str:
    """A before/after state for the page (escaped by the template like any text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)


@bp.get("/documents/<uid>")
@curator_required
def document(uid: str):
    """Every event about the document; a deleted one keeps its events by its uid."""
    session = get_db().request_session()
    doc = session.exec(select(Document.id, Document.title).where(Document.uid == uid)).first()
    about = AuditEvent.target == f"document:{uid}"
    where = or_(AuditEvent.document_id == doc.id, about) if doc else about
    found = events_page(session, where, page_number())
    if doc is None and not found["total"]:
        abort(404, description=f"There is no document with the id “{uid}” in this project, nor any history of one.")
    title = (doc.title if doc else "") or uid
    return render_template(
        "history/page.html", heading=f"History of “{title}”", uid=uid, doc=doc, name=None, as_json=as_json, **found
    )


@bp.get("/users/<name>")
def user(name: str):
    """What the user did and what was done to their account."""
    if current_user.role != "admin" and current_user.name != name:
        abort(403, description="Only admins see other people's history.")
    session = get_db().request_session()
    where = or_(AuditEvent.user == name, AuditEvent.target == f"user:{name}")
    found = events_page(session, where, page_number())
    return render_template(
        "history/page.html", heading=f"History of {name}", uid=None, doc=None, name=name, as_json=as_json, **found
    )
