"""Curation: comparing annotator layers, pre-accepting agreements, accepting and rejecting
versions into gold, marking gold done; the services and the /curate/ pages, on SQLite and
PostgreSQL. Every write is checked against the stored rows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from annotator.annotate.history import undo
from annotator.annotate.links import add_relation, save_claim
from annotator.annotate.spans import add_span
from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.layers import AnnotationError, Conflict, NotFound, find_layer
from annotator.models import GOLD, AuditEvent, Claim, Document, Layer, Relation, Span
from annotator.nlp.tokenizer import tokenize
from annotator.project import labels_of
from annotator.review.comparison import compare
from annotator.review.gold import accept, finish, pre_accept, reject
from annotator.tokens import pack
from tests.helpers import log_in

TEXT = "Huawei makes the Ascend 910C in Shenzhen. Sophgo’s SC11 FP300 has 256 GB of memory."
HX = {"HX-Request": "true"}


def at(frag: str) -> tuple[int, int]:
    start = TEXT.index(frag)
    return start, start + len(frag)


def the_doc(s, uid: str = "doc1") -> Document:
    return s.exec(select(Document).where(Document.uid == uid)).scalars().one()


def annotate(app, name, spans, relations=(), claims=(), done=True, uid="doc1"):
    """Build `name`'s layer through the workspace's services; claims are (quantity, entity or None)."""
    labels = labels_of(app)
    with get_db(app).writing() as s:
        doc, seen, ids = the_doc(s, uid), 0, {}
        for frag, label in spans:
            out = add_span(s, labels, doc, name, name, seen, *at(frag), label)
            seen, ids[frag] = out.layer.version, out.ids[0]
        for head, label, child in relations:
            seen = add_relation(s, labels, doc, name, name, seen, ids[head], ids[child], label).layer.version
        for quantity, entity in claims:
            form = {"quantity_id": ids[quantity], "entity_id": ids.get(entity), "value": "256", "unit": "GB"}
            seen = save_claim(s, labels, doc, name, name, seen, form).layer.version
        if done:
            set_status(s, doc, name, name, seen, "done")


@pytest.fixture
def project(any_app):
    """ann1 and ann2 agree on Huawei MAKES Ascend 910C and on "256 GB"; they differ on
    Shenzhen's label, on the boundaries of "SC11 FP300" and on the claim's entity."""
    with get_db(any_app).writing() as s:
        s.add(
            Document(
                uid="doc1", text=TEXT, lang="en", title="Chips", n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en"))
            )
        )
    common = [("Huawei", "ORG"), ("Ascend 910C", "PRODUCT"), ("256 GB", "QUANTITY")]
    makes = [("Huawei", "MAKES", "Ascend 910C")]
    annotate(
        any_app, "ann1", common + [("Shenzhen", "GPE"), ("SC11 FP300", "PRODUCT")], makes, [("256 GB", "SC11 FP300")]
    )
    annotate(any_app, "ann2", common + [("Shenzhen", "ORG"), ("SC11", "PRODUCT")], makes, [("256 GB", None)])
    return any_app


def run(app, fn, *args, seen=None, user="cur", **kw):
    """A curation service in one write transaction, with the gold version as stored."""
    with get_db(app).writing() as s:
        doc = the_doc(s)
        gold = find_layer(s, doc, GOLD)
        return fn(s, doc, user, (gold.version if gold else 0) if seen is None else seen, *args, **kw)


def comparison(app, everyone=False):
    with get_db(app).reading() as s:
        return compare(s, the_doc(s), everyone)


def item(app, kind, text, label=None):
    """The key of the item whose (first) span covers `text` (with `label`)."""
    for it in comparison(app).items:
        span = it.ident if kind == "span" else it.ident[0]
        if it.kind == kind and TEXT[span[0] : span[1]] == text and (label is None or span[2] == label):
            return it
    raise AssertionError(f"no {kind} on {text!r}")


def gold_rows(app) -> dict:
    with get_db(app).reading() as s:
        layer = find_layer(s, the_doc(s), GOLD)
        if layer is None:
            return {"spans": [], "relations": [], "claims": [], "layer": None}
        spans = {r.id: r for r in s.exec(select(Span).where(Span.layer_id == layer.id)).scalars()}
        name = lambda i: (TEXT[spans[i].start : spans[i].end], spans[i].label) if i in spans else None  # noqa: E731
        return {
            "layer": layer,
            "spans": sorted(name(i) for i in spans),
            "relations": sorted(
                (name(r.head_id), r.label, name(r.child_id))
                for r in s.exec(select(Relation).where(Relation.layer_id == layer.id)).scalars()
            ),
            "claims": [
                (name(c.quantity_id), name(c.entity_id), spans[c.quantity_id].value, spans[c.quantity_id].unit)
                for c in s.exec(select(Claim).where(Claim.layer_id == layer.id)).scalars()
            ],
        }


def gold_events(app) -> list[AuditEvent]:
    with get_db(app).reading() as s:
        layer = find_layer(s, the_doc(s), GOLD)
        if layer is None:
            return []
        return s.exec(select(AuditEvent).where(AuditEvent.layer_id == layer.id).order_by(AuditEvent.id)).scalars().all()


AGREED_SPANS = [("256 GB", "QUANTITY"), ("Ascend 910C", "PRODUCT"), ("Huawei", "ORG")]


# --- comparing ------------------------------------------------------------------------------------


def test_compare_classifies_agreements_and_conflicts(project):
    c = comparison(project)
    assert c.compared == ["ann1", "ann2"] and c.gold is None and c.version == 0
    states = {(TEXT[i.ident[0] : i.ident[1]], i.ident[2]): i.state for i in c.items if i.kind == "span"}
    assert states == {
        ("Huawei", "ORG"): "agreed",
        ("Ascend 910C", "PRODUCT"): "agreed",
        ("256 GB", "QUANTITY"): "agreed",
        ("Shenzhen", "GPE"): "conflict",
        ("Shenzhen", "ORG"): "conflict",
        ("SC11 FP300", "PRODUCT"): "conflict",
        ("SC11", "PRODUCT"): "conflict",
    }
    gpe = item(project, "span", "Shenzhen", "GPE")
    assert gpe.missing == ["ann2"] and list(gpe.rows) == ["ann1"]
    assert [TEXT[r.ident[0] : r.ident[1]] + "/" + r.ident[2] for r in gpe.rivals] == ["Shenzhen/ORG"]
    assert [r.ident[:2] for r in item(project, "span", "SC11").rivals] == [at("SC11 FP300")]
    assert item(project, "relation", "Huawei").state == "agreed"
    claims = [i for i in c.items if i.kind == "claim"]
    assert [i.state for i in claims] == ["conflict", "conflict"] and all(len(i.rivals) == 1 for i in claims)
    # rivals sit next to each other, so a conflict's versions are read side by side
    keys = [i.key for i in c.items if i.kind == "span"]
    assert abs(keys.index(gpe.key) - keys.index(gpe.rivals[0].key)) == 1
    assert len({i.key for i in c.items}) == len(c.items)


def test_only_done_layers_are_compared_unless_asked(project):
    with get_db(project).writing() as s:
        doc = the_doc(s)
        set_status(s, doc, "ann2", "ann2", find_layer(s, doc, "ann2").version, "in_progress")
    c = comparison(project)
    assert c.compared == ["ann1"]
    assert item(project, "span", "Huawei").state == "single"  # nobody to agree with
    assert item(project, "span", "Shenzhen", "ORG").state == "unfinished"  # shown, flagged, not counted
    assert c.to_pre_accept() == [] and c.count(open_only=True) == 7  # ann1's 5 spans, relation and claim
    everyone = comparison(project, everyone=True)
    assert everyone.compared == ["ann1", "ann2"] and len(everyone.to_pre_accept()) == 4


# --- pre-accept, accept, reject -------------------------------------------------------------------


def test_pre_accept_copies_agreed_items_only_as_one_undoable_event(project):
    out = run(project, pre_accept)
    assert out.message == "Pre-accepted 3 spans, 1 relation, 0 claims"
    gold = gold_rows(project)
    assert gold["spans"] == AGREED_SPANS
    assert gold["relations"] == [(("Huawei", "ORG"), "MAKES", ("Ascend 910C", "PRODUCT"))]
    assert gold["claims"] == [] and gold["layer"].version == 1 and gold["layer"].kind == "gold"
    [event] = gold_events(project)
    assert (event.user, event.action, event.state) == ("cur", "pre_accept", "applied")
    assert event.after == {"span": 3, "relation": 1, "claim": 0}
    c = comparison(project)
    assert c.to_pre_accept() == [] and all(i.gold_id for i in c.items if i.state == "agreed")
    with pytest.raises(AnnotationError, match="no agreed item left"):
        run(project, pre_accept)
    with get_db(project).writing() as s:  # the gold workspace's undo takes it back in one step
        undo(s, the_doc(s), GOLD, "cur", 1)
    assert gold_rows(project)["spans"] == [] and gold_rows(project)["layer"].version == 2


def test_accept_one_version_of_a_conflict_replaces_the_other(project):
    run(project, pre_accept)
    gpe, org = item(project, "span", "Shenzhen", "GPE"), item(project, "span", "Shenzhen", "ORG")
    out = run(project, accept, "span", gpe.key)
    assert out.message == "Accepted GPE “Shenzhen” from ann1"
    assert ("Shenzhen", "GPE") in gold_rows(project)["spans"]
    after = item(project, "span", "Shenzhen", "ORG")
    assert after.superseded and not after.open and item(project, "span", "Shenzhen", "GPE").gold_id
    out = run(project, accept, "span", org.key)  # changing one's mind: the other version replaces it
    assert "replacing GPE “Shenzhen”" in out.message
    spans = gold_rows(project)["spans"]
    assert ("Shenzhen", "ORG") in spans and ("Shenzhen", "GPE") not in spans
    event = gold_events(project)[-1]
    assert (event.user, event.action, event.target) == ("cur", "accept", org.key)
    assert event.after["from"] == "ann2" and event.after["replaced"] == ["GPE “Shenzhen”"]
    with get_db(project).writing() as s:
        undo(s, the_doc(s), GOLD, "cur", gold_rows(project)["layer"].version)
    spans = gold_rows(project)["spans"]
    assert ("Shenzhen", "GPE") in spans and ("Shenzhen", "ORG") not in spans
    with pytest.raises(AnnotationError, match="already in gold"):
        run(project, accept, "span", gpe.key)


def test_accepting_a_claim_brings_its_spans(project):
    run(project, pre_accept)  # the quantity is in gold already, its entity is not
    claim = next(i for i in comparison(project).items if i.kind == "claim" and i.ident[4])  # ann1's, with an entity
    run(project, accept, "claim", claim.key)
    gold = gold_rows(project)
    assert gold["claims"] == [(("256 GB", "QUANTITY"), ("SC11 FP300", "PRODUCT"), 256.0, "GB")]
    assert gold["spans"] == sorted(AGREED_SPANS + [("SC11 FP300", "PRODUCT")])
    rival = next(i for i in comparison(project).items if i.kind == "claim" and not i.ident[4])
    assert rival.superseded and not rival.open


def test_reject_keeps_an_item_out_and_takes_it_out_of_gold(project):
    sc11 = item(project, "span", "SC11")
    out = run(project, reject, "span", sc11.key)
    assert out.message == "Rejected PRODUCT “SC11”"
    assert item(project, "span", "SC11").rejected and not item(project, "span", "SC11").open
    assert gold_rows(project)["spans"] == [] and gold_rows(project)["layer"].version == 1
    event = gold_events(project)[-1]
    assert (event.user, event.action, event.target, event.state) == ("cur", "reject", sc11.key, "applied")
    with pytest.raises(AnnotationError, match="already rejected"):
        run(project, reject, "span", sc11.key)
    with get_db(project).writing() as s:  # an undone rejection no longer counts
        undo(s, the_doc(s), GOLD, "cur", 1)
    assert item(project, "span", "SC11").open
    run(project, reject, "span", sc11.key)
    huawei = item(project, "span", "Huawei")  # a rejected agreement is not pre-accepted, nor what needs it
    run(project, reject, "span", huawei.key)
    run(project, pre_accept)
    assert gold_rows(project)["spans"] == [("256 GB", "QUANTITY"), ("Ascend 910C", "PRODUCT")]
    assert gold_rows(project)["relations"] == []
    ascend = item(project, "span", "Ascend 910C")
    out = run(project, reject, "span", ascend.key)  # in gold: removed, with what hangs on it
    assert out.message.endswith("and removed it from gold")
    assert ("Ascend 910C", "PRODUCT") not in gold_rows(project)["spans"]


def test_refusals_store_nothing(project):
    run(project, pre_accept)
    key = item(project, "span", "Shenzhen", "GPE").key
    before = (gold_rows(project), len(gold_events(project)))
    with pytest.raises(Conflict, match="changed elsewhere"):
        run(project, accept, "span", key, seen=0)  # another curator's write got there first
    with pytest.raises(Conflict):
        run(project, reject, "span", key, seen=7)
    with pytest.raises(AnnotationError, match="does not name"):
        run(project, accept, "span", "span-nothex")
    with pytest.raises(AnnotationError, match="does not name"):
        run(project, accept, "relation", key)  # a span key is not a relation
    with pytest.raises(NotFound):
        run(project, accept, "span", "span-0123456789abcdef")
    with pytest.raises(AnnotationError, match="has no such span"):
        run(project, accept, "span", key, annotator="ann2")
    assert (gold_rows(project), len(gold_events(project))) == before


def test_gold_done_once_every_item_is_decided(project):
    run(project, pre_accept)
    with pytest.raises(AnnotationError, match="6 items still open \\(6 in conflict\\)"):
        run(project, finish)
    for it in comparison(project).items:
        if it.open:
            run(project, reject, it.kind, it.key)
    layer = run(project, finish)
    assert layer.status == "done" and gold_rows(project)["layer"].status == "done"
    event = gold_events(project)[-1]
    assert (event.user, event.action, event.after) == ("cur", "set_status", {"status": "done"})


# --- the pages ------------------------------------------------------------------------------------


@pytest.fixture
def cur(project):
    return log_in(project, project.test_client(), "cur", "curator")


def version(app) -> int:
    layer = gold_rows(app)["layer"]
    return layer.version if layer else 0


def post(client, app, path, uid="doc1", **data):
    data.setdefault("version", version(app))
    return client.post(f"/curate/{uid}/{path}", data=data, headers=HX)


def test_index_lists_documents_to_curate(cur, project):
    page = cur.get("/curate/").get_data(as_text=True)
    assert 'data-uid="doc1"' in page and "ann1, ann2" in page and "6 / 6" in page and "not started" in page
    assert 'href="/curate/doc1"' in page


def test_opening_a_document_stores_nothing_and_pre_accepting_is_a_button(cur, project):
    page = cur.get("/curate/doc1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert gold_events(project) == [] and gold_rows(project)["layer"] is None  # a GET never writes
    assert "4 items every compared annotator agrees on" in html and "Pre-accept agreements (4)" in html
    assert 'class="cur-row state-conflict is-open' in html and "cur-clash" in html
    assert 'href="/gold/doc1"' in html and 'name="version" value="0"' in html
    html = post(cur, project, "pre-accept").get_data(as_text=True)
    assert "Pre-accepted 3 spans, 1 relation, 0 claims" in html
    assert gold_rows(project)["spans"] == AGREED_SPANS and gold_events(project)[0].user == "cur"
    with get_db(project).writing() as s:
        undo(s, the_doc(s), GOLD, "cur", 1)
    html = cur.get("/curate/doc1").get_data(as_text=True)  # undone: offered again, never run by a visit
    assert gold_rows(project)["spans"] == [] and "Pre-accepted" not in html
    assert "Pre-accept agreements (4)" in html


def test_web_accept_reject_and_gold_done(cur, project):
    post(cur, project, "pre-accept")
    gpe = item(project, "span", "Shenzhen", "GPE")
    response = post(cur, project, "accept", kind="span", key=gpe.key)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Accepted GPE “Shenzhen” from ann1" in html
    assert 'id="cur-board" class="cur-board" hx-swap-oob="true"' in html and 'name="version" value="2"' in html
    assert ("Shenzhen", "GPE") in gold_rows(project)["spans"]
    for it in comparison(project).items:
        if it.open:
            assert post(cur, project, "reject", kind=it.kind, key=it.key).status_code == 200
    response = post(cur, project, "status", status="done")
    assert response.status_code == 200 and "Marked gold done" in response.get_data(as_text=True)
    assert gold_rows(project)["layer"].status == "done"
    assert {e.user for e in gold_events(project)} == {"cur"}
    assert [e.action for e in gold_events(project)][:2] == ["pre_accept", "accept"]
    response = post(cur, project, "status", status="in_progress")
    assert response.status_code == 200 and gold_rows(project)["layer"].status == "in_progress"


def test_web_refusals(cur, project):
    post(cur, project, "pre-accept")
    key = item(project, "span", "Shenzhen", "GPE").key
    before = (gold_rows(project), len(gold_events(project)))
    stale = post(cur, project, "accept", kind="span", key=key, version=0)
    assert stale.status_code == 409
    assert "changed elsewhere" in stale.get_data(as_text=True) and "Reload the page" in stale.get_data(as_text=True)
    assert post(cur, project, "accept", kind="span", key="<script>").status_code == 422
    assert post(cur, project, "reject", kind="claim", key=key).status_code == 422
    assert post(cur, project, "accept", kind="span", key="span-0123456789abcdef").status_code == 404
    assert post(cur, project, "accept", kind="span", key=key, version="x").status_code == 422
    assert post(cur, project, "status", status="done").status_code == 422  # conflicts still open
    assert post(cur, project, "accept", uid="nope", kind="span", key=key).status_code == 404
    assert cur.get("/curate/nope").status_code == 404
    assert (gold_rows(project), len(gold_events(project))) == before


def test_plain_form_posts_redirect_back(cur, project):
    cur.get("/curate/doc1")
    key = item(project, "span", "SC11").key
    response = cur.post("/curate/doc1/reject", data={"version": version(project), "kind": "span", "key": key})
    assert response.status_code == 303 and response.headers["Location"].endswith("/curate/doc1")
    assert item(project, "span", "SC11").rejected


def test_annotators_get_403_everywhere_and_store_nothing(project):
    client = log_in(project, project.test_client(), "ann1")
    key = item(project, "span", "Shenzhen", "GPE").key
    assert client.get("/curate/").status_code == 403
    assert client.get("/curate/doc1").status_code == 403
    for path, data in (
        ("pre-accept", {}),
        ("accept", {"kind": "span", "key": key}),
        ("reject", {"kind": "span", "key": key}),
        ("status", {"status": "done"}),
    ):
        assert post(client, project, path, **data).status_code == 403, path
    assert gold_rows(project)["layer"] is None and gold_events(project) == []
    with get_db(project).reading() as s:
        assert s.exec(select(func.count()).select_from(Layer).where(Layer.name == GOLD)).scalar_one() == 0


def test_document_text_is_escaped(cur, project):
    text = "<script>alert(1)</script> Apple & Huawei"
    with get_db(project).writing() as s:
        s.add(
            Document(
                uid="evil", text=text, lang="en", title="<b>t</b>", n_chars=len(text), tokens=pack(tokenize(text, "en"))
            )
        )
    labels = labels_of(project)
    with get_db(project).writing() as s:
        doc = the_doc(s, "evil")
        add_span(s, labels, doc, "ann1", "ann1", 0, 0, 8, "ORG")
    html = cur.get("/curate/evil").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>t</b>" not in html
