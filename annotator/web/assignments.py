"""Assignments: an annotator's queue (/assignments/mine) and the curators' page (/assignments/)
to assign documents to k annotators each, follow progress and hand stale work to someone else.

Every POST is a plain form that htmx enhances: htmx gets the changed fragment back, a browser
without scripts a redirect and a flashed message; a refusal answers 4xx with the message and
stores nothing. The service functions in assigning and status hold the rules.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import defer

from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.layers import AnnotationError, NotFound
from annotator.models import Document, Layer, User, utcnow
from annotator.team.assignments import STALE_DAYS, AssignmentError, assign, is_empty, queue, reassign, stale
from annotator.web.auth import curator_required
from annotator.web.extensions import htmx
from annotator.web.workspace.forms import read_version

bp = Blueprint("assignments", __name__, url_prefix="/assignments")
DEFAULT_STALE_DAYS = float(STALE_DAYS)  # the page lists what `annotator reassign` would
COUNTED = ("todo", "in_progress", "done", "skipped")
SEPARATORS = re.compile(r"[\s,]+")
WHOLE = re.compile(r"[0-9]{1,6}")


# --- the annotator's queue ----------------------------------------------------------------------


@bp.get("/mine")
def mine():
    return render_template("assignments/mine.html", **_queue_context(get_db().request_session()))


@bp.post("/mine/<id:layer_id>/status")
def queue_status(layer_id: int):
    """Skip a document, or take a skipped (or done) one back into the queue. Marking done is
    the workspace's job, where the annotator sees what they mark."""
    action = request.form.get("action")
    try:
        seen = read_version(request.form)
        with get_db().writing() as s:
            layer, doc = _own_assignment(s, layer_id)
            status = _status_for(s, layer, action)
            set_status(s, doc, layer.name, current_user.name, seen, status)
    except AnnotationError as exc:
        return _queue_answer(_sentence(str(exc)), "error", exc.status)
    verb = "Skipped" if status == "skipped" else "Put back"
    return _queue_answer(f"{verb} “{doc.title or doc.uid}”.", "ok")


def _own_assignment(session, layer_id: int) -> tuple[Layer, Document]:
    layer = session.get(Layer, layer_id)
    if layer is None or layer.assigned_at is None or layer.name != current_user.name:
        raise NotFound("this document is not in your queue")
    doc = (
        session.exec(
            select(Document)
            .options(defer(Document.tokens), defer(Document.text))
            .where(Document.id == layer.document_id)
        )
        .scalars()
        .one()
    )
    return layer, doc


def _status_for(session, layer: Layer, action: str | None) -> str:
    if action == "skip":
        return "skipped"
    if action == "reopen":  # "todo" would hide work already saved in the layer
        return "todo" if is_empty(session, layer) else "in_progress"
    raise AnnotationError("choose to skip the document or to put it back")


def _queue_context(session, message: str | None = None, kind: str = "ok") -> dict:
    rows = queue(session, current_user.name)
    counts = Counter(layer.status for layer, _ in rows)
    return dict(rows=rows, counts=counts, total=len(rows), message=message, kind=kind)


def _queue_answer(message: str, kind: str, status: int = 200):
    """htmx gets the queue fragment; a plain form a redirect after success, the page on refusal."""
    if htmx or status >= 400:
        context = _queue_context(get_db().request_session(), message, kind)
        return render_template("assignments/_queue.html" if htmx else "assignments/mine.html", **context), status
    flash(message, kind)
    return redirect(url_for(".mine"), 303)


# --- the curators' page -------------------------------------------------------------------------


@bp.get("/")
@curator_required
def overview():
    session = get_db().request_session()
    return render_template(
        "assignments/overview.html", choices=annotator_names(session), **_board(session, _stale_days())
    )


@bp.post("/assign")
@curator_required
def assign_documents():
    form = request.form
    names = [n.strip() for n in form.getlist("annotators") if n.strip()]
    try:
        overlap = _whole(form.get("overlap"), "the overlap k")
        if not names:
            raise AssignmentError("choose at least one annotator")
        with get_db().writing() as s:
            uids = _chosen_documents(s, form.get("scope", "all"), form.get("documents", ""))
            order = form.get("order") or current_app.config["ASSIGN_ORDER"]
            report = assign(s, current_user.name, names, overlap, uids, order)
    except AssignmentError as exc:
        return _board_answer(_sentence(str(exc)), "error", 422)
    shares = ", ".join(f"{name} {n}" for name, n in report.per_annotator.items())
    return _board_answer(
        f"{report.created} new assignment{'s' * (report.created != 1)} over "
        f"{report.documents} document{'s' * (report.documents != 1)} (k = {overlap}): {shares}.",
        "ok",
    )


@bp.post("/<id:layer_id>/reassign")
@curator_required
def reassign_layer(layer_id: int):
    to = request.form.get("to", "").strip()
    try:
        if not to:
            raise AssignmentError("choose the annotator who takes this document over")
        with get_db().writing() as s:
            old = s.get(Layer, layer_id)
            before = old.name if old is not None else None
            new = reassign(s, current_user.name, layer_id, to)
            title = s.exec(select(Document.title).where(Document.id == new.document_id)).scalar_one()
    except AssignmentError as exc:
        return _board_answer(_sentence(str(exc)), "error", 422)
    return _board_answer(f"Handed “{title or new.document_id}” from {before} to {to}.", "ok")


