"""Document list (paginated, counted by indexed queries) and the read-only document view."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import func, select

from ..db import get_db
from ..models import Document, Suggestion
from ..records import suggestion_record
from ..services import labels_of
from .rendering import pieces

bp = Blueprint("documents", __name__)


def _page_args() -> tuple[int, str | None]:
    page = request.args.get("page", default=1, type=int) or 1
    lang = request.args.get("lang") or None
    return max(page, 1), lang


@bp.get("/")
def index():
    page, lang = _page_args()
    session = get_db().request_session()
    size = current_app.config["PAGE_SIZE"]
    count_q = select(func.count()).select_from(Document)
    rows_q = select(Document.id, Document.uid, Document.title, Document.lang, Document.n_chars,
                    Document.n_suggestions).order_by(Document.id)
    if lang:
        count_q = count_q.where(Document.lang == lang)
        rows_q = rows_q.where(Document.lang == lang)
    total = session.exec(count_q).scalar_one()
    pages = max(1, -(-total // size))
    page = min(page, pages)
    rows = session.exec(rows_q.offset((page - 1) * size).limit(size)).all()
    by_label = _label_counts(session, [r.id for r in rows])
    languages = session.exec(select(Document.lang, func.count()).group_by(Document.lang).order_by(Document.lang)).all()
    context = dict(rows=rows, by_label=by_label, page=page, pages=pages, total=total, lang=lang,
                   languages=languages, labels=labels_of(current_app))
    template = "documents/_rows.html" if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "document-rows" \
        else "documents/list.html"
    return render_template(template, **context)


def _label_counts(session, doc_ids: list[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {i: {} for i in doc_ids}
    if doc_ids:
        query = (select(Suggestion.document_id, Suggestion.label, func.count())
                 .where(Suggestion.document_id.in_(doc_ids)).group_by(Suggestion.document_id, Suggestion.label))
        for doc_id, label, n in session.exec(query).all():
            counts[doc_id][label] = n
    return counts


@bp.get("/documents/<uid>")
def view(uid: str):
    session = get_db().request_session()
    doc = session.exec(select(Document).where(Document.uid == uid)).scalars().first()
    if doc is None:
        abort(404)
    labels = labels_of(current_app)
    rows = session.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
    record = suggestion_record(doc, rows, labels.quantity_label)
    legend: dict[str, int] = {}
    for span in record["spans"]:
        legend[span["label"]] = legend.get(span["label"], 0) + 1
    neighbours = {
        "prev": session.exec(select(Document.uid).where(Document.id < doc.id).order_by(Document.id.desc()).limit(1)).first(),
        "next": session.exec(select(Document.uid).where(Document.id > doc.id).order_by(Document.id).limit(1)).first(),
    }
    return render_template("documents/view.html", doc=doc, record=record, pieces=pieces(doc.text, record["spans"]),
                           legend=legend, labels=labels, neighbours=neighbours)
