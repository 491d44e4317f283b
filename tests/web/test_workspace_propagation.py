"""Propagating a confirmed span and adding it to the gazetteer through the workspace routes,
with Flask's test client on SQLite and PostgreSQL: the offer after a confirmation, the spans
stored here in one undo step, the suggestions stored in the other documents, the gazetteer
row and its audit event, and refusals that answer with a message and store nothing."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.layers import find_layer
from annotator.models import AuditEvent, Document, GazetteerName, Layer, Span, Suggestion
from annotator.nlp.tokenizer import tokenize
from annotator.tokens import pack
from tests.helpers import curator, give, log_in

TEXTS = {
    "doc1": "Nvidia ships the H100 card to Microsoft. Buyers of Nvidia wait.\n\nNvidia grows; NvidiaX is <b>other</b>.",
    "doc2": "A review: Nvidia and AMD compete. Nvidia leads.",
    "doc3": "No such company here.",
    "doc4": "Nvidia and Microsoft again.",
}
HX = {"HX-Request": "true"}
TABLES = (Span, Suggestion, Layer, AuditEvent, GazetteerName)


@pytest.fixture
def ws(any_app):
    """Four documents (a suggestion on doc1's first "Nvidia"), all assigned to alice."""
    with get_db(any_app).writing() as s:
        for uid, text in TEXTS.items():
            doc = Document(
                uid=uid, text=text, lang="en", title=uid, n_chars=len(text), tokens=pack(tokenize(text, "en"))
            )
            s.add(doc)
            s.flush()
            if uid == "doc1":
                s.add(Suggestion(document_id=doc.id, start=0, end=6, label="ORG", origin="model"))
    give(any_app, "alice")
    return Workspace(any_app, log_in(any_app, any_app.test_client(), "alice"))


class Workspace:
    def __init__(self, app, client):
        self.app, self.client, self.db = app, client, get_db(app)

    def version(self, name: str, uid: str = "doc1") -> int:
        with self.db.reading() as s:
            doc = s.exec(select(Document).where(Document.uid == uid)).scalars().one()
            layer = find_layer(s, doc, name)
            return layer.version if layer else 0

    def post(self, path: str, client=None, name="alice", prefix="/annotate", uid="doc1", **data):
        if "version" not in data:
            data["version"] = self.version(name, uid)
        return (client or self.client).post(f"{prefix}/{uid}{path}", data=data, headers=HX)

    def ok(self, path: str, **kw) -> str:
        response = self.post(path, **kw)
        assert response.status_code == 200, response.get_data(as_text=True)
        return unescape(response.get_data(as_text=True))

    def span(self, frag: str, label: str = "ORG", **kw) -> int:
        """Mark the first `frag` of doc1; the new span's id."""
        start = TEXTS["doc1"].index(frag)
        html = self.ok("/spans", start=start, end=start + len(frag), label=label, **kw)
        return int(re.search(r'data-ws-focus="s(\d+)"', html).group(1))

    def spans(self, name: str = "alice") -> list[tuple]:
        with self.db.reading() as s:
            rows = s.exec(
                select(Span.start, Span.end, Span.label, Span.origin)
                .join(Layer, Span.layer_id == Layer.id)
                .where(Layer.name == name)
                .order_by(Span.start)
            ).all()
        return [(TEXTS["doc1"][a:b], a, label, origin) for a, b, label, origin in rows]

    def propagated(self) -> list[tuple]:
        with self.db.reading() as s:
            rows = s.exec(
                select(Document.uid, Document.text, Suggestion.start, Suggestion.end, Suggestion.label)
                .join(Document, Suggestion.document_id == Document.id)
                .where(Suggestion.pipeline == "propagation")
                .order_by(Document.uid, Suggestion.start)
            ).all()
        return [(uid, text[a:b], label) for uid, text, a, b, label in rows]

    def events(self, action: str) -> list[AuditEvent]:
        with self.db.reading() as s:
            return s.exec(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()

    def counts(self) -> dict:
        with self.db.reading() as s:
            return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


def places(frag: str) -> list[int]:
    text = TEXTS["doc1"]
    return [m.start() for m in re.finditer(rf"\b{re.escape(frag)}\b", text)]


# --- the offer ------------------------------------------------------------------------------------


def test_adding_a_span_offers_to_confirm_its_other_places(ws):
    start = TEXTS["doc1"].index("Nvidia")
    html = ws.ok("/spans", start=start, end=start + 6, label="ORG")
    span = re.search(r'data-ws-focus="s(\d+)"', html).group(1)
    assert "Added ORG “Nvidia”. “Nvidia” appears 2 more times: press E to confirm them all" in html
    assert f'data-ws-propagate="s{span}"' in html and "Confirm all 2" in html
    html = ws.ok("/spans", start=TEXTS["doc1"].index("H100"), end=TEXTS["doc1"].index("H100") + 4, label="PRODUCT")
    assert "Added PRODUCT “H100”" in html and "data-ws-propagate" not in html  # nowhere else: no offer
    html = ws.ok(f"/spans/{span}", label="PRODUCT")  # a relabel is a confirmation too
    assert "Changed to PRODUCT “Nvidia”. “Nvidia” appears 2 more times" in html


def test_accepting_a_suggestion_offers_it_for_the_span_it_made(ws):
    with ws.db.reading() as s:
        (suggestion,) = s.exec(select(Suggestion.id)).scalars().all()
    html = ws.ok("/decide", decision="accepted", ids=str(suggestion))
    assert [row[:3] for row in ws.spans()] == [("Nvidia", 0, "ORG")]
    assert "Accepted ORG “Nvidia”. “Nvidia” appears 2 more times" in html
    assert re.search(r'data-ws-propagate="s\d+"', html)


def test_the_page_names_the_gazetteer_route_for_curators_only(ws):
    page = ws.client.get("/annotate/doc1").get_data(as_text=True)
    assert "/propagate" in page and "/gazetteer" not in page
    page = curator(ws.app).get("/annotate/doc1").get_data(as_text=True)
    assert "/propagate" in page and "/gazetteer" in page


# --- propagation ------------------------------------------------------------------------------------


def test_propagate_confirms_here_in_one_undo_step_and_suggests_in_the_corpus(ws):
    span = ws.span("Nvidia")
    html = ws.ok(f"/spans/{span}/propagate")
    assert "Confirmed ORG “Nvidia” at 2 more places in this document; suggested in 2 other documents" in html
    assert ws.spans() == [("Nvidia", at, "ORG", "manual") for at in places("Nvidia")]  # not inside NvidiaX
    assert ws.propagated() == [("doc2", "Nvidia", "ORG"), ("doc2", "Nvidia", "ORG"), ("doc4", "Nvidia", "ORG")]
    (event,) = ws.events("propagate")
    assert event.after["count"] == 2 and event.after["suggested_in_corpus"] == 3

    html = ws.ok("/undo")
    assert "Undid propagate “Nvidia”" in html
    assert ws.spans() == [("Nvidia", 0, "ORG", "manual")]  # one step took both back
    assert len(ws.propagated()) == 3  # suggestions are machine output: undo leaves them
    ws.ok("/redo")
    assert len(ws.spans()) == 3

    again = ws.post(f"/spans/{span}/propagate")  # all marked now, every other place suggested already
    assert again.status_code == 200
    assert "Nothing else to confirm: “Nvidia” appears nowhere else" in unescape(again.get_data(as_text=True))
    assert len(ws.spans()) == 3 and len(ws.propagated()) == 3


def test_nothing_to_confirm_stores_nothing_and_leaves_the_undo_history(ws):
    span = ws.span("H100", "PRODUCT")
    before, version = ws.counts(), ws.version("alice")
    html = ws.ok(f"/spans/{span}/propagate")
    assert "Nothing else to confirm: “H100” appears nowhere else" in html
    assert ws.counts() == before and ws.version("alice") == version
    assert "Undid add span “H100”" in ws.ok("/undo")  # the add is still the last step


def test_only_in_other_documents_suggests_there_without_an_undo_step(ws):
    span = ws.span("Microsoft")
    version = ws.version("alice")
    html = ws.ok(f"/spans/{span}/propagate")
    assert "Nothing else to confirm in this document; ORG “Microsoft” suggested in 1 other document" in html
    assert ws.propagated() == [("doc4", "Microsoft", "ORG")]
    assert ws.version("alice") == version and len(ws.spans()) == 1
    (event,) = ws.events("suggest_in_corpus")
    assert (event.user, event.after["suggested_in_corpus"], event.layer_id) == ("alice", 1, None)


def test_propagate_in_the_gold_workspace(ws):
    lead = curator(ws.app)
    start = TEXTS["doc1"].index("Nvidia")
    ws.ok("/spans", client=lead, name="gold", prefix="/gold", start=start, end=start + 6, label="ORG")
    with ws.db.reading() as s:
        span_id = s.exec(select(Span.id).join(Layer).where(Layer.name == "gold")).scalar_one()
    html = ws.ok(f"/spans/{span_id}/propagate", client=lead, name="gold", prefix="/gold")
    assert "Confirmed ORG “Nvidia” at 2 more places in this document" in html
    assert [row[:3] for row in ws.spans("gold")] == [("Nvidia", at, "ORG") for at in places("Nvidia")]
    assert ws.spans("alice") == []


# --- the gazetteer ------------------------------------------------------------------------------------


def test_a_curator_adds_a_name_to_the_gazetteer_audited_and_once(ws):
    lead = curator(ws.app)
    span = ws.span("Microsoft", client=lead, name="lead")
    html = ws.ok(f"/spans/{span}/gazetteer", client=lead, name="lead")
    assert (
        "Added ORG “Microsoft” to the gazetteer (pre-highlighting finds it from now on); suggested in 1 other" in html
    )
    with ws.db.reading() as s:
        names = [(g.label, g.text, g.added_by) for g in s.exec(select(GazetteerName)).scalars()]
    assert names == [("ORG", "Microsoft", "lead")]
    (event,) = ws.events("add_gazetteer_name")
    assert (event.user, event.after["text"], event.after["label"]) == ("lead", "Microsoft", "ORG")
    assert ws.propagated() == [("doc4", "Microsoft", "ORG")]

    before = ws.counts()
    again = ws.post(f"/spans/{span}/gazetteer", client=lead, name="lead")
    assert again.status_code == 422
    assert "'Microsoft' is a ORG name of the gazetteer already" in unescape(again.get_data(as_text=True))
    assert ws.counts() == before


def test_an_annotator_is_refused_the_gazetteer_and_nothing_is_stored(ws):
    span = ws.span("Microsoft")
    before = ws.counts()
    response = ws.post(f"/spans/{span}/gazetteer")
    assert response.status_code == 403
    assert "Only curators and admins add names to the gazetteer" in response.get_data(as_text=True)
    assert ws.counts() == before and ws.propagated() == []


# --- bad requests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["propagate", "gazetteer"])
def test_bad_span_ids_are_refused_and_store_nothing(ws, route):
    lead = curator(ws.app)  # may use both routes
    mine = ws.span("Nvidia", client=lead, name="lead")
    alices = ws.span("Nvidia")  # the same text in another layer
    before = ws.counts()
    for span_id, status, message in (
        (987654, 422, "span 987654 is not in this layer of this document"),
        (alices, 422, f"span {alices} is not in this layer of this document"),
        ("abc", 404, None),
        ("-1", 404, None),
    ):
        response = ws.post(f"/spans/{span_id}/{route}", client=lead, name="lead")
        assert response.status_code == status, (span_id, response.get_data(as_text=True))
        if message:
            assert message[0].upper() + message[1:] in response.get_data(as_text=True)
    assert ws.counts() == before
    assert ws.post(f"/spans/{mine}/{route}", client=lead, name="lead", version="stale").status_code == 422
    assert ws.post(f"/spans/{mine}/{route}", uid="nope", client=lead, name="lead", version=0).status_code == 404
    assert ws.counts() == before


def test_the_writes_need_the_csrf_token(ws):
    span = ws.span("Nvidia")
    token = ws.client.environ_base.pop("HTTP_X_CSRFTOKEN")
    before = ws.counts()
    assert ws.post(f"/spans/{span}/propagate").status_code == 400
    assert ws.counts() == before
    ws.client.environ_base["HTTP_X_CSRFTOKEN"] = token


def test_document_text_in_messages_is_escaped(ws):
    html = ws.post("/spans", start=TEXTS["doc1"].index("<b>"), end=TEXTS["doc1"].index("</b>") + 4, label="ORG")
    body = html.get_data(as_text=True)
    assert "<b>" not in body.split('id="ws-message"')[1].split("</div>")[0]
    span = int(re.search(r'data-ws-focus="s(\d+)"', body).group(1))
    out = ws.post(f"/spans/{span}/propagate").get_data(as_text=True)
    assert "&lt;b&gt;" in out and "<b>other" not in out
