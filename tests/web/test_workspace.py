"""The annotation workspace through Flask's test client, on SQLite and PostgreSQL.

Every write is checked against the stored rows, and every bad request against the rule that
a refused request answers 4xx with a clear message and stores nothing.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.layers import find_layer
from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, Suggestion, SuggestionDecision
from annotator.nlp.tokenizer import tokenize
from annotator.tokens import pack
from annotator.web.workspace.views import text_blocks
from tests.helpers import curator, give, log_in

TEXT = (
    "Tim Cook 😀 visited Apple in London.\r\n\r\n"
    "Sophgo’s SC11 FP300 has 256 GB of high-bandwidth memory.\tCafé Zürich ́ ok.\n"
)
OTHER = "Huawei makes the Ascend 910C in Shenzhen."
HX = {"HX-Request": "true"}
TABLES = (Span, Relation, Claim, Layer, AuditEvent, SuggestionDecision)


@pytest.fixture
def ws(any_app):
    """Two documents with suggestions, assigned to annotator alice, whose client is logged in."""
    with get_db(any_app).writing() as s:
        for uid, text in (("doc1", TEXT), ("doc2", OTHER)):
            doc = Document(
                uid=uid, text=text, lang="en", title=uid, n_chars=len(text), tokens=pack(tokenize(text, "en"))
            )
            s.add(doc)
            s.flush()
            for frag, label, extra in (
                ("Apple", "ORG", {}),
                ("London", "GPE", {}),
                ("SC11 FP300", "PRODUCT", {}),
                ("256 GB", "QUANTITY", {"value": 256.0, "unit": "GB"}),
                ("Huawei", "ORG", {}),
                ("Ascend 910C", "PRODUCT", {}),
            ):
                if frag in text:
                    start = text.index(frag)
                    s.add(
                        Suggestion(
                            document_id=doc.id, start=start, end=start + len(frag), label=label, origin="model", **extra
                        )
                    )
    client = any_app.test_client()
    give(any_app, "alice")
    log_in(any_app, client, "alice")
    return Workspace(any_app, client)


class Workspace:
    def __init__(self, app, client):
        self.app, self.client, self.db, self.name = app, client, get_db(app), "alice"

    def be(self, name: str) -> None:
        give(self.app, name)
        log_in(self.app, self.client, name)
        self.name = name

    def version(self, uid="doc1", name=None) -> int:
        name = name or self.name
        with self.db.reading() as s:
            doc = s.exec(select(Document).where(Document.uid == uid)).scalars().one()
            layer = find_layer(s, doc, name)
            return layer.version if layer else 0

    def post(self, path: str, uid="doc1", version=None, **data):
        data.setdefault("version", self.version(uid) if version is None else version)
        return self.client.post(
            f"/annotate/{uid}{path}", data={k: v for k, v in data.items() if v is not None}, headers=HX
        )

    def ok(self, path: str, uid="doc1", **data):
        response = self.post(path, uid, **data)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response

    def span(self, frag: str, label: str, uid="doc1") -> int:
        text = TEXT if uid == "doc1" else OTHER
        start = text.index(frag)
        response = self.ok("/spans", uid, start=start, end=start + len(frag), label=label)
        return int(re.search(r'"key": "s(\d+)"', response.headers["HX-Trigger-After-Swap"]).group(1))

    def suggestion(self, label: str, uid="doc1") -> int:
        with self.db.reading() as s:
            return (
                s.exec(select(Suggestion.id).join(Document).where(Document.uid == uid, Suggestion.label == label))
                .scalars()
                .one()
            )

    def counts(self) -> dict:
        with self.db.reading() as s:
            return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}

    def spans(self, name="alice") -> list[tuple]:
        with self.db.reading() as s:
            rows = s.exec(
                select(Span, Document.text)
                .join(Layer, Span.layer_id == Layer.id)
                .join(Document, Layer.document_id == Document.id)
                .where(Layer.name == name)
                .order_by(Span.start)
            ).all()
            return [(span.start, span.end, span.label, text[span.start : span.end]) for span, text in rows]


# --- who is annotating --------------------------------------------------------------------------


def test_the_workspace_needs_a_login_and_an_assignment(app):
    client = app.test_client()
    response = client.get("/annotate/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/annotate/")
    assert client.post("/annotate/x/spans", headers=HX).status_code == 401  # htmx is told where to go
    log_in(app, client, "carol")  # an annotator with nothing assigned
    page = client.get("/annotate/")
    assert page.status_code == 200 and "Nothing assigned to you yet" in page.get_data(as_text=True)


# --- the page -----------------------------------------------------------------------------------


def test_page_shows_text_with_marks_blocks_palette_and_version(ws):
    ws.span("Apple", "ORG")
    html = ws.client.get("/annotate/doc1").get_data(as_text=True)
    inner = html[html.index('<div id="doc-text"') : html.index("</section>", html.index('<div id="doc-text"'))]
    inner = inner.split(">", 1)[1]
    blocks = re.findall(r'<div class="blk" id="b-(\d+)" data-start="(\d+)">', inner)
    assert [int(start) for _, start in blocks] == [b[0] for b in text_blocks(TEXT)]
    assert "&#13;" in inner  # carriage returns survive HTML parsing, so offsets stay exact
    plain = unescape(re.sub(r"<[^>]+>", "", inner))
    assert plain[: len(TEXT)] == TEXT and plain[len(TEXT) :].strip() == ""
    marks = re.findall(
        r'<mark class="([^"]+)" data-start="(\d+)" data-end="(\d+)" data-i="([^"]+)"[^>]*>([^<]*)</mark>', inner
    )
    by_text = {unescape(t): (cls, words) for cls, s, e, words, t in marks}
    for _cls, s, e, _words, t in marks:
        assert TEXT[int(s) : int(e)] == unescape(t)
    assert "is-span" in by_text["Apple"][0] and by_text["Apple"][1].startswith("s")  # confirmed
    assert "is-sugg" in by_text["London"][0] and by_text["London"][1].startswith("g")  # still a suggestion
    assert 'id="ws-version" name="version" value="1"' in html
    for hotkey in ('data-hotkey="o"', 'data-hotkey="q"', 'id="ws-help"', 'id="ws-progress"', "htmx-config"):
        assert hotkey in html


def test_unknown_document_is_404(ws):
    assert ws.client.get("/annotate/nope").status_code == 404
    response = ws.post("/spans", uid="nope", version=0, start=0, end=3, label="ORG")
    assert response.status_code == 404 and "no document" in response.get_data(as_text=True)


# --- writes answer with only what changed -----------------------------------------------------


def test_span_after_emoji_is_stored_exactly_and_only_its_block_is_swapped(ws):
    start = TEXT.index("Apple")  # 19 code points in, 20 UTF-16 units in a browser
    response = ws.ok("/spans", start=start + 1, end=start + 3, label="ORG")  # a partial word snaps to it
    assert ws.spans() == [(start, start + 5, "ORG", "Apple")]
    html = response.get_data(as_text=True)
    assert re.findall(r'<div class="blk" id="(b-\d+)"[^>]*hx-swap-oob', html) == ["b-0"]
    assert 'id="ws-version" name="version" value="1" hx-swap-oob="true"' in html
    assert "Added ORG “Apple”" in html
    with ws.db.reading() as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action != "assign")).scalars().one()
        assert (event.user, event.action, event.after["text"]) == ("alice", "add_span", "Apple")


def test_selection_with_spaces_is_trimmed_to_its_words(ws):
    start = TEXT.index(" visited")
    ws.ok("/spans", start=start, end=start + len(" visited "), label="ORG")
    assert ws.spans()[0][3] == "visited"


def test_accept_reject_one_all_and_by_label(ws):
    ws.ok("/decide", decision="accepted", ids=ws.suggestion("ORG"))
    ws.ok("/decide", decision="rejected", ids=ws.suggestion("GPE"))
    assert [s[3] for s in ws.spans()] == ["Apple"]
    response = ws.ok("/decide", decision="accepted", scope="all", label="QUANTITY")
    assert "Accepted 1 suggestion labelled QUANTITY" in response.get_data(as_text=True)
    ws.ok("/decide", decision="accepted", scope="all")
    assert [s[3] for s in ws.spans()] == ["Apple", "SC11 FP300", "256 GB"]
    with ws.db.reading() as s:
        assert s.exec(select(Span.value, Span.unit).where(Span.label == "QUANTITY")).one() == (256.0, "GB")
    assert ws.post("/decide", decision="accepted", scope="all").status_code == 422  # none left
    ws.ok("/decide", decision="rejected", scope="all", uid="doc2", version=0)  # another document, its own layer
    assert len(ws.spans()) == 3 and ws.counts()["SuggestionDecision"] == 6


def test_accept_a_suggestion_under_another_label(ws):
    ws.ok("/decide", decision="accepted", ids=ws.suggestion("PRODUCT"), as_label="MODEL")
    assert ws.spans() == [(TEXT.index("SC11"), TEXT.index("SC11") + 10, "MODEL", "SC11 FP300")]
    with ws.db.reading() as s:
        assert s.exec(select(SuggestionDecision.decision)).scalars().all() == ["accepted"]


def test_relabel_nudge_bounds_delete_and_overlap(ws):
    sc11 = TEXT.index("SC11")
    span = ws.span("SC11 FP300", "PRODUCT")
    ws.span("FP300", "MODEL")  # overlapping, another label
    ws.ok(f"/spans/{span}", label="ORG")
    ws.ok(f"/spans/{span}/nudge", edge="end", step=-1)  # shrink from the right: "SC11"
    ws.ok(f"/spans/{span}/nudge", edge="start", step=-1)  # grow to the left by one token: "’s SC11"
    assert ws.spans()[0] == (sc11 - 3, sc11 + 4, "ORG", "’s SC11")
    apple = ws.span("Apple", "ORG")
    refused = ws.post(f"/spans/{apple}/nudge", edge="end", step=-1)
    assert refused.status_code == 422 and "keeps at least one word" in refused.get_data(as_text=True)
    ws.ok(f"/spans/{span}", start=sc11, end=sc11 + 10)  # boundaries set from a selection
    assert (sc11, sc11 + 10, "ORG", "SC11 FP300") in ws.spans()
    ws.ok(f"/spans/{span}/delete")
    assert [s[2] for s in ws.spans()] == ["ORG", "MODEL"]


def test_relation_form_offers_only_allowed_labels_and_relations_persist(ws):
    org, card = ws.span("Apple", "ORG"), ws.span("SC11 FP300", "PRODUCT")
    form = ws.client.get(f"/annotate/doc1/relation-form?head={org}&child={card}").get_data(as_text=True)
    offered = re.findall(r"</kbd> (\w+)</button>", form)
    assert offered == ["MAKES", "USES"]
    backwards = ws.client.get(f"/annotate/doc1/relation-form?head={card}&child={org}").get_data(as_text=True)
    assert "No relation is allowed from PRODUCT to ORG" in backwards
    response = ws.ok("/relations", head=org, child=card, label="MAKES")
    assert 'id="ws-relations"' in response.get_data(as_text=True)
    with ws.db.reading() as s:
        rel = s.exec(select(Relation)).scalars().one()
        assert (rel.head_id, rel.child_id, rel.label) == (org, card, "MAKES")
    ws.ok(f"/relations/{rel.id}/delete")
    assert ws.counts()["Relation"] == 0


def test_claim_form_prefills_and_saves_with_links(ws):
    card, qty = ws.span("SC11 FP300", "PRODUCT"), ws.span("256 GB", "QUANTITY")
    prop = ws.span("high-bandwidth memory", "PROPERTY")
    form = ws.client.get(f"/annotate/doc1/claim-form?quantity={qty}").get_data(as_text=True)
    assert 'name="value" value="256"' in form and 'name="unit" value="GB"' in form
    assert re.search(rf'<option value="{card}" selected>SC11 FP300 · PRODUCT', form)  # the entity before it
    assert re.search(rf'<option value="{prop}" selected>high-bandwidth memory · PROPERTY', form)
    response = ws.ok(
        "/claims", quantity_id=qty, value="256", unit="GB", entity_id=card, property_id=prop, modifiers="IsCount"
    )
    assert "Added the claim" in response.get_data(as_text=True)
    with ws.db.reading() as s:
        claim = s.exec(select(Claim)).scalars().one()
        assert (claim.entity_id, claim.property_id, claim.modifiers) == (card, prop, ["IsCount"])
    edited = ws.ok(
        f"/claims/{claim.id}", quantity_id=qty, value="256", unit="gigs", entity_id=card, property_text="memory"
    )
    assert "not in the unit table" in edited.get_data(as_text=True)
    with ws.db.reading() as s:
        claim = s.get(Claim, claim.id)
        assert (claim.property_id, claim.property_text) == (None, "memory")
        assert s.get(Span, qty).meta == {"unit_noncanonical": True}
    ws.ok(f"/claims/{claim.id}/delete")
    assert ws.counts()["Claim"] == 0


def test_undo_and_redo_through_the_page(ws):
    for frag in ("Tim", "Cook", "visited", "Apple", "London"):
        ws.span(frag, "ORG")
    for _ in range(5):
        ws.ok("/undo")
    assert ws.spans() == []
    assert "Nothing to undo" in ws.post("/undo").get_data(as_text=True)
    response = ws.ok("/redo")
    assert "Redid add span “Tim”" in response.get_data(as_text=True)
    assert [s[3] for s in ws.spans()] == ["Tim"]


def test_mark_done_and_progress(ws):
    response = ws.ok("/status", status="done")
    html = response.get_data(as_text=True)
    assert 'id="ws-progress"' in html and "<b>1</b> of 2 done" in html
    with ws.db.reading() as s:
        statuses = dict(s.exec(select(Document.uid, Layer.status).join(Document)).all())
        assert statuses == {"doc1": "done", "doc2": "todo"}  # both assigned, one done
        event = s.exec(select(AuditEvent).where(AuditEvent.action != "assign")).scalars().one()
        assert (event.action, event.state, event.after) == ("set_status", None, {"status": "done"})
    assert ws.post("/status", status="done").status_code == 422
    assert ws.client.get("/annotate/").headers["Location"] == "/annotate/doc2"  # the next one not done
    ws.ok("/status", status="in_progress")


# --- bad requests: 4xx, a clear message, nothing stored -----------------------------------------


def _bad_cases(ws):
    """(what, path, data, status, message) after building a little layer to refer to."""
    apple = ws.span("Apple", "ORG")
    card = ws.span("SC11 FP300", "PRODUCT")
    qty = ws.span("256 GB", "QUANTITY")
    other_doc = ws.span("Huawei", "ORG", uid="doc2")
    ws.be("bob")
    bobs = ws.span("London", "GPE")
    ws.be("alice")
    n = len(TEXT)
    return {"apple": apple, "qty": qty, "other_doc": other_doc, "bobs": bobs}, [
        ("start < 0", "/spans", {"start": -1, "end": 3, "label": "ORG"}, 422, "not on this document"),
        ("end past the text", "/spans", {"start": 0, "end": n + 1, "label": "ORG"}, 422, "not on this document"),
        ("both past the text", "/spans", {"start": n + 5, "end": n + 9, "label": "ORG"}, 422, "not on this document"),
        ("start == end", "/spans", {"start": 5, "end": 5, "label": "ORG"}, 422, "not on this document"),
        ("start > end", "/spans", {"start": 10, "end": 4, "label": "ORG"}, 422, "not on this document"),
        ("not a number", "/spans", {"start": "abc", "end": 4, "label": "ORG"}, 422, "whole numbers"),
        ("a fraction", "/spans", {"start": "1.5", "end": 4, "label": "ORG"}, 422, "whole numbers"),
        ("only spaces", "/spans", {"start": 8, "end": 9, "label": "ORG"}, 422, "holds no word"),
        ("unknown label", "/spans", {"start": 0, "end": 3, "label": "NOPE"}, 422, "unknown label"),
        ("missing label", "/spans", {"start": 0, "end": 3}, 422, "unknown label"),
        ("relabel to unknown", f"/spans/{apple}", {"label": "NOPE"}, 422, "unknown label"),
        (
            "relation not allowed",
            "/relations",
            {"head": card, "child": apple, "label": "MAKES"},
            422,
            "not allowed from PRODUCT to ORG",
        ),
        ("unknown relation", "/relations", {"head": apple, "child": card, "label": "OWNS"}, 422, "not allowed"),
        ("claim on a non-QUANTITY", "/claims", {"quantity_id": card, "value": "1"}, 422, "built on a QUANTITY span"),
        ("claim value not a number", "/claims", {"quantity_id": qty, "value": "lots"}, 422, "not a number"),
        ("claim unknown modifier", "/claims", {"quantity_id": qty, "modifiers": "IsGuess"}, 422, "unknown modifiers"),
        (
            "claim entity of another document",
            "/claims",
            {"quantity_id": qty, "entity_id": other_doc},
            422,
            "not in this layer",
        ),
        ("claim entity of another layer", "/claims", {"quantity_id": qty, "entity_id": bobs}, 422, "not in this layer"),
        (
            "claim property text too long",
            "/claims",
            {"quantity_id": qty, "property_text": "m" * 501},
            422,
            "500 characters at most",
        ),
        (
            "NUL in a claim's property text",
            "/claims",
            {"quantity_id": qty, "property_text": "mem\x00ory"},
            422,
            "NUL character",
        ),
        (
            "NUL in a free-text unit",
            "/claims",
            {"quantity_id": qty, "value": "2", "unit": "G\x00B"},
            422,
            "NUL character",
        ),
        ("span of another document", f"/spans/{other_doc}/delete", {}, 422, "not in this layer"),
        ("span of another layer", f"/spans/{bobs}", {"label": "ORG"}, 422, "not in this layer"),
        (
            "relation to another layer",
            "/relations",
            {"head": apple, "child": bobs, "label": "MAKES"},
            422,
            "not in this layer",
        ),
        (
            "relation to another document",
            "/relations",
            {"head": apple, "child": other_doc, "label": "PARTNERS_WITH"},
            422,
            "not in this layer",
        ),
        (
            "suggestion of another document",
            "/decide",
            {"decision": "accepted", "ids": ws.suggestion("ORG", "doc2")},
            422,
            "not on this document",
        ),
        ("unknown decision", "/decide", {"decision": "maybe", "ids": ws.suggestion("GPE")}, 422, "unknown decision"),
        ("no suggestion named", "/decide", {"decision": "accepted"}, 422, "name the suggestion"),
        ("bad nudge", f"/spans/{apple}/nudge", {"edge": "middle", "step": 2}, 422, "step -1 or 1"),
        ("unknown status", "/status", {"status": "finished"}, 422, "unknown status"),
        ("stale version", "/spans", {"start": 0, "end": 3, "label": "PERSON", "version": 0}, 409, "changed elsewhere"),
        ("no version", "/spans", {"start": 0, "end": 3, "label": "PERSON", "version": ""}, 422, "which version"),
    ]


def test_bad_requests_are_refused_and_store_nothing(ws):
    _, cases = _bad_cases(ws)
    before = ws.counts()
    for what, path, data, status, message in cases:
        response = ws.post(path, **data)
        body = response.get_data(as_text=True)
        assert response.status_code == status, (what, body)
        assert message.lower() in unescape(body).lower(), (what, body)
        assert 'id="ws-message"' in body and "hx-swap-oob" not in body, what
        assert ws.counts() == before, what


def test_forms_refuse_spans_of_another_layer_or_the_wrong_label(ws):
    ids, _ = _bad_cases(ws)
    response = ws.client.get(f"/annotate/doc1/relation-form?head={ids['apple']}&child={ids['bobs']}", headers=HX)
    assert response.status_code == 422 and "not in this layer" in response.get_data(as_text=True)
    response = ws.client.get(f"/annotate/doc1/claim-form?quantity={ids['apple']}", headers=HX)
    assert response.status_code == 422 and "built on a QUANTITY span" in response.get_data(as_text=True)
    assert ws.client.get(f"/annotate/doc1/claim-form?quantity={ids['other_doc']}", headers=HX).status_code == 422


def test_a_write_touching_many_blocks_swaps_the_whole_text_once(ws, monkeypatch):
    from annotator.web.workspace import writes as workspace_writes

    one = ws.ok("/decide", decision="accepted", ids=ws.suggestion("ORG")).get_data(as_text=True)
    assert 'id="doc-text"' not in one and re.findall(r'id="b-\d+"[^>]*hx-swap-oob', one)
    monkeypatch.setattr(workspace_writes, "WHOLE_TEXT_AFTER", 0)
    html = ws.ok("/decide", decision="accepted", scope="all").get_data(as_text=True)
    assert re.search(r'<div id="doc-text"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'<div class="ws-span-groups" id="ws-span-groups" hx-swap-oob="true"', html)
    assert not re.findall(r'class="blk"[^>]*hx-swap-oob', html)  # blocks ride inside the one swap
    assert html.count('class="blk"') == len(text_blocks(TEXT))


def test_rejecting_two_suggestions_that_share_one_span(ws):
    with ws.db.writing() as s:
        doc = s.exec(select(Document).where(Document.uid == "doc1")).scalars().one()
        start = TEXT.index("Apple")
        s.add(Suggestion(document_id=doc.id, start=start, end=start + 5, label="ORG", origin="gazetteer"))
    ws.ok("/decide", decision="accepted", scope="all", label="ORG")
    assert [s[3] for s in ws.spans()] == ["Apple"]  # one span for both
    with ws.db.reading() as s:
        both = s.exec(select(SuggestionDecision.suggestion_id)).scalars().all()
    assert len(both) == 2
    ws.ok("/decide", decision="rejected", ids=",".join(map(str, both)))
    assert ws.spans() == []
    with ws.db.reading() as s:
        assert sorted(s.exec(select(SuggestionDecision.decision)).scalars().all()) == ["rejected", "rejected"]
    ws.ok("/undo")
    assert [s[3] for s in ws.spans()] == ["Apple"]
    with ws.db.reading() as s:
        assert sorted(s.exec(select(SuggestionDecision.decision)).scalars().all()) == ["accepted", "accepted"]


# --- retries whose first attempt was stored -------------------------------------------------


def _keyed(ws, path, key, attempt, **data):
    data.setdefault("version", ws.version())
    return ws.client.post(
        f"/annotate/doc1{path}", data=data, headers={**HX, "X-WS-Write": key, "X-WS-Attempt": str(attempt)}
    )


def test_a_retry_of_a_stored_write_is_answered_as_saved_and_stores_nothing_twice(ws):
    start = TEXT.index("Cook")
    seen = ws.version()
    first = _keyed(ws, "/spans", "page1234-7", 1, start=start, end=start + 4, label="PERSON", version=seen)
    assert first.status_code == 200
    after_first = ws.counts()
    # the answer was lost: the page sends the same write again, with the version it had
    retry = _keyed(ws, "/spans", "page1234-7", 2, start=start, end=start + 4, label="PERSON", version=seen)
    assert retry.status_code == 200
    body = unescape(retry.get_data(as_text=True))
    assert "first attempt had reached the server" in body
    assert f'value="{seen + 1}"' in body  # the page takes the stored write's version
    assert ws.counts() == after_first  # one span, one audit event


def test_a_retry_after_other_writes_asks_for_a_reload(ws):
    seen = ws.version()
    start = TEXT.index("Cook")
    assert (
        _keyed(ws, "/spans", "page1234-8", 1, start=start, end=start + 4, label="PERSON", version=seen).status_code
        == 200
    )
    ws.span("London", "GPE")  # another tab, in between
    after = ws.counts()
    retry = _keyed(ws, "/spans", "page1234-8", 2, start=start, end=start + 4, label="PERSON", version=seen)
    assert retry.status_code == 409
    assert "saved before the connection dropped" in unescape(retry.get_data(as_text=True))
    assert ws.counts() == after


def test_a_retry_never_stored_is_written_normally(ws):
    start = TEXT.index("Cook")
    before = ws.counts()
    retry = _keyed(ws, "/spans", "page1234-9", 3, start=start, end=start + 4, label="PERSON")
    assert retry.status_code == 200 and "Added PERSON" in unescape(retry.get_data(as_text=True))
    assert ws.counts()["Span"] == before["Span"] + 1
    # a key that is not a key is ignored: the write runs as any other
    bad = _keyed(ws, "/spans", "x" * 65, 2, start=TEXT.index("Tim"), end=TEXT.index("Tim") + 3, label="PERSON")
    assert bad.status_code == 200


def test_what_a_write_reads_of_the_pending_suggestions_comes_from_one_index_alone(app):
    """Every write's answer reads the document's pending suggestions (all, or those of the
    changed blocks) and counts them per label: on SQLite from the (document, label, start,
    end) index, without a suggestion row or a sort (migration 0016; at 17,500 suggestions the
    counts took 6 ms from the rows, 2.8 ms from the index)."""
    from annotator.web.workspace import reads

    statements = [reads.PENDING, reads.PENDING_IN, reads.PENDING_COUNTS]
    statements += [reads.GOLD_PENDING, reads.GOLD_PENDING_IN, reads.GOLD_PENDING_COUNTS]
    with get_db(app).engine.connect() as conn:
        for statement in statements:
            compiled = statement.compile(conn)
            values = compiled.construct_params({"doc": 1, "layer": 1, "lo": 0, "hi": 100})
            args = tuple(values[name] for name in compiled.positiontup)
            plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", args).all()]
            reads_of_suggestion = [
                line for line in plan if f"{line} ".startswith(("SEARCH suggestion ", "SCAN suggestion "))
            ]
            assert reads_of_suggestion == [
                "SEARCH suggestion USING COVERING INDEX ix_suggestion_document_label (document_id=?)"
            ], plan
            assert not any("TEMP B-TREE" in line for line in plan), plan


def test_accepting_all_in_gold_takes_the_suggestions_in_the_order_they_were_made(ws):
    """The pending suggestions come from the index by label: "all" still means them in the
    order they were made, so the spans gold gains are numbered as the suggestions were."""
    with ws.db.reading() as s:
        doc = s.exec(select(Document).where(Document.uid == "doc1")).scalars().one()
        made = s.exec(
            select(Suggestion.start, Suggestion.label).where(Suggestion.document_id == doc.id).order_by(Suggestion.id)
        ).all()
    assert [label for _, label in made] != sorted(label for _, label in made)  # the index's order differs
    response = curator(ws.app).post(
        "/gold/doc1/decide", data={"version": "0", "decision": "accepted", "scope": "all"}, headers=HX
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    with ws.db.reading() as s:
        gold = find_layer(s, doc, "gold")
        spans = s.exec(select(Span.start, Span.label).where(Span.layer_id == gold.id).order_by(Span.id)).all()
    assert [tuple(r) for r in spans] == [tuple(r) for r in made]
