"""The annotation workspace: one document in the annotator's own layer.

GET routes render the page or a form fragment. Every write is a POST that names the layer
version it saw and runs one service call (annotating, suggestions, linking, layers, status)
through workspace_writes.write(), which answers with the changed fragments or a refusal.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import replace

from flask import Blueprint, Flask, abort, current_app, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from annotator.annotate.claim_suggestions import decide_claim, decide_relation
from annotator.annotate.history import redo, undo
from annotator.annotate.links import add_relation, delete_claim, delete_relation, save_claim
from annotator.annotate.spans import add_span, current_layer, delete_span, packed_tokens, span_in_layer, update_span
from annotator.annotate.status import progress, set_status
from annotator.annotate.suggestions import decide
from annotator.db import get_db
from annotator.layers import AnnotationError, Forbidden
from annotator.models import Document, Layer, Suggestion
from annotator.project import labels_of
from annotator.team.assignments import queue
from annotator.tokens import bounds
from annotator.web.addressing import elsewhere
from annotator.web.errors import NUL_MESSAGE, holds_nul
from annotator.web.identity import GOLD, current_annotator, is_curator, layer_name, only_assigned_to, require_open
from annotator.web.listing import neighbours
from annotator.web.workspace.forms import claim_fields, claim_form_data, ids_field, ranges_field, relation_choice, whole
from annotator.web.workspace.panel import claims, counters, excerpt, group_runs, relations, span_groups
from annotator.web.workspace.reads import document_by_uid, layer_range, pending_ids, whole_layer
from annotator.web.workspace.suggested import claim_accepted, claim_rejected, relation_said, suggested
from annotator.web.workspace.views import (
    chunk_after,
    chunk_at,
    chunk_before,
    first_window,
    items_of,
    render_blocks,
    text_blocks,
    window_settings,
)
from annotator.web.workspace.writes import (
    Done,
    document,
    gazetteered,
    nudged,
    offered,
    propagated,
    quote,
    quoted,
    refused,
    write,
)

bp = Blueprint("workspace", __name__, url_prefix="/annotate")


def init_app(app: Flask) -> None:
    """The same views twice: /annotate/ edits the user's own layer, /gold/ (curators) the
    gold layer. Templates and scripts name routes relatively (".page"), so each copy links
    to itself."""
    app.register_blueprint(bp)
    app.register_blueprint(bp, name=GOLD, url_prefix="/gold")
    app.add_template_global(help_overlay)
    app.add_template_filter(group_runs)
    app.add_template_global(confirm_over, "bulk_confirm_over")


def help_overlay() -> Markup:
    """The shortcut overlay: it depends on the label configuration alone, which is fixed
    for the app's lifetime, so it is rendered once per app instead of on every page."""
    cache = current_app.extensions.setdefault("annotator.help_overlay", {})
    if "html" not in cache:
        cache["html"] = Markup(render_template("workspace/_help.html", labels=labels_of(current_app)))
    return cache["html"]


@bp.before_request
def only_curators_edit_gold():
    if request.blueprint == GOLD and not is_curator():
        abort(403, description="Only curators and admins edit the gold layer.")


@bp.before_request
def refuse_nul_characters():
    if holds_nul():  # errors.py refuses these for every other page
        return refused(AnnotationError(NUL_MESSAGE))


# --- pages --------------------------------------------------------------------------------------


@bp.get("/")
def start():
    """The first assignment not yet done (in queue order). Curators without assignments
    (and the gold layer) go to the first document not yet done; an annotator with nothing
    assigned is told so, since annotators see only their own documents."""
    session = get_db().request_session()
    name = layer_name()
    assigned = queue(session, name)
    queued = [doc.uid for layer, doc in assigned if layer.status not in ("done", "skipped")]
    uid = queued[0] if queued else None
    if uid is None and not is_curator():
        return render_template("workspace/nothing.html", assigned=bool(assigned))
    if uid is None:
        done = select(Layer.document_id).where(Layer.name == name, Layer.status == "done")
        uid = session.exec(select(Document.uid).where(Document.id.not_in(done)).order_by(Document.id).limit(1)).scalar()
        uid = uid or session.exec(select(Document.uid).order_by(Document.id).limit(1)).scalar()
    if uid is None:
        return redirect(url_for("documents.index"))
    return redirect(url_for(".page", uid=uid))


