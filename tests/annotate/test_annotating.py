"""Annotation services: spans, suggestions, relations, claims, undo/redo, stale writes,
audit events; every refused request stores nothing. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from annotator.annotate.history import history, redo, undo
from annotator.annotate.links import add_relation, delete_claim, delete_relation, save_claim
from annotator.annotate.spans import add_span, delete_span, update_span
from annotator.annotate.suggestions import decide, pending
from annotator.db import get_db
from annotator.layers import AnnotationError, Conflict, find_layer
from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, Suggestion, SuggestionDecision
from annotator.nlp.tokenizer import tokenize
from annotator.project import labels_of
from annotator.tokens import pack

TEXT = "Tim Cook 😀 visited Apple in London.\r\nSophgo’s SC11 FP300 has 256 GB of high-bandwidth memory."


@pytest.fixture
def env(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        doc = Document(
            uid="doc1", text=TEXT, lang="en", title="t", n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en"))
        )
        s.add(doc)
        s.flush()
        for frag, label, origin, extra in (
            ("Apple", "ORG", "model", {}),
            ("London", "GPE", "model", {}),
            ("SC11 FP300", "PRODUCT", "gazetteer", {}),
            ("256 GB", "QUANTITY", "pattern", {"value": 256.0, "unit": "GB"}),
        ):
            start = TEXT.index(frag)
            s.add(
                Suggestion(document_id=doc.id, start=start, end=start + len(frag), label=label, origin=origin, **extra)
            )
    return any_app


class Ctx:
    def __init__(self, app, name="alice"):
        self.app, self.db, self.labels, self.name = app, get_db(app), labels_of(app), name

    def run(self, fn, *args, **kw):
        """Call a service with the current layer version, in one write transaction."""
        with self.db.writing() as s:
            doc = s.exec(select(Document).where(Document.uid == "doc1")).scalars().one()
            layer = find_layer(s, doc, self.name)
            seen = kw.pop("seen", layer.version if layer else 0)
            needs_labels = fn in (add_span, update_span, decide, add_relation, save_claim)
            args = ((self.labels,) if needs_labels else ()) + (doc, self.name, "alice", seen) + args
            return fn(s, *args, **kw)

    def count(self, model):
        with self.db.reading() as s:
            return s.exec(select(func.count()).select_from(model)).scalar_one()

    def spans(self):
        with self.db.reading() as s:
            return [
                (r.start, r.end, r.label, TEXT[r.start : r.end])
                for r in s.exec(select(Span).order_by(Span.start)).scalars()
            ]

    def undo(self):
        with self.db.writing() as s:
            doc = s.exec(select(Document)).scalars().one()
            return undo(s, doc, self.name, "alice", find_layer(s, doc, self.name).version)

    def redo(self):
        with self.db.writing() as s:
            doc = s.exec(select(Document)).scalars().one()
            return redo(s, doc, self.name, "alice", find_layer(s, doc, self.name).version)


def test_span_after_emoji_is_snapped_and_exact(env):
    ctx = Ctx(env)
    start = TEXT.index("Apple")  # 19 code points, 20 UTF-16 units
    ctx.run(add_span, start + 1, start + 3, "ORG")  # a partial selection widens to the token
    assert ctx.spans() == [(start, start + 5, "ORG", "Apple")]
    assert ctx.count(AuditEvent) == 1


@pytest.mark.parametrize(
    "start, end, label, message",
    [
        (5, 5, "ORG", "not on this document"),
        (10, 4, "ORG", "not on this document"),
        (-1, 4, "ORG", "not on this document"),
        (0, len(TEXT) + 1, "ORG", "not on this document"),
        ("0", 3, "ORG", "whole numbers"),
        (0, 3, "NOPE", "unknown label"),
        (8, 9, "ORG", "holds no word"),
    ],
)
def test_bad_spans_are_refused_and_nothing_stored(env, start, end, label, message):
    ctx = Ctx(env)
    with pytest.raises(AnnotationError, match=message):
        ctx.run(add_span, start, end, label)
    assert (ctx.count(Span), ctx.count(Layer), ctx.count(AuditEvent)) == (0, 0, 0)


def test_stale_version_is_refused(env):
    ctx = Ctx(env)
    ctx.run(add_span, 0, 3, "PERSON")
    with pytest.raises(Conflict, match="changed elsewhere"):
        ctx.run(add_span, 4, 8, "PERSON", seen=0)  # a second tab still at version 0
    assert len(ctx.spans()) == 1


def test_overlap_relabel_adjust_delete(env):
    ctx = Ctx(env)
    a = TEXT.index("SC11")
    ctx.run(add_span, a, a + 10, "PRODUCT")
    ctx.run(add_span, a + 5, a + 10, "MODEL")  # overlapping, different label
    with pytest.raises(AnnotationError, match="already marked"):
        ctx.run(add_span, a, a + 10, "PRODUCT")
    with ctx.db.reading() as s:
        ids = s.exec(select(Span.id).order_by(Span.start)).scalars().all()
    with pytest.raises(AnnotationError, match="already marked"):
        ctx.run(update_span, ids[1], start=a, label="PRODUCT")  # would duplicate the first span
    ctx.run(update_span, ids[1], label="PRODUCT")  # relabel: FP300 MODEL -> PRODUCT
    ctx.run(update_span, ids[0], end=a + 2)  # adjust: snaps to the whole token "SC11"
    assert ctx.spans() == [(a, a + 4, "PRODUCT", "SC11"), (a + 5, a + 10, "PRODUCT", "FP300")]
    ctx.run(delete_span, ids[1])
    assert ctx.spans() == [(a, a + 4, "PRODUCT", "SC11")]


def test_accept_reject_and_pending(env):
    ctx = Ctx(env)
    with ctx.db.reading() as s:
        sugg = {r.label: r.id for r in s.exec(select(Suggestion)).scalars()}
    ctx.run(decide, "accepted", ids=[sugg["ORG"]])
    ctx.run(decide, "rejected", ids=[sugg["GPE"]])
    assert ctx.spans() == [(TEXT.index("Apple"), TEXT.index("Apple") + 5, "ORG", "Apple")]
    with ctx.db.reading() as s:
        doc = s.exec(select(Document)).scalars().one()
        layer = find_layer(s, doc, "alice")
        assert {p.label for p in pending(s, doc, layer.id)} == {"PRODUCT", "QUANTITY"}
    ctx.run(decide, "accepted", label="QUANTITY")
    quantity = [x for x in ctx.spans() if x[2] == "QUANTITY"]
    assert quantity and quantity[0][3] == "256 GB"
    with ctx.db.reading() as s:
        q = s.exec(select(Span).where(Span.label == "QUANTITY")).scalars().one()
        assert (q.value, q.unit, q.origin) == (256.0, "GB", "pattern")
    ctx.run(decide, "accepted")  # all that remain
    assert len(ctx.spans()) == 3 and ctx.count(SuggestionDecision) == 4
    ctx.run(decide, "rejected", ids=[sugg["ORG"]])  # change of mind: the span goes
    assert "Apple" not in {x[3] for x in ctx.spans()}
    with pytest.raises(AnnotationError, match="no pending"):
        ctx.run(decide, "accepted")


def test_relations_only_for_allowed_pairs(env):
    ctx = Ctx(env)
    org = ctx.run(add_span, TEXT.index("Sophgo"), TEXT.index("Sophgo") + 6, "ORG").ids[0]
    card = ctx.run(add_span, TEXT.index("SC11"), TEXT.index("SC11") + 10, "PRODUCT").ids[0]
    with pytest.raises(AnnotationError, match="not allowed from PRODUCT to ORG"):
        ctx.run(add_relation, card, org, "MAKES")
    with pytest.raises(AnnotationError, match="not in this layer"):
        ctx.run(add_relation, org, 99999, "MAKES")
    rel = ctx.run(add_relation, org, card, "MAKES").ids[0]
    assert ctx.count(Relation) == 1
    ctx.run(delete_relation, rel)
    assert ctx.count(Relation) == 0


def test_claim_build_validate_and_cascade(env):
    ctx = Ctx(env)
    card = ctx.run(add_span, TEXT.index("SC11"), TEXT.index("SC11") + 10, "PRODUCT").ids[0]
    qty = ctx.run(add_span, TEXT.index("256"), TEXT.index("256") + 6, "QUANTITY").ids[0]
    mem = TEXT.index("high-bandwidth")
    prop = ctx.run(add_span, mem, mem + len("high-bandwidth memory"), "PROPERTY").ids[0]
    with pytest.raises(AnnotationError, match="built on a QUANTITY span"):
        ctx.run(save_claim, {"quantity_id": card})
    with pytest.raises(AnnotationError, match="not a number"):
        ctx.run(save_claim, {"quantity_id": qty, "value": "lots"})
    with pytest.raises(AnnotationError, match="unknown modifiers"):
        ctx.run(save_claim, {"quantity_id": qty, "modifiers": ["IsGuess"]})
    assert ctx.count(Claim) == 0
    out = ctx.run(
        save_claim,
        {
            "quantity_id": qty,
            "entity_id": card,
            "property_id": prop,
            "value": "256",
            "unit": "GB",
            "modifiers": ["IsCount"],
        },
    )
    assert out.message == ""
    flagged = ctx.run(
        save_claim, {"quantity_id": qty, "entity_id": card, "value": 256, "unit": "gigs"}, claim_id=out.ids[0]
    )
    assert "not in the unit table" in flagged.message
    with ctx.db.reading() as s:
        q = s.get(Span, qty)
        assert (q.value, q.unit, q.meta) == (256.0, "gigs", {"unit_noncanonical": True})
    ctx.run(delete_span, card)  # the claim stays, its entity link is cleared
    with ctx.db.reading() as s:
        assert s.get(Claim, out.ids[0]).entity_id is None
    ctx.undo()  # and comes back with the span
    with ctx.db.reading() as s:
        assert s.get(Claim, out.ids[0]).entity_id == card
    ctx.run(delete_claim, out.ids[0])
    assert ctx.count(Claim) == 0


def test_undo_redo_twenty_five_steps(env):
    ctx = Ctx(env)
    words = [(i, i + 1) for i in range(len(TEXT)) if TEXT[i].isalnum() and (i == 0 or not TEXT[i - 1].isalnum())]
    steps = [(start, end, label) for label in ("ORG", "PERSON") for start, end in words][:25]
    for start, end, label in steps:
        ctx.run(add_span, start, end, label)
    full = ctx.spans()
    assert len(full) == 25
    for _ in range(25):
        ctx.undo()
    assert ctx.spans() == []
    with pytest.raises(AnnotationError, match="nothing to undo"):
        ctx.undo()
    for _ in range(25):
        ctx.redo()
    assert ctx.spans() == full
    ctx.undo()
    ctx.run(add_span, words[0][0], words[0][1], "DATE")  # a new action ends the redo history
    with pytest.raises(AnnotationError, match="nothing to redo"):
        ctx.redo()
    with ctx.db.reading() as s:
        doc = s.exec(select(Document)).scalars().one()
        assert history(s, find_layer(s, doc, "alice")) == {"undo": 25, "redo": 0}


def test_every_change_is_an_audit_event(env):
    ctx = Ctx(env)
    span = ctx.run(add_span, 0, 3, "PERSON").ids[0]
    ctx.run(update_span, span, label="ORG")
    ctx.run(delete_span, span)
    ctx.undo()
    with ctx.db.reading() as s:
        events = s.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["add_span", "update_span", "delete_span", "undo"]
    assert all(e.user == "alice" and e.at and e.layer_id for e in events)
    assert events[1].before["label"] == "PERSON" and events[1].after["label"] == "ORG"


def test_accept_all_on_many_suggestions_undoes_and_redoes_exactly(any_app):
    """Bulk accept inserts spans and decisions a few statements at a time and undo/redo
    replay them in batches: more suggestions than one batch, ids and rows kept exactly."""
    text = " ".join(f"w{i}" for i in range(1200))
    db = get_db(any_app)
    with db.writing() as s:
        doc = Document(
            uid="doc1", text=text, lang="en", title="t", n_chars=len(text), tokens=pack(tokenize(text, "en"))
        )
        s.add(doc)
        s.flush()
        starts = [i for i in range(len(text)) if text[i] == "w"]
        s.add_all(
            [
                Suggestion(
                    document_id=doc.id,
                    start=a,
                    end=text.index(" ", a) if " " in text[a:] else len(text),
                    label=("ORG", "PRODUCT")[n % 2],
                    origin="model",
                )
                for n, a in enumerate(starts)
            ]
        )
    ctx = Ctx(any_app)

    def state():
        with db.reading() as s:
            spans = sorted((r.id, r.start, r.end, r.label, r.suggestion_id) for r in s.exec(select(Span)).scalars())
            decisions = sorted(
                (r.suggestion_id, r.span_id, r.decision) for r in s.exec(select(SuggestionDecision)).scalars()
            )
            suggs = {r.id: (r.start, r.end, r.label) for r in s.exec(select(Suggestion)).scalars()}
        return spans, decisions, suggs

    ctx.run(decide, "accepted")
    spans, decisions, suggs = state()
    assert len(spans) == len(decisions) == 1200
    by_id = {sid: (a, b, lab) for sid, a, b, lab, _ in spans}
    assert all(by_id[span_id] == suggs[sugg_id] for sugg_id, span_id, _ in decisions)  # ids matched to their rows
    assert all(text[a:b] == f"w{n}" for n, (_, a, b, _, _) in enumerate(sorted(spans, key=lambda r: r[1])))
    ctx.undo()
    assert state()[:2] == ([], [])
    ctx.redo()
    assert state()[:2] == (spans, decisions)
