"""How a workspace write runs and what it answers.

One service call inside one write transaction; then a status message for #ws-status plus
the fragments the write changed, swapped out of band: the touched text blocks and their
span lists, the counters, the history buttons and the new version. A refused write answers
4xx with the service's message and stores nothing (409 when another tab got there first).
A retry (X-WS-Attempt above 1) of a write already stored under the page's key (X-WS-Write)
is answered as saved, without writing again: its first answer was lost on the way.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, render_template, request
from sqlalchemy import func, select
from sqlmodel import Session

from annotator.annotate.propagation import PROPAGATION, add_gazetteer_name, elsewhere, propagate, suggest_in_corpus
from annotator.annotate.spans import current_layer, span_in_layer
from annotator.annotate.status import progress
from annotator.db import get_db
from annotator.layers import AnnotationError, Forbidden, NotFound, already_stored, recorded_changes
from annotator.models import AuditEvent, Document, Layer, Suggestion
from annotator.project import labels_of
from annotator.tokens import bounds
from annotator.web.identity import layer_name, may_open
from annotator.web.workspace.forms import read_version
from annotator.web.workspace.panel import claims, counters, excerpt, group_blocks, group_of, relations, span_groups
from annotator.web.workspace.reads import LayerRows, document_by_uid, layer_range, whole_layer
from annotator.web.workspace.suggested import suggested
from annotator.web.workspace.views import (
    Touched,
    blocks_touching,
    items_of,
    render_blocks,
    text_blocks,
    touched,
    window_from,
    window_settings,
)

WRITE_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
WHOLE_TEXT_AFTER = 40  # blocks touched by one write before the whole text is swapped instead


@dataclass
class Done:
    """What a write tells the page besides the fragments: a message, the item to focus."""

    message: str
    focus: str | None = None
    kind: str = "ok"
    changes: list | None = None  # undo/redo replay another event's rows
    status: bool = False
    close_form: bool = False
    form: Callable[[Session], str] | None = None  # a form for the slot, rendered from the stored rows
    offer: dict | None = None  # {"key": "s12", "count": 3}: the span's text stands unmarked elsewhere


Action = Callable[[Session, object, Document, str, int], Done]


def write(uid: str, action: Action):
    """Run `action` (session, labels, doc, layer name, version seen) -> Done in one write
    transaction, find what its recorded row changes touched, and answer with that. On
    SQLite the answer's rows are read after the commit, so the database-wide write lock is
    held for the write alone (ten annotators saving at once queue on it); on PostgreSQL,
    which locks only the layer's row, in the same transaction (fewer round trips)."""
    name, labels, db = layer_name(), labels_of(current_app), get_db()
    key = write_key()
    try:
        seen = read_version(request.form)
        with db.writing() as s:
            doc = document(s, uid)
            s.info["request_key"] = key  # recorded on the write's audit events
            if (
                key
                and request.headers.get("X-WS-Attempt", "1") != "1"
                and already_stored(s, current_layer(s, doc, name), key)
            ):
                done, hit = _stored_before(doc)
            else:
                done = action(s, labels, doc, name, seen)
                hit = touched(s, done.changes if done.changes is not None else recorded_changes(s))
            layer = current_layer(s, doc, name)
            state = None if db.locks_whole_file else _changed(s, doc, layer, name, done, hit)
    except AnnotationError as exc:
        return refused(exc)
    if state is None:
        with db.reading() as s:
            state = _changed(s, doc, layer, name, done, hit)
    return _answer(state, done)


def write_key() -> str | None:
    """The page's name for this write (X-WS-Write), the same on every attempt."""
    key = request.headers.get("X-WS-Write", "")
    return key if WRITE_KEY.fullmatch(key) else None


def _stored_before(doc: Document) -> tuple[Done, Touched]:
    """A retry whose first attempt was stored: nothing is written again, and the answer
    brings the whole page up to date (the first answer never arrived)."""
    return (
        Done(
            "Saved (the first attempt had reached the server; its answer was lost on the way)", status=True, changes=[]
        ),
        Touched(ranges=[(0, len(doc.text))], links=True, suggestions=True, spans=True, suggested=True),
    )