@bp.get("/<uid>")
def page(uid: str):
    session = get_db().request_session()
    doc = document_by_uid(session, uid)
    if doc is None:
        return elsewhere(session, uid, ".page")
    require_open(session, doc.id)
    name, labels = layer_name(), labels_of(current_app)
    layer = current_layer(session, doc, name)
    bounds = text_blocks(doc.text)
    window = first_window(bounds, len(doc.text), *window_settings())
    rows = whole_layer(session, doc, layer)
    items = items_of(doc, rows)
    classes = current_app.extensions["annotator.label_classes"]
    shown = list(range(window.lo, window.hi)) if window else None
    done, total = progress(session, name)
    return render_template(
        "workspace/page.html",
        doc=doc,
        labels=labels,
        layer=layer,
        name=name,
        oob=False,
        gold=name == GOLD,
        blocks=render_blocks(doc.text, bounds, items, classes, shown),
        window=window,
        groups=span_groups(doc, bounds, items),
        counts=counters(session, doc, layer, rows),
        relations=relations(doc, rows),
        claims=claims(doc, rows),
        suggested=suggested(session, doc, layer),
        done=done,
        total=total,
        neighbours=neighbours(session, doc.id, only_assigned_to()),
        status=layer.status if layer else "todo",
        urls=_urls(uid),
    )


@bp.get("/<uid>/blocks")
def blocks(uid: str):
    """More blocks of a long document's text, with their marks: those after block `after`,
    those before block `before`, or those around code point `at` (ws-window.js asks)."""
    asked = {k: whole(request.args[k]) for k in ("after", "before", "at") if k in request.args}
    if len(asked) != 1 or not all(isinstance(v, int) and v >= 0 for v in asked.values()):
        return "Ask for blocks with one of after=, before= or at=, a whole number.", 422
    session = get_db().request_session()
    try:
        doc = document(session, uid)
    except AnnotationError as exc:
        return refused(exc)
    bounds, chunk = text_blocks(doc.text), window_settings()[1]
    ((how, value),) = asked.items()
    if how == "after":
        which = chunk_after(bounds, value + 1, chunk)
    elif how == "before":
        which = chunk_before(bounds, value, chunk)
    else:
        which = chunk_at(bounds, value, chunk)
    if not which:
        return "", 204
    layer = current_layer(session, doc, layer_name())
    rows = layer_range(session, doc, layer, bounds[which.start][0], bounds[which.stop - 1][1])
    classes = current_app.extensions["annotator.label_classes"]
    html = render_blocks(doc.text, bounds, items_of(doc, rows), classes, list(which))
    return html, 200, {"X-WS-Blocks": f"{which.start} {which.stop} {len(bounds)}"}


@bp.get("/<uid>/text")
def full_text(uid: str):
    """The whole text, for find in a page that holds a window of it (JSON keeps every code
    point, a leading byte-order mark too, which a text/plain answer would lose)."""
    session = get_db().request_session()
    try:
        doc = document(session, uid)
    except AnnotationError as exc:
        return refused(exc)
    return jsonify(text=doc.text)


def confirm_over() -> int:
    """Accepting or rejecting more suggestions than this at once asks first (CONFIRM_BULK_OVER)."""
    return whole(str(current_app.config.get("CONFIRM_BULK_OVER", 50))) or 50


ID = 987654321  # stands for a row id in the URL templates the page's scripts fill in


