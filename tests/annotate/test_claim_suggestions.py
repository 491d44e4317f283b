"""Suggested claims and relations: made at pre-highlight time by the real pipeline, accepted
whole (spans with them) or rejected per layer, undone in one step, exported with the
suggestions layer. SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from annotator.annotate.claim_suggestions import decide_claim, decide_relation, pending_claims, pending_relations
from annotator.annotate.history import redo, undo
from annotator.annotate.links import delete_claim, save_claim
from annotator.annotate.spans import add_span
from annotator.annotate.suggestions import decide
from annotator.db import get_db
from annotator.export.publish import export
from annotator.ingest.pipeline import import_paths
from annotator.layers import AnnotationError, find_layer
from annotator.models import (
    Claim,
    ClaimSuggestion,
    Document,
    LinkDecision,
    Relation,
    RelationSuggestion,
    Span,
    Suggestion,
    SuggestionDecision,
)
from annotator.project import labels_of

TEXT = (
    "Sophgo unveiled the SC11 FP300 in Beijing. This card features 256 gigabytes of high-bandwidth memory "
    "and delivers up to 1.1 terabytes per second of memory bandwidth. iFlyTek, which uses the Ascend 910B, "
    "increased its training efficiency from 25 percent to 73 percent when benchmarked against Nvidia's A800 chips."
)


@pytest.fixture
def env(any_app, prehighlighter, tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(TEXT, encoding="utf-8")
    report = import_paths(get_db(any_app), [str(path)], labels_of(any_app), prehighlighter)
    assert report.ok and report.new == 1
    return any_app


def run(app, fn, *args, name="alice", **kw):
    with get_db(app).writing() as s:
        doc = s.exec(select(Document)).scalars().one()
        layer = find_layer(s, doc, name)
        seen = kw.pop("seen", layer.version if layer else 0)
        needs_labels = fn in (decide_claim, decide_relation, decide, save_claim, add_span)
        head = (labels_of(app),) if needs_labels else ()
        return fn(s, *head, doc, name, name, seen, *args, **kw)


def pending(app, name="alice"):
    with get_db(app).reading() as s:
        doc = s.exec(select(Document)).scalars().one()
        layer = find_layer(s, doc, name)
        return pending_claims(s, doc, layer), pending_relations(s, doc, layer)


def count(app, model, *where) -> int:
    with get_db(app).reading() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).scalar_one()


def text_of(part) -> str | None:
    return TEXT[part.start : part.end] if part else None


def claim_for(claims, quantity_text: str):
    return next(c for c in claims if text_of(c.quantity) == quantity_text)


def test_every_quantity_suggestion_carries_a_claim_with_its_parts(env):
    labels = labels_of(env)
    with get_db(env).reading() as s:
        quantities = s.exec(select(Suggestion).where(Suggestion.label == labels.quantity_label)).scalars().all()
        claims = s.exec(select(ClaimSuggestion)).scalars().all()
        parts = {s_.id: s_ for s_ in s.exec(select(Suggestion)).scalars()}
    assert quantities and sorted(c.quantity_id for c in claims) == sorted(q.id for q in quantities)
    for claim in claims:
        assert claim.origin == "pattern" and claim.pipeline and claim.pipeline_version
        for role in ("entity_id", "property_id", "condition_id"):
            part = parts.get(getattr(claim, role))
            if part is not None:  # each part is a suggestion of the document, offsets exact
                assert part.document_id == claim.document_id and TEXT[part.start : part.end].strip()
    claims, _ = pending(env)
    memory = claim_for(claims, "256 gigabytes")
    assert text_of(memory.property) == "high-bandwidth memory" and memory.property.label == labels.claims.property
    efficiency = claim_for(claims, "73 percent")
    assert text_of(efficiency.property) == "training efficiency"
    assert text_of(efficiency.entity) == "iFlyTek" and efficiency.entity.label == "ORG"
    assert text_of(efficiency.condition).startswith("when benchmarked against Nvidia's A800")
    assert "IsRange" in claim_for(claims, "up to 1.1 terabytes per second").modifiers


def test_accepting_a_claim_stores_it_with_its_spans_and_one_undo_takes_it_back(env):
    claims, _ = pending(env)
    target = claim_for(claims, "73 percent")
    run(env, decide_claim, target.id, "accepted")
    with get_db(env).reading() as s:
        claim = s.exec(select(Claim)).scalars().one()
        span = {sp.id: sp for sp in s.exec(select(Span)).scalars()}
        assert TEXT[span[claim.quantity_id].start : span[claim.quantity_id].end] == "73 percent"
        assert TEXT[span[claim.property_id].start : span[claim.property_id].end] == "training efficiency"
        assert span[claim.entity_id].label == "ORG" and span[claim.condition_id].label == "CONDITION"
        assert all(sp.suggestion_id for sp in span.values())  # each span came from its suggestion
    assert count(env, SuggestionDecision, SuggestionDecision.decision == "accepted") == 4
    assert count(env, LinkDecision, LinkDecision.claim_id.is_not(None)) == 1
    assert target.id not in [c.id for c in pending(env)[0]]
    # accepting it again is refused and stores nothing
    with pytest.raises(AnnotationError, match="accepted already"):
        run(env, decide_claim, target.id, "accepted")
    run(env, undo)
    assert [count(env, m) for m in (Claim, Span, LinkDecision, SuggestionDecision)] == [0, 0, 0, 0]
    assert target.id in [c.id for c in pending(env)[0]]
    run(env, redo)
    assert (count(env, Claim), count(env, Span), count(env, LinkDecision)) == (1, 4, 1)


def test_rejecting_a_claim_keeps_its_spans_pending_as_spans(env):
    claims, _ = pending(env)
    target = claim_for(claims, "256 gigabytes")
    run(env, decide_claim, target.id, "rejected")
    assert (count(env, Claim), count(env, Span), count(env, SuggestionDecision)) == (0, 0, 0)
    assert target.id not in [c.id for c in pending(env)[0]]
    # changing one's mind: accept after reject
    run(env, decide_claim, target.id, "accepted")
    assert count(env, Claim) == 1 and count(env, LinkDecision) == 1


def test_a_rejected_part_is_left_out_and_a_rejected_quantity_hides_the_claim(env):
    claims, _ = pending(env)
    target = claim_for(claims, "73 percent")
    run(env, decide, "rejected", ids=[target.condition.id])
    again = claim_for(pending(env)[0], "73 percent")
    assert again.condition is None and text_of(again.property) == "training efficiency"
    run(env, decide_claim, target.id, "accepted")
    with get_db(env).reading() as s:
        assert s.exec(select(Claim.condition_id)).scalar_one() is None
    other = claim_for(claims, "256 gigabytes")
    run(env, decide, "rejected", ids=[other.quantity.id])
    assert other.id not in [c.id for c in pending(env)[0]]
    before = count(env, Span)
    with pytest.raises(AnnotationError, match="rejected"):
        run(env, decide_claim, other.id, "accepted")
    assert count(env, Span) == before


def test_a_quantity_with_a_claim_of_the_layer_hides_the_suggestion_and_refuses_a_second(env):
    claims, _ = pending(env)
    target = claim_for(claims, "25 percent")
    run(env, decide, "accepted", ids=[target.quantity.id])
    with get_db(env).reading() as s:
        span_id = s.exec(select(Span.id)).scalar_one()
    run(env, save_claim, {"quantity_id": span_id})
    assert target.id not in [c.id for c in pending(env)[0]]
    with pytest.raises(AnnotationError, match="carries a claim already"):
        run(env, decide_claim, target.id, "accepted")
    assert count(env, Claim) == 1 and count(env, LinkDecision) == 0


def test_deleting_an_accepted_claim_makes_the_suggestion_pending_again(env):
    target = claim_for(pending(env)[0], "256 gigabytes")
    outcome = run(env, decide_claim, target.id, "accepted")
    run(env, delete_claim, outcome.ids[0])
    assert count(env, LinkDecision) == 0 and target.id in [c.id for c in pending(env)[0]]


def test_suggested_relations_accept_and_reject(env):
    _, relations = pending(env)
    by_text = {(text_of(r.head), r.label, text_of(r.child)): r for r in relations}
    assert ("Sophgo", "MAKES", "SC11 FP300") in by_text
    assert ("iFlyTek", "USES", "Ascend 910B") in by_text
    run(env, decide_relation, by_text[("Sophgo", "MAKES", "SC11 FP300")].id, "accepted")
    with get_db(env).reading() as s:
        rel = s.exec(select(Relation)).scalars().one()
        head, child = s.get(Span, rel.head_id), s.get(Span, rel.child_id)
    assert (TEXT[head.start : head.end], rel.label, TEXT[child.start : child.end]) == ("Sophgo", "MAKES", "SC11 FP300")
    run(env, decide_relation, by_text[("iFlyTek", "USES", "Ascend 910B")].id, "rejected")
    assert count(env, Relation) == 1 and len(pending(env)[1]) == len(relations) - 2
    with pytest.raises(AnnotationError, match="not on this document"):
        run(env, decide_relation, 10**6, "accepted")


def test_accepted_suggestions_count_in_the_layer_export(env, tmp_path):
    """Accepted suggested claims are the layer's own claims: the layer's export holds them,
    and the suggestions layer's export holds a claim for every quantity suggestion."""
    for claim in pending(env)[0]:
        run(env, decide_claim, claim.id, "accepted")
    labels = labels_of(env)
    db = get_db(env)
    alice = export(db, labels, "alice", out_dir=tmp_path / "exports")
    record = json.loads((alice.path / "data.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert len(record["claims"]) == count(env, ClaimSuggestion)
    machine = export(db, labels, "suggestions", out_dir=tmp_path / "exports")
    record = json.loads((machine.path / "data.jsonl").read_text(encoding="utf-8").splitlines()[0])
    spans = {s["id"]: s for s in record["spans"]}
    quantities = [s["id"] for s in record["spans"] if s["label"] == labels.quantity_label]
    assert sorted(c["quantity"] for c in record["claims"]) == sorted(quantities)
    assert {c["origin"] for c in record["claims"]} == {"pattern"}
    assert len(record["relations"]) == count(env, RelationSuggestion)
    for claim in record["claims"]:
        for role in ("entity", "condition"):
            if claim[role]:
                assert spans[claim[role]]["text"] == TEXT[spans[claim[role]]["start"] : spans[claim[role]]["end"]]


def test_parts_read_in_chunks_give_the_same_claims_and_relations(env, monkeypatch):
    """The panel reads only the suggestions its claims and relations name, a chunk of ids per
    query: with one id a query, every part still comes back, in the same order."""
    import annotator.annotate.claim_suggestions as module

    def seen(app):
        claims, relations = pending(app)
        parts = [(c.id, *(text_of(getattr(c, p)) for p in module.PARTS)) for c in claims]
        return parts, [(r.id, text_of(r.head), r.label, text_of(r.child)) for r in relations]

    whole = seen(env)
    monkeypatch.setattr(module, "IDS_PER_QUERY", 1)
    assert seen(env) == whole and whole[0] and whole[1]
    assert any(text_of(c.quantity) == "73 percent" and c.quantity.value == 73 for c in pending(env)[0])
