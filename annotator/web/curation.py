"""Curation pages (curators and admins): the documents to curate, and one document with each
annotator's items side by side, merged into the gold layer.

Opening a document that has no gold layer yet pre-accepts its agreements. That happens once:
afterwards the gold layer exists, so nothing a curator undid or removed is ever re-added
behind their back ("Pre-accept agreements" does it again on request). Every write is a POST
naming the gold version the page showed; htmx gets a message for #cur-status plus the board
swapped out of band, a plain form a redirect back to the page. A refusal stores nothing and
answers 4xx (409 when another curator changed gold first).
"""

from __future__ import annotations

from math import ceil

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
from sqlmodel import Session

from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.layers import AnnotationError, NotFound
from annotator.models import GOLD, Document
from annotator.project import labels_of
from annotator.review.comparison import Comparison, Item, compare, overview
from annotator.review.gold import accept, finish, pre_accept, reject
from annotator.web.addressing import elsewhere
from annotator.web.auth import curator_required
from annotator.web.extensions import htmx
from annotator.web.guards import page_number
from annotator.web.rendering import escape_text, glue_text, pieces, quantity_summary, said
from annotator.web.workspace.forms import WHOLE
from annotator.web.workspace.reads import document_by_uid

bp = Blueprint("curation", __name__, url_prefix="/curate")
PER_PAGE = 50
CLAIM_PARTS = ("entity", "property", "condition", "time", "source")  # claim identity order after the quantity


# --- pages ----------------------------------------------------------------------------------------


@bp.get("/")
@curator_required
def index():
    session = get_db().request_session()
    total, _ = overview(session, 0, 0)
    page = min(page_number(), max(1, ceil(total / PER_PAGE)))
    total, rows = overview(session, (page - 1) * PER_PAGE, PER_PAGE)
    return render_template(
        "curation/index.html", rows=rows, total=total, page=page, pages=max(1, ceil(total / PER_PAGE))
    )


@bp.get("/<uid>")
@curator_required
def document(uid: str):
    """The board; opening it stores nothing (pre-accepting the agreements is a button)."""
    everyone = bool(request.args.get("all"))
    session = get_db().request_session()
    doc = document_by_uid(session, uid)
    if doc is None:
        return elsewhere(session, uid, ".document", **request.args)
    shown = board(session, doc, everyone)
    todo = len(shown["comparison"].to_pre_accept())
    message = (
        f"{todo} item{'s' * (todo != 1)} every compared annotator agrees on: “Pre-accept agreements” "
        "copies them into gold in one step (undo in the gold workspace)."
        if todo and shown["comparison"].gold is None
        else None
    )
    return render_template("curation/page.html", message=message, **shown)


def board(session: Session, doc: Document, everyone: bool) -> dict:
    """What the board shows: the comparison, the text with gold marks, the items by kind."""
    comparison = compare(session, doc, everyone)
    classes = current_app.extensions["annotator.label_classes"]
    by_kind = {kind: [] for kind in ("span", "relation", "claim")}
    for item in comparison.items:
        by_kind[item.kind].append((item, describe(doc.text, item)))
    return dict(
        doc=doc,
        comparison=comparison,
        everyone=everyone,
        by_kind=by_kind,
        labels=labels_of(current_app),
        text=marked_text(doc.text, comparison, classes),
    )


def describe(text: str, item: Item) -> dict:
    """The item's parts as plain strings (the template escapes them)."""

    def side(ident):
        return {"label": ident[2], "text": text[ident[0] : ident[1]]} if ident else None

    if item.kind == "span":
        return side(item.ident)
    if item.kind == "relation":
        return {"head": side(item.ident[0]), "label": item.ident[2], "child": side(item.ident[1])}
    quantity, value, unit, qualifier, *links = item.ident
    parts = [(name, side(ident)) for name, ident in zip(CLAIM_PARTS, links) if ident]
    return {
        "quantity": side(quantity),
        "value": quantity_summary({"value": value, "unit": unit, "qualifier": qualifier}),
        "parts": parts,
        "property_text": links[5],
        "modifiers": list(links[6]),
    }


