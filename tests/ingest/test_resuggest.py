"""`annotator suggest`: stored documents suggested again, replacing only what nobody decided.
Real pipeline, SQLite and PostgreSQL; and the command itself, with `models`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from annotator.annotate.claim_suggestions import decide_claim, pending_claims
from annotator.annotate.suggestions import decide
from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.ingest.resuggest import resuggest
from annotator.layers import find_layer
from annotator.models import ClaimSuggestion, Document, Layer, RelationSuggestion, Suggestion, SuggestionDecision
from annotator.project import labels_of

TEXTS = (
    "Sophgo unveiled the SC11 FP300. This card features 256 gigabytes of high-bandwidth memory.",
    "Nvidia sold about 10,000 H800 chips to DeepSeek in 2023.",
)


@pytest.fixture
def env(any_app, prehighlighter, tmp_path):
    for i, text in enumerate(TEXTS):
        (tmp_path / f"d{i}.txt").write_text(text, encoding="utf-8")
    assert import_paths(get_db(any_app), [str(tmp_path)], labels_of(any_app), prehighlighter).new == 2
    return any_app


def snapshot(app) -> dict:
    """Per document: its suggestions as (start, end, label, origin) -> id, claims' quantities, relations."""
    out = {}
    with get_db(app).reading() as s:
        for doc in s.exec(select(Document)).scalars():
            rows = s.exec(select(Suggestion).where(Suggestion.document_id == doc.id)).scalars().all()
            claims = s.exec(select(ClaimSuggestion).where(ClaimSuggestion.document_id == doc.id)).scalars().all()
            rels = s.exec(select(RelationSuggestion).where(RelationSuggestion.document_id == doc.id)).scalars().all()
            out[doc.text] = {
                "spans": {(r.start, r.end, r.label, r.origin): r.id for r in rows},
                "claims": {c.id: c.quantity_id for c in claims},
                "relations": len(rels),
                "n": doc.n_suggestions,
            }
    return out


def act(app, fn, text, *args, **kw):
    with get_db(app).writing() as s:
        doc = s.exec(select(Document).where(Document.text == text)).scalars().one()
        layer = find_layer(s, doc, "alice")
        return fn(s, labels_of(app), doc, "alice", "alice", layer.version if layer else 0, *args, **kw)


def test_resuggest_replaces_only_what_nobody_decided(env, prehighlighter):
    before = snapshot(env)
    first, second = TEXTS
    with get_db(env).reading() as s:
        doc = s.exec(select(Document).where(Document.text == first)).scalars().one()
        claim = pending_claims(s, doc, None)[0]
        other = s.exec(select(Suggestion).where(Suggestion.document_id != doc.id)).scalars().first()
    act(env, decide_claim, first, claim.id, "accepted")
    act(env, decide, second, "rejected", ids=[other.id])
    report = resuggest(get_db(env), prehighlighter, "all")
    after = snapshot(env)
    assert report.documents == 2 and report.kept > 0 and report.removed > 0
    for text in TEXTS:  # the same suggestions as before: nothing doubled, nothing lost
        assert set(after[text]["spans"]) == set(before[text]["spans"])
        assert sorted(after[text]["claims"].values()) != [] and after[text]["n"] == before[text]["n"]
        assert after[text]["relations"] == before[text]["relations"]
        assert len(after[text]["claims"]) == len(before[text]["claims"])
    # decided ones kept their ids (the layer's decisions still point at them); the rest are new rows
    kept_parts = {claim.quantity.id} | {p.id for p in (claim.entity, claim.property, claim.condition) if p}
    ids_after = {i for t in TEXTS for i in after[t]["spans"].values()}
    ids_before = {i for t in TEXTS for i in before[t]["spans"].values()}
    assert kept_parts | {other.id} <= ids_after
    assert report.kept == len(kept_parts | {other.id})
    assert report.removed == report.added == len(ids_before) - report.kept
    assert claim.id in after[first]["claims"]
    with get_db(env).reading() as s:
        decisions = s.exec(select(SuggestionDecision)).scalars().all()
    assert {d.suggestion_id for d in decisions} <= ids_after


def test_not_done_leaves_done_documents_alone(env, prehighlighter):
    first, second = TEXTS
    with get_db(env).reading() as s:
        sugg = (
            s.exec(select(Suggestion).join(Document).where(Document.text == first, Suggestion.label == "ORG"))
            .scalars()
            .first()
        )
    act(env, decide, first, "accepted", ids=[sugg.id])
    with get_db(env).writing() as s:
        s.exec(select(Layer)).scalars().one().status = "done"
    before = snapshot(env)
    report = resuggest(get_db(env), prehighlighter, "not-done")
    after = snapshot(env)
    assert report.documents == 1
    assert after[first] == before[first]  # the done document: the same rows, the same ids
    assert set(after[second]["spans"]) == set(before[second]["spans"])
    assert report.removed == report.added == len(before[second]["spans"]) and report.kept == 0


def test_suggest_and_models_commands(cli, tmp_path):
    (tmp_path / "a.txt").write_text(TEXTS[0], encoding="utf-8")
    assert cli("import", tmp_path / "a.txt").exit_code == 0
    result = cli("suggest", "--documents", "all", "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["documents"] == 1 and report["added"] == report["removed"] > 0
    result = cli("models")
    assert result.exit_code == 0 and "No models yet" in result.output
    assert json.loads(cli("models", "--json").output) == []
    missing = cli("suggest", "--model", tmp_path / "nowhere")
    assert missing.exit_code != 0 and "not a trained model folder" in missing.output
    refused = cli("models", "activate", "nothing")
    assert refused.exit_code != 0 and "no model 'nothing'" in refused.output
    both = cli("suggest", "--rules-only", "--model", tmp_path)
    assert both.exit_code == 2 and "contradict" in both.output