def _urls(uid: str) -> dict[str, str]:
    """The write and form URLs the scripts need, from url_for (never written out by hand)."""
    urls = {
        "spans": url_for(".span_add", uid=uid),
        "span": url_for(".span_update", uid=uid, span_id=ID),
        "nudge": url_for(".span_nudge", uid=uid, span_id=ID),
        "delete": url_for(".span_delete", uid=uid, span_id=ID),
        "decide": url_for(".suggestions_decide", uid=uid),
        "relationForm": url_for(".relation_form", uid=uid),
        "claimForm": url_for(".claim_form", uid=uid),
        "claimAccept": url_for(".claim_suggestion_accept", uid=uid, suggestion_id=ID),
        "claimReject": url_for(".claim_suggestion_reject", uid=uid, suggestion_id=ID),
        "claimCorrect": url_for(".claim_suggestion_correct", uid=uid, suggestion_id=ID),
        "relationAccept": url_for(".relation_suggestion_accept", uid=uid, suggestion_id=ID),
        "relationReject": url_for(".relation_suggestion_reject", uid=uid, suggestion_id=ID),
        "undo": url_for(".undo_step", uid=uid),
        "redo": url_for(".redo_step", uid=uid),
        "propagate": url_for(".span_propagate", uid=uid, span_id=ID),
        "spansMany": url_for(".spans_add_many", uid=uid),
        "tokens": url_for(".tokens", uid=uid),
        "blocks": url_for(".blocks", uid=uid),
        "text": url_for(".full_text", uid=uid),
        "id": str(ID),
    }
    if is_curator():  # the page offers the gazetteer only to those who may change it
        urls["gazetteer"] = url_for(".span_gazetteer", uid=uid, span_id=ID)
    return urls


@bp.get("/<uid>/relation-form")
def relation_form(uid: str):
    session = get_db().request_session()
    try:
        doc = document(session, uid)
        choice = relation_choice(
            session,
            labels_of(current_app),
            current_layer(session, doc, layer_name()),
            request.args.get("head"),
            request.args.get("child"),
        )
    except AnnotationError as exc:
        return refused(exc)
    return render_template("workspace/_relation_form.html", doc=doc, text=doc.text, **choice)


@bp.get("/<uid>/tokens")
def tokens(uid: str):
    """The token boundaries the server snaps selections to, over [lo, hi): the keyboard's
    word steps move by them, so a selection made by keys is stored as it was shown."""
    lo, hi = whole(request.args.get("lo", "0")), whole(request.args.get("hi", "0"))
    if not (isinstance(lo, int) and isinstance(hi, int)) or lo < 0 or hi < lo:
        return jsonify(error="lo and hi must be whole numbers with 0 <= lo <= hi"), 422
    with get_db().writing() as s:  # tokens are settled (and stored) on first use
        try:
            doc = document(s, uid)
        except AnnotationError as exc:
            return jsonify(error=str(exc)), exc.status
        starts, ends = bounds(packed_tokens(s, doc, labels_of(current_app).quantity_label))
    first, after = bisect_right(ends, lo), bisect_left(starts, hi)  # tokens ending past lo, starting before hi
    return jsonify(tokens=list(zip(starts[first:after], ends[first:after])))


@bp.get("/<uid>/claim-form")
def claim_form(uid: str):
    session = get_db().request_session()
    try:
        doc = document(session, uid)
        return claim_form_html(
            session, doc, quantity_id=request.args.get("quantity"), claim_id=request.args.get("claim")
        )
    except AnnotationError as exc:
        return refused(exc)


def claim_form_html(session, doc: Document, corrected: bool = False, **which) -> Markup:
    """The claim form for a quantity span or a claim (`which`: quantity_id or claim_id)."""
    data = claim_form_data(session, labels_of(current_app), doc, current_layer(session, doc, layer_name()), **which)
    return Markup(render_template("workspace/_claim_form.html", doc=doc, corrected=corrected, **data))


# --- writes -------------------------------------------------------------------------------------