def marked_text(text: str, comparison: Comparison, classes: dict[str, str]) -> Markup:
    """Escaped text with a mark per stretch under gold spans (solid) or open span items
    (dashed; red where they are in conflict)."""
    spans = [
        {"start": s.start, "end": s.end, "label": s.label, "tip": f"{s.label} · in gold", "gold": True}
        for s in (comparison.gold.spans.values() if comparison.gold else [])
    ]
    spans += [
        {
            "start": i.ident[0],
            "end": i.ident[1],
            "label": i.ident[2],
            "gold": False,
            "clash": i.state == "conflict",
            "tip": f"{i.ident[2]} · {i.state} · {', '.join(sorted(i.rows))}",
        }
        for i in comparison.items
        if i.kind == "span" and i.open
    ]
    out: list[str] = []
    mark = ""  # the text of the mark just appended
    for p in pieces(text, spans):
        if not p.spans:
            glue_text(out, p.text, mark)
            mark = ""
            continue
        gold = [s for s in p.spans if s["gold"]]
        lead = min(gold or p.spans, key=lambda s: (s["end"] - s["start"], s["label"]))
        css = [classes.get(lead["label"], "lbl-other"), "cur-gold" if gold else "cur-open"]
        css += ["cur-clash"] if any(s.get("clash") for s in p.spans) else []
        out.append(
            f'<mark class="{" ".join(css)}" data-start="{p.start}" data-end="{p.end}" '
            f'data-tip="{escape(p.tip)}"{said(p, spoken)}>{escape_text(p.text)}</mark>'
        )
        mark = p.text
    return Markup("".join(out))


def spoken(span: dict) -> str:
    """What a screen reader hears where a span of the curation text begins."""
    if span["gold"]:
        return f"{span['label']} in gold"
    return f"{span['label']} {'open conflict' if span.get('clash') else 'open'}"


# --- writes ---------------------------------------------------------------------------------------


@bp.post("/<uid>/pre-accept")
@curator_required
def pre_accept_all(uid: str):
    return _write(uid, lambda s, doc, user, seen, everyone: pre_accept(s, doc, user, seen, everyone).message)


@bp.post("/<uid>/accept")
@curator_required
def accept_item(uid: str):
    def run(s, doc, user, seen, everyone):
        f = request.form
        return accept(s, doc, user, seen, f.get("kind"), f.get("key"), f.get("annotator") or None).message

    return _write(uid, run)


@bp.post("/<uid>/reject")
@curator_required
def reject_item(uid: str):
    return _write(
        uid,
        lambda s, doc, user, seen, everyone: (
            reject(s, doc, user, seen, request.form.get("kind"), request.form.get("key")).message
        ),
    )


@bp.post("/<uid>/status")
@curator_required
def status_set(uid: str):
    def run(s, doc, user, seen, everyone):
        wanted = request.form.get("status")
        if wanted == "done":
            finish(s, doc, user, seen, everyone)
            return "Marked gold done"
        if wanted == "in_progress":
            set_status(s, doc, GOLD, user, seen, "in_progress")
            return "Reopened gold for curation"
        raise AnnotationError("ask for status done or in_progress")

    return _write(uid, run)


def _write(uid: str, action):
    """Run action(session, doc, user, version seen, everyone) -> message in one write transaction."""
    everyone = bool(request.form.get("all"))
    try:
        seen = _seen(request.form)
        with get_db().writing() as s:
            message = action(s, _document(s, uid, NotFound), current_user.name, seen, everyone)
    except AnnotationError as exc:
        return _refused(exc)
    if not htmx:
        return redirect(url_for(".document", uid=uid, all=1 if everyone else None), 303)
    with get_db().reading() as s:
        context = board(s, _document(s, uid), everyone)
    return render_template("curation/_write.html", message=message, kind="ok", oob=True, **context)


def _refused(exc: AnnotationError):
    message = str(exc)
    message = message[:1].upper() + message[1:]
    if not htmx:
        abort(exc.status, description=message)
    conflict = exc.status == 409
    return render_template(
        "curation/_message.html", message=message, kind="conflict" if conflict else "error", conflict=conflict
    ), exc.status


def _seen(form) -> int:
    raw = (form.get("version") or "").strip()
    if not WHOLE.fullmatch(raw) or int(raw) < 0:
        raise AnnotationError("the request did not say which version of the gold layer it saw; reload the page")
    return int(raw)


def _document(session: Session, uid: str, missing=None) -> Document:
    doc = document_by_uid(session, uid)
    if doc is None:
        if missing:
            raise missing(f"there is no document with the id {uid!r}")
        abort(404, description=f"There is no document with the id “{uid}” in this project.")
    return doc