def _chosen_documents(session, scope: str, listed: str) -> list[str] | None:
    """The document ids to assign: None for every document, or those without any annotator,
    or the ids typed in (separated by spaces, commas or new lines)."""
    if scope == "all":
        return None
    if scope == "listed":
        uids = list(dict.fromkeys(u for u in SEPARATORS.split(listed) if u))
        if not uids:
            raise AssignmentError("list the ids of the documents to assign")
        return uids
    if scope == "unassigned":
        uids = (
            session.exec(select(Document.uid).where(Document.id.not_in(_assigned_documents())).order_by(Document.id))
            .scalars()
            .all()
        )
        if not uids:  # assign() reads an empty list as "every document"
            raise AssignmentError("every document already has annotators; nothing to assign")
        return uids
    raise AssignmentError(f"unknown choice of documents {scope!r}")


def _board_answer(message: str, kind: str, status: int = 200):
    """htmx gets the board fragment; a plain form a redirect after success, the page on refusal."""
    days, session = _stale_days(), get_db().request_session()
    if htmx:
        return render_template("assignments/_board.html", **_board(session, days, message, kind)), status
    if status >= 400:
        return render_template(
            "assignments/overview.html", choices=annotator_names(session), **_board(session, days, message, kind)
        ), status
    flash(message, kind)
    return redirect(url_for(".overview", days=_days_text(days)), 303)


# --- what the curators' page shows -------------------------------------------------------------


def annotator_names(session) -> list[str]:
    """Active accounts with the annotator role: the people documents are assigned to."""
    return (
        session.exec(select(User.name).where(User.role == "annotator", User.active.is_(True)).order_by(User.name))
        .scalars()
        .all()
    )


def _board(session, days: float, message: str | None = None, kind: str = "ok") -> dict:
    names = annotator_names(session)
    total = session.exec(select(func.count()).select_from(Document)).scalar_one()
    unassigned = session.exec(
        select(func.count()).select_from(Document).where(Document.id.not_in(_assigned_documents()))
    ).scalar_one()
    return dict(
        summary=summary(session, names),
        stale=stale_rows(session, days, names),
        days=_days_text(days),
        documents=total,
        unassigned=unassigned,
        message=message,
        kind=kind,
    )


def summary(session, names: list[str]) -> list[dict]:
    """Per annotator: assigned documents and how many are in each status (every annotator
    account, plus anyone else who holds assignments)."""
    rows = session.exec(
        select(Layer.name, Layer.status, func.count())
        .where(Layer.assigned_at.is_not(None))
        .group_by(Layer.name, Layer.status)
    ).all()
    table = {name: Counter() for name in names}
    for name, status, n in rows:
        table.setdefault(name, Counter())[status] += n
    return [
        {"name": name, "assigned": sum(c.values()), **{s: c[s] for s in COUNTED}} for name, c in sorted(table.items())
    ]


def stale_rows(session, days: float, names: list[str]) -> list[dict]:
    """Stale assignments with their document and the annotators who could take each over
    (not those who already have a layer of that document)."""
    layers = stale(session, timedelta(days=days))
    doc_ids = {layer.document_id for layer in layers}
    docs = (
        {
            row.id: row
            for row in session.exec(
                select(Document.id, Document.uid, Document.title).where(Document.id.in_(doc_ids))
            ).all()
        }
        if doc_ids
        else {}
    )
    holders: dict[int, set[str]] = {}
    if doc_ids:
        for doc_id, name in session.exec(
            select(Layer.document_id, Layer.name).where(Layer.document_id.in_(doc_ids))
        ).all():
            holders.setdefault(doc_id, set()).add(name)
    return [
        {
            "layer": layer,
            "doc": docs[layer.document_id],
            "idle_days": _idle_days(layer.updated_at),
            "candidates": [n for n in names if n not in holders.get(layer.document_id, set())],
        }
        for layer in layers
    ]


def _assigned_documents():
    return select(Layer.document_id).where(Layer.assigned_at.is_not(None))


def _idle_days(when: datetime) -> int:
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return max(0, (utcnow() - aware).days)


# --- small parsers ------------------------------------------------------------------------------


def _stale_days() -> float:
    """?days=N (also a form field, so a POST keeps the page's choice); a bad value means the default."""
    try:
        days = float(request.values.get("days", DEFAULT_STALE_DAYS))
    except ValueError:
        return DEFAULT_STALE_DAYS
    return days if 0 <= days <= 36500 else DEFAULT_STALE_DAYS


def _days_text(days: float) -> str:
    return f"{days:g}"


def _whole(raw: str | None, what: str) -> int:
    if raw is None or not WHOLE.fullmatch(raw.strip()):
        raise AssignmentError(f"{what} must be a whole number")
    return int(raw)


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith((".", "!", "?")) else ".")