@bp.post("/<uid>/spans")
def span_add(uid: str):
    def run(s, labels, doc, name, seen):
        f = request.form
        out = add_span(
            s, labels, doc, name, current_annotator(), seen, whole(f.get("start")), whole(f.get("end")), f.get("label")
        )
        return offered(s, labels, doc, name, out.ids[0], f"Added {quoted(doc, out.span)}")

    return write(uid, run)


@bp.post("/<uid>/spans/many")
def spans_add_many(uid: str):
    """Mark every place of `ranges` ("start-end,start-end") with `label` in one write: the
    find key's "label all matches". Places already marked so are passed over."""

    def run(s, labels, doc, name, seen):
        f, added, skipped, version = request.form, [], 0, seen
        for start, end in ranges_field(f.get("ranges", "")):
            try:
                out = add_span(s, labels, doc, name, current_annotator(), version, start, end, f.get("label"))
            except AnnotationError as exc:
                if "already marked" not in str(exc):  # checked before anything is written
                    raise
                skipped += 1
                continue
            added.append(out.ids[0])
            version = out.layer.version
        more = f" ({skipped} already marked)" if skipped else ""
        return Done(f"Marked {len(added)} matches {f.get('label')}{more}", focus=f"s{added[0]}" if added else None)

    return write(uid, run)


@bp.post("/<uid>/spans/<id:span_id>")
def span_update(uid: str, span_id: int):
    def run(s, labels, doc, name, seen):
        f = request.form
        start, end = (whole(f[k]) if f.get(k) else None for k in ("start", "end"))
        update_span(
            s, labels, doc, name, current_annotator(), seen, span_id, label=f.get("label") or None, start=start, end=end
        )
        said = f"Changed to {quote(s, doc, span_id)}"
        return offered(s, labels, doc, name, span_id, said) if f.get("label") else Done(said, focus=f"s{span_id}")

    return write(uid, run)


@bp.post("/<uid>/spans/<id:span_id>/nudge")
def span_nudge(uid: str, span_id: int):
    """Move one edge of a span by one token: start -1 grows it leftwards, end +1 rightwards."""

    def run(s, labels, doc, name, seen):
        span = span_in_layer(s, current_layer(s, doc, name), span_id)
        start, end = nudged(
            packed_tokens(s, doc, labels.quantity_label),
            span.start,
            span.end,
            request.form.get("edge"),
            whole(request.form.get("step")),
        )
        update_span(s, labels, doc, name, current_annotator(), seen, span_id, start=start, end=end)
        return Done(f"Now {quote(s, doc, span_id)}", focus=f"s{span_id}")

    return write(uid, run)


@bp.post("/<uid>/spans/<id:span_id>/delete")
def span_delete(uid: str, span_id: int):
    def run(s, labels, doc, name, seen):
        what = quote(s, doc, span_id)
        delete_span(s, doc, name, current_annotator(), seen, span_id)
        return Done(f"Deleted {what}")

    return write(uid, run)


@bp.post("/<uid>/spans/<id:span_id>/propagate")
def span_propagate(uid: str, span_id: int):
    """Confirm the span's text with its label everywhere else here (one undo step) and
    suggest it in the other documents."""

    def run(s, labels, doc, name, seen):
        return propagated(s, labels, doc, name, current_annotator(), seen, span_id)

    return write(uid, run)


@bp.post("/<uid>/spans/<id:span_id>/gazetteer")
def span_gazetteer(uid: str, span_id: int):
    """Add the span's text to the gazetteer: it changes pre-highlighting for the whole
    project, so, like the project's model, it is for curators and admins."""

    def run(s, labels, doc, name, seen):
        if not is_curator():
            raise Forbidden(
                "only curators and admins add names to the gazetteer (it changes pre-highlighting for every document)"
            )
        return gazetteered(s, labels, doc, name, current_annotator(), span_id)

    return write(uid, run)