def _changed(s: Session, doc: Document, layer: Layer, name: str, done: Done, hit) -> dict:
    """The rows behind every fragment the write changed. `doc` and `layer` are the write's,
    as committed: the answer's counts and version are this write's."""
    bounds = text_blocks(doc.text)
    which = blocks_touching(bounds, hit.ranges)
    whole = len(which) > WHOLE_TEXT_AFTER  # one swap of the panel (and text) beats hundreds of block swaps
    # the rows of every block the touched span groups list (panel.group_blocks), not only the touched ones
    around = (0, 0)
    if which:
        first, last = group_blocks(group_of(which[0]), len(bounds)), group_blocks(group_of(which[-1]), len(bounds))
        around = (bounds[first[0]][0], bounds[last[-1]][1])
    # a long text's page holds a window of its blocks: only those are in its text to swap
    window = window_from(request.headers.get("X-WS-Window"), bounds, window_settings()[1])
    shown = [i for i in which if window.lo <= i < window.hi] if window else which
    whole_text = len(shown) > WHOLE_TEXT_AFTER
    if whole_text:
        shown = list(range(window.lo, window.hi)) if window else None
    if whole:
        rows = whole_layer(s, doc, layer, links=hit.links)
    elif hit.links:  # the panel lists every relation and claim, the text only changed blocks
        rows = whole_layer(s, doc, layer, pending_in=around)
    else:
        rows = layer_range(s, doc, layer, *around) if which else LayerRows()
    state = dict(
        doc=doc,
        bounds=bounds,
        which=which,
        whole=whole,
        shown=shown,
        whole_text=whole_text,
        window=window,
        rows=rows,
        links=hit.links,
        counts=counters(s, doc, layer, rows, changed=hit),
        suggested=suggested(s, doc, layer) if hit.suggested or hit.links else None,
        form=done.form(s) if done.form else None,
    )
    if done.status:
        state.update(zip(("done", "total"), progress(s, name)), status=layer.status, status_changed=True)
    return state


def _answer(state: dict, done: Done):
    """The message plus every fragment the write changed, for out-of-band swaps."""
    doc, bounds, which, whole, rows = (state.pop(k) for k in ("doc", "bounds", "which", "whole", "rows"))
    shown, whole_text, links = state.pop("shown"), state.pop("whole_text"), state.pop("links")
    items = items_of(doc, rows)
    classes = current_app.extensions["annotator.label_classes"]
    html = render_template(
        "workspace/_write.html",
        doc=doc,
        labels=labels_of(current_app),
        oob=True,
        message=done.message,
        kind=done.kind,
        offer=done.offer,
        whole=whole,
        whole_text=whole_text,
        blocks=render_blocks(doc.text, bounds, items, classes, shown, oob=not whole_text),
        groups=span_groups(doc, bounds, items, None if whole else which),
        relations=relations(doc, rows) if links else None,
        claims=claims(doc, rows) if links else None,
        close_form=done.close_form,
        **state,
    )
    headers = {"HX-Trigger-After-Swap": json.dumps({"ws-focus": {"key": done.focus}})} if done.focus else {}
    return html, 200, headers


def refused(exc: AnnotationError):
    conflict = exc.status == 409
    message = str(exc)
    return render_template(
        "workspace/_message.html",
        message=message[:1].upper() + message[1:],
        kind="conflict" if conflict else "error",
        conflict=conflict,
    ), exc.status


def document(session: Session, uid: str, checked: bool = False) -> Document:
    """The document `uid`, if this user may open it (`checked`: the write already asked)."""
    doc = document_by_uid(session, uid)  # tokens (~8 bytes a token) load only if a write snaps offsets
    if doc is None:
        raise NotFound(f"there is no document with the id {uid!r}")
    if not checked and not may_open(session, doc.id):
        raise Forbidden("this document is not assigned to you")
    return doc


def quote(session: Session, doc: Document, span_id) -> str:
    """The span as stored now: read again, since an update goes past the loaded row."""
    span = span_in_layer(session, current_layer(session, doc, layer_name()), span_id)
    session.refresh(span)
    return quoted(doc, {"label": span.label, "start": span.start, "end": span.end})


def quoted(doc: Document, span: dict) -> str:
    return f"{span['label']} “{excerpt(doc.text[span['start'] : span['end']], 50)}”"


