"""Document list (paginated, filtered through htmx) and the read-only document view."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from annotator.db import get_db
from annotator.export.records import get_record
from annotator.models import SUGGESTIONS, Document, Suggestion
from annotator.project import labels_of
from annotator.web.addressing import elsewhere, uid_named
from annotator.web.extensions import htmx
from annotator.web.guards import page_number
from annotator.web.identity import current_annotator, is_curator, only_assigned_to, require_open, visible_ids
from annotator.web.listing import document_page, languages, neighbours
from annotator.web.rendering import SUGGESTION_FIELDS, pieces, suggestion_spans, text_html
from annotator.web.workspace.reads import document_by_uid

bp = Blueprint("documents", __name__)
# plain rows, not ORM objects: a long document has thousands of suggestions
SUGGESTION_COLUMNS = [getattr(Suggestion, name) for name in SUGGESTION_FIELDS]


def wants_fragment() -> bool:
    """An htmx swap gets the fragment; a boosted link or a history restore gets the page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


@bp.get("/")
def index():
    page = page_number()
    lang = request.args.get("lang", "").strip() or None
    session = get_db().request_session()
    within = visible_ids()
    listing = document_page(session, page, current_app.config["PAGE_SIZE"], lang, within)
    context = dict(listing=listing, labels=labels_of(current_app))
    if wants_fragment():
        response = current_app.make_response(render_template("documents/_rows.html", **context))
    else:
        response = current_app.make_response(
            render_template("documents/list.html", languages=languages(session, within), **context)
        )
    # The same URL answers with a fragment or a page: caches must keep them apart.
    response.vary.add("HX-Request")
    return response


@bp.get("/documents/<uid>")
def view(uid: str):
    session = get_db().request_session()
    doc = document_by_uid(session, uid)
    if doc is None:
        return elsewhere(session, uid, ".view")
    require_open(session, doc.id)
    labels = labels_of(current_app)
    rows = session.exec(select(*SUGGESTION_COLUMNS).where(Suggestion.document_id == doc.id)).all()
    spans = suggestion_spans(doc.text, rows, labels.quantity_label)
    quantities = [s for s in spans if s["label"] == labels.quantity_label]
    marked = text_html(
        pieces(doc.text, spans),
        current_app.extensions["annotator.label_classes"],
        anchors={s["start"] for s in quantities},
    )
    return render_template(
        "documents/view.html",
        doc=doc,
        labels=labels,
        text_html=marked,
        quantities=quantities,
        legend=Counter(s["label"] for s in spans),
        origins=Counter(s["origin"] for s in spans),
        neighbours=neighbours(session, doc.id, only_assigned_to()),
    )


@bp.get("/documents/<uid>/layers/<name>.json")
def layer_json(uid: str, name: str):
    """One layer of one document as an export record (the shape of `annotator show --json`).
    Annotators get their own layer and the suggestions of documents assigned to them only."""
    session = get_db().request_session()
    uid = uid_named(session, uid) or uid  # a source id names the document too
    doc_id = session.exec(select(Document.id).where(Document.uid == uid)).scalar()
    if doc_id is None:
        abort(404, description=f"There is no document with the id “{uid}” in this project.")
    require_open(session, doc_id)
    if not is_curator() and name not in (current_annotator(), SUGGESTIONS):
        abort(403, description="Annotators see only their own layer.")
    try:
        record = get_record(session, uid, name, labels_of(current_app).quantity_label)
    except LookupError as exc:
        abort(404, description=str(exc.args[0]))
    return record
