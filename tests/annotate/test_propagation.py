"""A confirmed span carried further: elsewhere in its document (one undo), as suggestions in
the other documents, and into the gazetteer (audited), which pre-highlighting then uses."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from annotator.annotate.history import undo
from annotator.annotate.propagation import add_gazetteer_name, occurrences, propagate
from annotator.annotate.spans import add_span
from annotator.annotate.suggestions import pending
from annotator.db import get_db
from annotator.layers import AnnotationError, find_layer
from annotator.models import AuditEvent, Document, GazetteerName, Span, Suggestion
from annotator.nlp.tokenizer import tokenize
from annotator.project import gazetteer_names, labels_of, make_prehighlighter
from annotator.tokens import pack

FIRST = "The Zephyr-9 ships today. Buyers of the Zephyr-9 and the Zephyr-90 wait; zephyr-9 fans too."
SECOND = "A review of the Zephyr-9 🚀 card, and the Zephyr-9\r\nagain."
THIRD = "No such product here."


@pytest.fixture
def env(any_app):
    with get_db(any_app).writing() as s:
        for i, text in enumerate((FIRST, SECOND, THIRD)):
            s.add(Document(uid=f"d{i}", text=text, lang="en", n_chars=len(text), tokens=pack(tokenize(text, "en"))))
    return any_app


def run(app, fn, *args, uid="d0", with_seen=True, **kw):
    with get_db(app).writing() as s:
        doc = s.exec(select(Document).where(Document.uid == uid)).scalars().one()
        layer = find_layer(s, doc, "alice")
        seen = (layer.version if layer else 0,) if with_seen else ()
        head = () if fn is undo else (labels_of(app),)
        return fn(s, *head, doc, "alice", "alice", *seen, *args, **kw)


def count(app, model, *where) -> int:
    with get_db(app).reading() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_occurrences_are_whole_tokens_with_case_kept():
    places = occurrences(FIRST, "Zephyr-9", pack(tokenize(FIRST, "en")))
    assert [FIRST[a:b] for a, b in places] == ["Zephyr-9", "Zephyr-9"]  # not inside Zephyr-90, not zephyr-9
    assert all(FIRST[a - 1] == " " for a, _ in places)


def test_propagate_marks_the_document_and_suggests_in_the_corpus(env):
    start = FIRST.index("Zephyr-9")
    span = run(env, add_span, start, start + 8, "PRODUCT").ids[0]
    outcome = run(env, propagate, span)
    with get_db(env).reading() as s:
        spans = s.exec(select(Span).order_by(Span.start)).scalars().all()
        suggestions = s.exec(select(Suggestion)).scalars().all()
    assert [(FIRST[x.start : x.end], x.label) for x in spans] == [("Zephyr-9", "PRODUCT")] * 2
    assert outcome.count == 1
    # the second document gets both of its places as suggestions, offsets in code points past the emoji
    assert len(suggestions) == 2 and all(SECOND[x.start : x.end] == "Zephyr-9" for x in suggestions)
    assert {x.pipeline for x in suggestions} == {"propagation"}
    run(env, undo)  # the layer's spans go back to the one confirmed; suggestions stay machine output
    assert count(env, Span) == 1
    with pytest.raises(AnnotationError, match="nowhere else"):
        third = run(env, add_span, 0, 2, "PRODUCT", uid="d2").ids[0]
        run(env, propagate, third, uid="d2")


def test_a_place_with_a_pending_suggestion_accepts_that_suggestion(env):
    """Propagating over a place a suggestion already marks answers the suggestion: it is not
    left pending beside a new manual span of its own offsets."""
    first = FIRST.index("Zephyr-9")
    second = FIRST.index("Zephyr-9 ", first + 1)
    with get_db(env).writing() as s:
        doc = s.exec(select(Document).where(Document.uid == "d0")).scalars().one()
        s.add(Suggestion(document_id=doc.id, start=second, end=second + 8, label="PRODUCT", origin="model"))
        s.add(Suggestion(document_id=doc.id, start=second, end=second + 8, label="ORG", origin="model"))
    span = run(env, add_span, first, first + 8, "PRODUCT").ids[0]
    outcome = run(env, propagate, span)
    assert outcome.count == 1
    with get_db(env).reading() as s:
        doc = s.exec(select(Document).where(Document.uid == "d0")).scalars().one()
        layer = find_layer(s, doc, "alice")
        still = {(x.start, x.label) for x in pending(s, doc, layer.id)}
        spans = s.exec(select(Span).where(Span.layer_id == layer.id).order_by(Span.start)).scalars().all()
    assert [(x.start, x.label) for x in spans] == [(first, "PRODUCT"), (second, "PRODUCT")]
    assert spans[1].suggestion_id is not None  # the suggestion's own span, not a manual copy
    assert still == {(second, "ORG")}  # another label at the same place stays for the annotator
    run(env, undo)  # one undo takes back the span and the decision together
    with get_db(env).reading() as s:
        doc = s.exec(select(Document).where(Document.uid == "d0")).scalars().one()
        layer = find_layer(s, doc, "alice")
        assert {(x.start, x.label) for x in pending(s, doc, layer.id)} == {(second, "PRODUCT"), (second, "ORG")}
    assert count(env, Span) == 1


def test_a_name_added_to_the_gazetteer_is_audited_and_pre_highlighted(env, tmp_path):
    start = SECOND.index("Zephyr-9")
    span = run(env, add_span, start, start + 8, "PRODUCT", uid="d1").ids[0]
    entry, added = run(env, add_gazetteer_name, span, uid="d1", with_seen=False)
    assert (entry.label, entry.text, added) == ("PRODUCT", "Zephyr-9", 2)  # the first document's two
    assert count(env, AuditEvent, AuditEvent.action == "add_gazetteer_name") == 1
    with pytest.raises(AnnotationError, match="already"):
        run(env, add_gazetteer_name, span, uid="d1", with_seen=False)
    assert count(env, GazetteerName) == 1
    names = gazetteer_names(get_db(env))
    highlighter = make_prehighlighter(env.config, labels_of(env), names=names)
    found = next(iter(highlighter.run([("Meet the Zephyr-9 now.", "pt")])))
    assert ("Zephyr-9", "PRODUCT", "gazetteer") in {
        ("Meet the Zephyr-9 now."[x["start"] : x["end"]], x["label"], x["origin"]) for x in found.suggestions
    }
    assert highlighter.rules_version != make_prehighlighter(env.config, labels_of(env)).rules_version


def test_the_same_name_added_twice_at_once_is_refused_not_a_crash(env):
    """Two annotators add one name while neither has committed: the second is told it is there
    already (PostgreSQL: its insert waits for the first and then meets the unique key)."""
    start = SECOND.index("Zephyr-9")
    mine = run(env, add_span, start, start + 8, "PRODUCT", uid="d1").ids[0]
    with get_db(env).writing() as s:
        doc = s.exec(select(Document).where(Document.uid == "d1")).scalars().one()
        theirs = add_span(s, labels_of(env), doc, "bob", "bob", 0, start, start + 8, "PRODUCT").ids[0]
    outcome: dict = {}

    def second():
        try:
            with get_db(env).writing() as s:
                doc = s.exec(select(Document).where(Document.uid == "d1")).scalars().one()
                outcome["entry"] = add_gazetteer_name(s, labels_of(env), doc, "bob", "bob", theirs)
        except Exception as exc:  # the test reads what it was, below
            outcome["error"] = exc

    with get_db(env).writing() as s:
        doc = s.exec(select(Document).where(Document.uid == "d1")).scalars().one()
        add_gazetteer_name(s, labels_of(env), doc, "alice", "alice", mine)
        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.5)  # the other transaction reaches its check (and, on PostgreSQL, its insert)
    other.join(timeout=30)
    assert isinstance(outcome.get("error"), AnnotationError), outcome
    assert "already" in str(outcome["error"])
    assert count(env, GazetteerName) == 1
    assert count(env, AuditEvent, AuditEvent.action == "add_gazetteer_name") == 1