@bp.post("/<uid>/decide")
def suggestions_decide(uid: str):
    """Accept or reject suggestions: `ids`, or every pending one (`scope=all`, optionally of `label`).
    `as_label` accepts one suggestion under another label (the span is right, the label wrong)."""

    def run(s, labels, doc, name, seen):
        f = request.form
        decision, ids, as_label = f.get("decision"), ids_field(f, "ids"), f.get("as_label") or None
        if not ids and f.get("scope") != "all":
            raise AnnotationError("name the suggestion to accept or reject (or ask for all of them)")
        if as_label is not None and as_label not in labels.entities:
            raise AnnotationError(f"unknown label {as_label!r}; known: {', '.join(labels.entity_labels)}")
        if as_label is not None and (decision != "accepted" or len(ids) != 1):
            raise AnnotationError("another label is for accepting one suggestion, not for rejecting or for several")
        label = None if ids else (f.get("label") or None)
        if not ids and name == GOLD:  # "all" in gold: the ones it shows, not those curation settled
            everything = pending_ids(s, doc, current_layer(s, doc, name), label)
            if not everything:
                raise AnnotationError("no pending suggestions" + (f" labelled {label}" if label else ""))
        out = decide(
            s,
            labels,
            doc,
            name,
            current_annotator(),
            seen,
            decision,
            ids=ids or (everything if not ids and name == GOLD else None),
            label=None if ids or name == GOLD else label,
        )
        if len(ids) == 1:
            sugg = s.get(Suggestion, ids[0])
            if as_label and as_label != sugg.label and decision == "accepted" and out.ids:
                update_span(s, labels, doc, name, current_annotator(), out.layer.version, out.ids[0], label=as_label)
            verb = "Accepted" if decision == "accepted" else "Rejected"
            said = f"{verb} {as_label or sugg.label} “{excerpt(doc.text[sugg.start : sugg.end], 50)}”"
            if decision == "accepted" and out.ids:  # the page moves on; the offer names the new span
                return replace(offered(s, labels, doc, name, out.ids[0], said), focus=None)
            return Done(said)
        n = out.count
        label = f" labelled {f.get('label')}" if f.get("label") else ""
        return Done(f"{'Accepted' if decision == 'accepted' else 'Rejected'} {n} suggestion{'s' * (n != 1)}{label}")

    return write(uid, run)


@bp.post("/<uid>/relations")
def relation_add(uid: str):
    def run(s, labels, doc, name, seen):
        f = request.form
        add_relation(
            s, labels, doc, name, current_annotator(), seen, whole(f.get("head")), whole(f.get("child")), f.get("label")
        )
        return Done(f"Added relation {f.get('label')}", close_form=True)

    return write(uid, run)


@bp.post("/<uid>/relations/<id:relation_id>/delete")
def relation_delete(uid: str, relation_id: int):
    def run(s, labels, doc, name, seen):
        delete_relation(s, doc, name, current_annotator(), seen, relation_id)
        return Done("Deleted the relation")

    return write(uid, run)


@bp.post("/<uid>/claims")
@bp.post("/<uid>/claims/<id:claim_id>")
def claim_save(uid: str, claim_id: int | None = None):
    def run(s, labels, doc, name, seen):
        out = save_claim(s, labels, doc, name, current_annotator(), seen, claim_fields(request.form), claim_id=claim_id)
        text = "Saved the claim" if claim_id else "Added the claim"
        return Done(
            f"{text}; {out.message}" if out.message else text, kind="warn" if out.message else "ok", close_form=True
        )

    return write(uid, run)


@bp.post("/<uid>/claims/<id:claim_id>/delete")
def claim_delete(uid: str, claim_id: int):
    def run(s, labels, doc, name, seen):
        delete_claim(s, doc, name, current_annotator(), seen, claim_id)
        return Done("Deleted the claim", close_form=True)

    return write(uid, run)


