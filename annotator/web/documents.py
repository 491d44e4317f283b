"""Document list (searched, filtered, sorted and paginated through htmx), the read-only
document view, and archiving, restoring and deleting a document (admins)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.export.records import get_record
from annotator.models import LAYER_STATUSES, SUGGESTIONS, Document, Suggestion
from annotator.project import labels_of
from annotator.project.archiving import ArchiveRefused, NoSuchDocument, archive, delete, human_work, restore
from annotator.project.search import SORTS, Filters
from annotator.web.addressing import elsewhere, uid_named
from annotator.web.auth import roles_required
from annotator.web.extensions import htmx
from annotator.web.guards import page_number
from annotator.web.identity import current_annotator, is_curator, only_assigned_to, require_open, visible_ids
from annotator.web.listing import document_page, filter_choices, neighbours
from annotator.web.rendering import SUGGESTION_FIELDS, suggestion_spans, text_html
from annotator.web.text_parts import TextPart, part_pieces, text_part
from annotator.web.workspace.reads import document_by_uid

bp = Blueprint("documents", __name__)
# plain rows, not ORM objects: a long document has thousands of suggestions
SUGGESTION_COLUMNS = [getattr(Suggestion, name) for name in SUGGESTION_FIELDS]


def wants_fragment() -> bool:
    """An htmx swap gets the fragment; a boosted link or a history restore gets the page."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


admin_required = roles_required("admin")


@bp.get("/")
def index():
    session = get_db().request_session()
    within = visible_ids()
    own = only_assigned_to()
    filters = Filters.from_args(request.args, may_see_archived=is_curator(), may_name_annotator=own is None)
    listing = document_page(session, page_number(), current_app.config["PAGE_SIZE"], filters, within, own)
    context = dict(listing=listing, filters=filters, labels=labels_of(current_app))
    if wants_fragment():
        response = current_app.make_response(render_template("documents/_rows.html", oob_count=True, **context))
        # the address bar keeps only what narrows the list, not every empty field of the form
        if htmx.trigger == "document-search":
            response.headers["HX-Push-Url"] = url_for(".index", **filters.args())
    else:
        langs, people = filter_choices(session, within, people=own is None)
        choices = dict(
            languages=langs,
            annotators=people,
            statuses=LAYER_STATUSES,
            sorts=SORTS,
        )
        response = current_app.make_response(render_template("documents/list.html", **choices, **context))
    # The same URL answers with a fragment or a page: caches must keep them apart.
    response.vary.add("HX-Request")
    return response


@bp.get("/documents/<uid>")
def view(uid: str, error: str | None = None):
    session = get_db().request_session()
    doc = document_by_uid(session, uid)
    if doc is None:
        return elsewhere(session, uid, ".view")
    require_open(session, doc.id)
    labels = labels_of(current_app)
    part = text_part(doc.text, request.args.get("part"))
    lo, hi = part.range
    rows = session.exec(
        select(*SUGGESTION_COLUMNS).where(Suggestion.document_id == doc.id, Suggestion.start < hi, Suggestion.end > lo)
    ).all()
    spans = suggestion_spans(doc.text, rows, labels.quantity_label)
    marked = text_html(
        part_pieces(doc.text, spans, lo, hi),
        current_app.extensions["annotator.label_classes"],
        anchors={s["start"] for s in spans if s["label"] == labels.quantity_label},
    )
    legend = dict(session.exec(_count_by(Suggestion.label, doc.id)).all())
    return render_template(
        "documents/view.html",
        error=error,
        work=human_work(session, doc.id) if current_user.role == "admin" else {},
        doc=doc,
        labels=labels,
        text_html=marked,
        part=part,
        quantities=_quantities(session, doc, labels.quantity_label, part),
        n_quantities=legend.get(labels.quantity_label, 0),
        legend=legend,
        origins=dict(session.exec(_count_by(Suggestion.origin, doc.id)).all()),
        neighbours=neighbours(session, doc.id, only_assigned_to()),
    )


QUANTITIES_LISTED = 300


def _count_by(column, doc_id: int):
    return select(column, func.count()).where(Suggestion.document_id == doc_id).group_by(column)


def _quantities(session, doc: Document, label: str, part: TextPart) -> list[dict]:
    """The first quantities of the whole text, each with the part of the view holding it."""
    rows = session.exec(
        select(*SUGGESTION_COLUMNS)
        .where(Suggestion.document_id == doc.id, Suggestion.label == label)
        .order_by(Suggestion.start, Suggestion.id)
        .limit(QUANTITIES_LISTED)
    ).all()
    out = suggestion_spans(doc.text, rows, label)
    for q in out:
        q["part"] = part.holding(q["start"])
    return out


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


@bp.post("/documents/<uid>/archive")
@admin_required
def archive_document(uid: str):
    return _change(uid, lambda s: archive(s, uid, current_user.name, _forced()), "Archived “{}”.")


@bp.post("/documents/<uid>/restore")
@admin_required
def restore_document(uid: str):
    return _change(uid, lambda s: restore(s, uid, current_user.name), "Restored “{}”.")


@bp.post("/documents/<uid>/delete")
@admin_required
def delete_document(uid: str):
    return _change(uid, lambda s: delete(s, uid, current_user.name, _forced()), "Deleted “{}”.", gone=True)


def _forced() -> bool:
    return request.form.get("force") == "1"


def _change(uid: str, action, done: str, gone: bool = False):
    """Run an admin's action on the document; a refusal shows the document page with the
    reason (422) and stores nothing."""
    try:
        with get_db().writing() as s:
            result = action(s)
    except NoSuchDocument as exc:
        abort(404, description=str(exc).capitalize() + ".")
    except ArchiveRefused as exc:
        return view(uid, error=str(exc)[0].upper() + str(exc)[1:] + "."), 422
    title = result["title"] if gone else result.title
    flash(done.format(title or uid))
    return redirect(url_for(".index") if gone else url_for(".view", uid=uid), 303)
