"""Suggested claims and relations in the workspace, through Flask's test client on SQLite and
PostgreSQL: listed as pending, accepted (spans with them), rejected or corrected through the
routes, each checked against the stored rows; a refused request stores nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.layers import find_layer
from annotator.models import (
    AuditEvent,
    Claim,
    ClaimSuggestion,
    Document,
    Layer,
    LinkDecision,
    Relation,
    RelationSuggestion,
    Span,
    Suggestion,
    SuggestionDecision,
)
from annotator.nlp.tokenizer import tokenize
from annotator.tokens import pack
from tests.helpers import curator, give, log_in

TEXT = "Sophgo’s SC11 FP300 has 256 GB of high-bandwidth memory.\n\nHuawei makes the Ascend 910C in Shenzhen."
OTHER = "Nvidia ships 50,000 H100 cards."
HX = {"HX-Request": "true"}
TABLES = (Span, Relation, Claim, Layer, AuditEvent, SuggestionDecision, LinkDecision)


def _add_document(s, uid: str, text: str, parts: dict) -> dict[str, int]:
    """The document with a suggestion per fragment: {fragment: suggestion id}."""
    doc = Document(uid=uid, text=text, lang="en", title=uid, n_chars=len(text), tokens=pack(tokenize(text, "en")))
    s.add(doc)
    s.flush()
    ids = {}
    for frag, (label, extra) in parts.items():
        start = text.index(frag)
        row = Suggestion(document_id=doc.id, start=start, end=start + len(frag), label=label, origin="model", **extra)
        s.add(row)
        s.flush()
        ids[frag] = row.id
    return {"doc": doc.id, **ids}


@pytest.fixture
def site(any_app):
    """doc1 (a suggested claim on "256 GB" and two suggested relations) for alice, doc2 for bob."""
    with get_db(any_app).writing() as s:
        one = _add_document(
            s,
            "doc1",
            TEXT,
            {
                "Sophgo": ("ORG", {}),
                "SC11 FP300": ("PRODUCT", {}),
                "256 GB": ("QUANTITY", {"value": 256.0, "unit": "GB"}),
                "high-bandwidth memory": ("PROPERTY", {}),
                "Huawei": ("ORG", {}),
                "Ascend 910C": ("PRODUCT", {}),
            },
        )
        two = _add_document(s, "doc2", OTHER, {"50,000": ("QUANTITY", {"value": 50000.0}), "H100": ("PRODUCT", {})})
        claim = ClaimSuggestion(
            document_id=one["doc"],
            quantity_id=one["256 GB"],
            entity_id=one["SC11 FP300"],
            property_id=one["high-bandwidth memory"],
            modifiers=["IsCount"],
            origin="pattern",
            score=0.8,
        )
        other_claim = ClaimSuggestion(
            document_id=two["doc"], quantity_id=two["50,000"], entity_id=two["H100"], origin="pattern"
        )
        makes = RelationSuggestion(
            document_id=one["doc"], head_id=one["Sophgo"], child_id=one["SC11 FP300"], label="MAKES", origin="pattern"
        )
        huawei = RelationSuggestion(
            document_id=one["doc"], head_id=one["Huawei"], child_id=one["Ascend 910C"], label="MAKES", origin="pattern"
        )
        s.add_all([claim, other_claim, makes, huawei])
        s.flush()
        ids = {"claim": claim.id, "other_claim": other_claim.id, "makes": makes.id, "huawei": huawei.id}
    give(any_app, "alice", ["doc1"])
    give(any_app, "bob", ["doc2"])
    client = log_in(any_app, any_app.test_client(), "alice")
    return Site(any_app, client, ids)


class Site:
    def __init__(self, app, client, ids):
        self.app, self.client, self.ids, self.db = app, client, ids, get_db(app)

    def version(self, uid="doc1", name="alice") -> int:
        with self.db.reading() as s:
            doc = s.exec(select(Document).where(Document.uid == uid)).scalars().first()
            layer = find_layer(s, doc, name) if doc else None
            return layer.version if layer else 0

    def post(self, path: str, uid="doc1", version=None, client=None, prefix="/annotate", name="alice", **data):
        data["version"] = self.version(uid, name) if version is None else version
        return (client or self.client).post(f"{prefix}/{uid}{path}", data=data, headers=HX)

    def ok(self, path: str, **kw) -> str:
        response = self.post(path, **kw)
        assert response.status_code == 200, response.get_data(as_text=True)
        return unescape(response.get_data(as_text=True))

    def counts(self) -> dict:
        with self.db.reading() as s:
            return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}

    def layer_rows(self, model, name="alice") -> list:
        with self.db.reading() as s:
            query = select(model).join(Layer, model.layer_id == Layer.id).where(Layer.name == name)
            return s.exec(query.order_by(model.id)).scalars().all()

    def text_of(self, span_id: int | None) -> str | None:
        with self.db.reading() as s:
            span = s.get(Span, span_id) if span_id else None
            return TEXT[span.start : span.end] if span else None


def _claim_parts(site: Site) -> tuple:
    (claim,) = site.layer_rows(Claim)
    return claim, tuple(site.text_of(getattr(claim, k)) for k in ("quantity_id", "entity_id", "property_id"))


# --- listed as pending ----------------------------------------------------------------------------


def test_the_page_lists_suggested_claims_and_relations_as_pending(site):
    html = unescape(site.client.get("/annotate/doc1").get_data(as_text=True))
    row = re.search(rf'<li class="ws-claim-sugg ws-pending" data-suggested="c{site.ids["claim"]}".*?</li>', html, re.S)
    assert row, "the suggested claim is listed"
    item = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))
    for words in ("suggested", "QUANTITY 256 GB", "= 256 GB", "entity PRODUCT SC11 FP300"):
        assert words in item, (words, item)
    for words in ("property PROPERTY high-bandwidth memory", "modifiers IsCount", "from pattern, score 0.80"):
        assert words in item, (words, item)
    assert 'aria-label="Accept the suggested claim on 256 GB"' in row.group(0)
    assert 'aria-label="Correct the suggested claim on 256 GB"' in row.group(0)
    start, end = TEXT.index("256 GB"), TEXT.index("256 GB") + 6
    assert f'data-parts=\'[[{start}, {end}, "quantity"],' in row.group(0)
    assert f'data-suggested="l{site.ids["makes"]}"' in html and f'data-suggested="l{site.ids["huawei"]}"' in html
    assert 'aria-label="Reject the suggested relation Sophgo MAKES SC11 FP300"' in html
    assert f'data-suggested="c{site.ids["other_claim"]}"' not in html  # another document's
    urls = re.search(r"data-urls='([^']+)'", html).group(1)
    assert "/claim-suggestions/987654321/accept" in urls and "/relation-suggestions/987654321/reject" in urls


# --- accept, reject, correct ------------------------------------------------------------------------


def test_accepting_a_suggested_claim_stores_it_with_its_spans_and_undo_takes_it_back(site):
    before = site.counts()
    html = site.ok(f"/claim-suggestions/{site.ids['claim']}/accept")
    assert "Claim on 256 GB accepted: entity SC11 FP300, property high-bandwidth memory" in html
    claim, parts = _claim_parts(site)
    assert parts == ("256 GB", "SC11 FP300", "high-bandwidth memory") and claim.modifiers == ["IsCount"]
    assert sorted(s.label for s in site.layer_rows(Span)) == ["PRODUCT", "PROPERTY", "QUANTITY"]
    (decision,) = site.layer_rows(LinkDecision)
    assert (decision.claim_suggestion_id, decision.decision, decision.claim_id) == (
        site.ids["claim"],
        "accepted",
        claim.id,
    )
    assert {d.decision for d in site.layer_rows(SuggestionDecision)} == {"accepted"}
    assert 'id="ws-claims"' in html and f'data-suggested="c{site.ids["claim"]}"' not in html  # no longer pending
    after = site.counts()
    assert after["AuditEvent"] == before["AuditEvent"] + 1  # one action: one undo takes it back
    undone = site.ok("/undo")
    assert "Undid accept claim “256 GB”" in undone and f'data-suggested="c{site.ids["claim"]}"' in undone
    assert site.layer_rows(Claim) == [] and site.layer_rows(Span) == [] and site.layer_rows(LinkDecision) == []


def test_rejecting_a_suggested_claim_stores_a_rejected_decision_only(site):
    html = site.ok(f"/claim-suggestions/{site.ids['claim']}/reject")
    assert "Rejected the suggested claim on 256 GB" in html
    (decision,) = site.layer_rows(LinkDecision)
    assert (decision.decision, decision.claim_id) == ("rejected", None)
    assert site.layer_rows(Claim) == [] and site.layer_rows(Span) == []
    assert 'id="ws-claim-sugg"' in html and f'data-suggested="c{site.ids["claim"]}"' not in html
    page = site.client.get("/annotate/doc1").get_data(as_text=True)
    assert f'data-suggested="c{site.ids["claim"]}"' not in page


def test_correcting_a_suggested_claim_opens_the_form_on_it_and_saving_keeps_one_claim(site):
    html = site.ok(f"/claim-suggestions/{site.ids['claim']}/correct")
    assert re.search(r'<div id="ws-form" class="ws-form-slot" hx-swap-oob="true">\s*<form id="claim-form"', html)
    assert "Correct the suggested claim" in html and "correct it in the form" in html
    claim, _ = _claim_parts(site)
    assert f'hx-post="/annotate/doc1/claims/{claim.id}"' in html
    assert re.search(rf'<option value="{claim.property_id}" selected>high-bandwidth memory · PROPERTY', html)
    saved = site.ok(
        f"/claims/{claim.id}",
        quantity_id=claim.quantity_id,
        value="256",
        unit="GB",
        entity_id=claim.entity_id,
        property_id="",
        property_text="memory capacity",
        modifiers="IsCount",
    )
    assert "Saved the claim" in saved
    claim, parts = _claim_parts(site)  # still one claim, as corrected
    assert parts == ("256 GB", "SC11 FP300", None) and claim.property_text == "memory capacity"


def test_suggested_relations_are_accepted_with_their_spans_or_rejected(site):
    html = site.ok(f"/relation-suggestions/{site.ids['makes']}/accept")
    assert "Relation Sophgo → MAKES → SC11 FP300 accepted" in html
    (relation,) = site.layer_rows(Relation)
    assert (site.text_of(relation.head_id), relation.label, site.text_of(relation.child_id)) == (
        "Sophgo",
        "MAKES",
        "SC11 FP300",
    )
    assert f'data-suggested="l{site.ids["makes"]}"' not in html and f'data-suggested="l{site.ids["huawei"]}"' in html
    rejected = site.ok(f"/relation-suggestions/{site.ids['huawei']}/reject")
    assert "Rejected the suggested relation Huawei → MAKES → Ascend 910C" in rejected
    decisions = {d.relation_suggestion_id: (d.decision, d.relation_id) for d in site.layer_rows(LinkDecision)}
    assert decisions == {site.ids["makes"]: ("accepted", relation.id), site.ids["huawei"]: ("rejected", None)}
    assert len(site.layer_rows(Relation)) == 1


def test_a_rejected_part_swaps_the_suggested_lists_alone(site):
    with site.db.reading() as s:
        prop = s.exec(select(Suggestion.id).where(Suggestion.label == "PROPERTY")).scalar_one()
    html = site.ok("/decide", decision="rejected", ids=prop)
    assert re.search(r'<div id="ws-claim-sugg" class="ws-sugg-links" hx-swap-oob="true">', html)
    assert 'id="ws-claims"' not in html  # the confirmed claims did not change
    row = re.search(rf'data-suggested="c{site.ids["claim"]}".*?</li>', html, re.S).group(0)
    assert "high-bandwidth memory" not in row  # the claim is offered without its rejected part


def test_each_annotator_answers_in_their_own_layer_and_a_curator_in_gold(site):
    site.ok(f"/claim-suggestions/{site.ids['claim']}/accept")
    lead = curator(site.app)
    gold = site.post(f"/claim-suggestions/{site.ids['claim']}/reject", client=lead, prefix="/gold", name="gold")
    assert gold.status_code == 200, gold.get_data(as_text=True)
    assert [d.decision for d in site.layer_rows(LinkDecision, "gold")] == ["rejected"]
    assert [d.decision for d in site.layer_rows(LinkDecision, "alice")] == ["accepted"]
    give(site.app, "carol", ["doc1"])
    carol = log_in(site.app, site.app.test_client(), "carol")
    page = carol.get("/annotate/doc1").get_data(as_text=True)
    assert f'data-suggested="c{site.ids["claim"]}"' in page  # still pending in carol's layer


# --- refused: 4xx, the page's message, nothing stored ------------------------------------------------


def test_refused_answers_store_nothing(site):
    ids = site.ids
    cases = [
        ("stale version", f"/claim-suggestions/{ids['claim']}/accept", {"version": 5}, 409, "changed elsewhere"),
        ("stale reject", f"/claim-suggestions/{ids['claim']}/reject", {"version": 5}, 409, "changed elsewhere"),
        ("stale correct", f"/claim-suggestions/{ids['claim']}/correct", {"version": 5}, 409, "changed elsewhere"),
        ("stale relation", f"/relation-suggestions/{ids['makes']}/accept", {"version": 5}, 409, "changed elsewhere"),
        ("no version", f"/relation-suggestions/{ids['makes']}/reject", {"version": ""}, 422, "which version"),
        (
            "another document's claim",
            f"/claim-suggestions/{ids['other_claim']}/accept",
            {},
            422,
            "not on this document",
        ),
        (
            "a relation id as a claim",
            f"/claim-suggestions/{ids['huawei'] + 1000}/reject",
            {},
            422,
            "not on this document",
        ),
        ("unknown relation", f"/relation-suggestions/{ids['huawei'] + 1000}/accept", {}, 422, "not on this document"),
        ("bob's document", f"/claim-suggestions/{ids['other_claim']}/accept", {"uid": "doc2"}, 403, "not assigned"),
        ("no such document", f"/claim-suggestions/{ids['claim']}/accept", {"uid": "nope"}, 404, "no document"),
    ]
    before = site.counts()
    for what, path, data, status, message in cases:
        response = site.post(path, **data)
        body = unescape(response.get_data(as_text=True))
        assert response.status_code == status, (what, body)
        assert message in body and 'id="ws-message"' in body and "hx-swap-oob" not in body, (what, body)
        assert site.counts() == before, what
    site.ok(f"/claim-suggestions/{ids['claim']}/accept")
    after = site.counts()
    again = site.post(f"/claim-suggestions/{ids['claim']}/accept")
    assert again.status_code == 422 and "accepted already" in again.get_data(as_text=True)
    assert site.counts() == after
    gold = site.post(f"/claim-suggestions/{ids['claim']}/reject", prefix="/gold", name="gold")
    assert gold.status_code == 403 and site.counts() == after  # an annotator never writes gold


def test_writes_without_the_csrf_token_are_refused(site):
    token = site.client.environ_base.pop("HTTP_X_CSRFTOKEN")
    before = site.counts()
    for path in (f"/claim-suggestions/{site.ids['claim']}/accept", f"/relation-suggestions/{site.ids['makes']}/reject"):
        missing = site.post(path)
        assert missing.status_code == 400 and "CSRF" in missing.get_data(as_text=True)
    assert site.counts() == before
    site.client.environ_base["HTTP_X_CSRFTOKEN"] = token
    site.ok(f"/claim-suggestions/{site.ids['claim']}/accept")