@bp.post("/<uid>/claim-suggestions/<id:suggestion_id>/accept")
def claim_suggestion_accept(uid: str, suggestion_id: int):
    """Accept a suggested claim whole: its parts become spans of the layer, the claim is made."""

    def run(s, labels, doc, name, seen):
        out = decide_claim(s, labels, doc, name, current_annotator(), seen, suggestion_id, "accepted")
        return Done(claim_accepted(s, doc, out.ids[0]))

    return write(uid, run)


@bp.post("/<uid>/claim-suggestions/<id:suggestion_id>/reject")
def claim_suggestion_reject(uid: str, suggestion_id: int):
    def run(s, labels, doc, name, seen):
        decide_claim(s, labels, doc, name, current_annotator(), seen, suggestion_id, "rejected")
        return Done(claim_rejected(s, doc, suggestion_id))

    return write(uid, run)


@bp.post("/<uid>/claim-suggestions/<id:suggestion_id>/correct")
def claim_suggestion_correct(uid: str, suggestion_id: int):
    """Accept a suggested claim and answer with the claim form on it, to correct and save:
    the layer ends up with one claim, as corrected (undo takes the save, then the accept)."""

    def run(s, labels, doc, name, seen):
        out = decide_claim(s, labels, doc, name, current_annotator(), seen, suggestion_id, "accepted")
        claim_id = out.ids[0]
        return Done(
            f"{claim_accepted(s, doc, claim_id)}; correct it in the form",
            form=lambda r: claim_form_html(r, doc, corrected=True, claim_id=claim_id),
        )

    return write(uid, run)


@bp.post("/<uid>/relation-suggestions/<id:suggestion_id>/accept")
def relation_suggestion_accept(uid: str, suggestion_id: int):
    def run(s, labels, doc, name, seen):
        out = decide_relation(s, labels, doc, name, current_annotator(), seen, suggestion_id, "accepted")
        already = "" if out.ids else " (the layer had it already)"
        return Done(f"Relation {relation_said(s, doc, suggestion_id)} accepted{already}")

    return write(uid, run)


@bp.post("/<uid>/relation-suggestions/<id:suggestion_id>/reject")
def relation_suggestion_reject(uid: str, suggestion_id: int):
    def run(s, labels, doc, name, seen):
        decide_relation(s, labels, doc, name, current_annotator(), seen, suggestion_id, "rejected")
        return Done(f"Rejected the suggested relation {relation_said(s, doc, suggestion_id)}")

    return write(uid, run)


@bp.post("/<uid>/undo")
def undo_step(uid: str):
    return write(uid, _history_step(undo, "Undid"))


@bp.post("/<uid>/redo")
def redo_step(uid: str):
    return write(uid, _history_step(redo, "Redid"))


NOTHING_LEFT = {"Undid": "nothing to undo", "Redid": "nothing to redo"}


def _history_step(step, verb: str):
    def run(s, labels, doc, name, seen):
        try:
            event = step(s, doc, name, current_annotator(), seen)
        except AnnotationError as exc:  # an answer, not an error: the page's console stays clean
            if str(exc) != NOTHING_LEFT[verb]:
                raise
            return Done(
                f"{str(exc).capitalize()}: every change so far is {'in place' if verb == 'Redid' else 'undone'}",
                kind="info",
                changes=[],
            )
        said = event.after or event.before or {}
        about = said.get("text") or said.get("quantity")  # a suggested claim names its quantity
        detail = f" “{excerpt(about, 40)}”" if about else ""
        return Done(f"{verb} {event.action.replace('_', ' ')}{detail}", changes=event.changes or [])

    return run


@bp.post("/<uid>/status")
def status_set(uid: str):
    def run(s, labels, doc, name, seen):
        layer = set_status(s, doc, name, current_annotator(), seen, request.form.get("status", ""))
        return Done("Marked done" if layer.status == "done" else "Reopened", status=True, changes=[])

    return write(uid, run)