def nudged(packed: bytes, start: int, end: int, edge, step) -> tuple[int, int]:
    """[start, end) with one edge moved by a token of the packed tokens (bisected as they
    are: a 1 MB document has 175,000 of them)."""
    if edge not in ("start", "end") or step not in (-1, 1):
        raise AnnotationError("move the start or the end of a span by one word (step -1 or 1)")
    starts, ends = bounds(packed)
    if edge == "start":
        i = bisect_left(ends, start + 1) + step  # the token holding `start`, moved
        if not 0 <= i < len(starts) or starts[i] >= end:
            raise AnnotationError("the span cannot start there (it keeps at least one word)")
        return starts[i], end
    i = bisect_left(ends, end) + step  # the token ending at `end`, moved
    if not 0 <= i < len(ends) or ends[i] <= start:
        raise AnnotationError("the span cannot end there (it keeps at least one word)")
    return start, ends[i]


# --- propagation and the gazetteer ----------------------------------------------------------------

PROPAGATE_KEY = "E"  # confirms a span's text everywhere: ws-keys.js and _message.html say the same


def times(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def offered(s: Session, labels, doc: Document, name: str, span_id: int, said: str) -> Done:
    """`said`, plus the offer to confirm the span's text at its other unmarked places."""
    span = span_in_layer(s, current_layer(s, doc, name), span_id)
    # most spans' text stands once: then the document's tokens need not be read at all
    places = elsewhere(s, labels, doc, name, span_id) if doc.text.count(doc.text[span.start : span.end]) > 1 else []
    if not places:
        return Done(said, focus=f"s{span_id}")
    text = excerpt(doc.text[span.start : span.end], 50)
    more = times(len(places), "more time")
    return Done(
        f"{said}. “{text}” appears {more}: press {PROPAGATE_KEY} to confirm them all",
        focus=f"s{span_id}",
        offer={"key": f"s{span_id}", "count": len(places)},
    )


def _last_suggestion(s: Session) -> int:
    return s.exec(select(func.coalesce(func.max(Suggestion.id), 0))).scalar_one()


def _documents_since(s: Session, after: int, label: str) -> int:
    """How many documents got propagated `label` suggestions with ids past `after` (the
    services count suggestions; the message counts documents)."""
    query = select(func.count(func.distinct(Suggestion.document_id))).where(
        Suggestion.id > after, Suggestion.pipeline == PROPAGATION, Suggestion.label == label
    )
    return s.exec(query).scalar_one()


def _in_corpus(documents: int) -> str:
    return (
        f"suggested in {times(documents, 'other document')}" if documents else "no new suggestions in other documents"
    )


def propagated(s: Session, labels, doc: Document, name: str, user: str, seen: int, span_id) -> Done:
    """Confirm the span's text with its label at its other places here (one undo step) and
    suggest it in the other documents. With nothing to confirm here the layer is left alone
    (no empty undo step); the corpus suggestions are then audited on their own."""
    span = span_in_layer(s, current_layer(s, doc, name), span_id)
    what = quoted(doc, {"label": span.label, "start": span.start, "end": span.end})
    before = _last_suggestion(s)
    if elsewhere(s, labels, doc, name, span_id):
        out = propagate(s, labels, doc, name, user, seen, span_id)
        corpus = _in_corpus(_documents_since(s, before, span.label))
        return Done(
            f"Confirmed {what} at {times(out.count, 'more place')} in this document; {corpus}", focus=f"s{span_id}"
        )
    phrase = doc.text[span.start : span.end]
    added = suggest_in_corpus(s, labels, phrase, span.label, doc.id)
    if not added:
        return Done(f"Nothing else to confirm: “{excerpt(phrase, 50)}” appears nowhere else", kind="info", changes=[])
    s.add(
        AuditEvent(
            user=user,
            action="suggest_in_corpus",
            document_id=doc.id,
            target=f"span:{span.id}",
            after={"text": phrase, "label": span.label, "suggested_in_corpus": added},
        )
    )
    documents = _documents_since(s, before, span.label)
    return Done(f"Nothing else to confirm in this document; {what} {_in_corpus(documents)}", changes=[])


def gazetteered(s: Session, labels, doc: Document, name: str, user: str, span_id) -> Done:
    """Keep the span's text as a gazetteer name (audited by the service) and suggest it in
    the other documents. The layer is untouched: nothing here to undo."""
    before = _last_suggestion(s)
    entry, _ = add_gazetteer_name(s, labels, doc, name, user, span_id)
    what = f"{entry.label} “{excerpt(entry.text, 50)}”"
    corpus = _in_corpus(_documents_since(s, before, entry.label))
    return Done(f"Added {what} to the gazetteer (pre-highlighting finds it from now on); {corpus}", changes=[])
