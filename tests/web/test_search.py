"""The document list's search, filters and sort, and archiving, restoring and deleting a
document, on SQLite (FTS5) and PostgreSQL (GIN over the 'simple' text-search vector)."""

from __future__ import annotations

import json

from sqlalchemy import select

from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.models import AuditEvent, Claim, Document, Layer, Span
from annotator.project import labels_of
from annotator.project.search import fts5_query, terms, tsquery
from tests.helpers import curator, log_in

HX = {"HX-Request": "true"}
RECORDS = [
    {"text": "Huawei ships the Ascend 910C to Baidu.", "lang": "en", "meta": {"title": "Ascend shipments"}},
    {"text": "Nvidia sells the H800 in China; O'Brien said so.", "lang": "en", "meta": {"title": "Export rules"}},
    {"text": "A Huawei vende o Ascend 910B por 1,1 TB/s.", "lang": "pt", "meta": {"title": "Chips chineses"}},
    {"text": "DeepSeek trained V3 on about 10,000 H800 GPUs.", "lang": "en", "meta": {"title": "Zebra training"}},
]


def load(app, tmp_path) -> dict[str, str]:
    """The records imported; {title: uid}."""
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS), encoding="utf-8")
    assert import_paths(get_db(app), [str(path)], labels_of(app), None).ok
    with get_db(app).reading() as s:
        return dict(s.exec(select(Document.title, Document.uid)).all())


def add_work(app, uid: str, name: str = "alice", spans: int = 2, claim: bool = True) -> None:
    """Someone's layer on the document with spans (and a claim on the first)."""
    with get_db(app).writing() as s:
        doc = s.exec(select(Document).where(Document.uid == uid)).scalars().one()
        layer = Layer(document_id=doc.id, name=name, status="in_progress")
        s.add(layer)
        s.flush()
        made = [
            Span(layer_id=layer.id, start=i, end=i + 3, label="QUANTITY" if i == 0 else "ORG") for i in range(spans)
        ]
        s.add_all(made)
        s.flush()
        if claim:
            s.add(Claim(layer_id=layer.id, quantity_id=made[0].id))


def titles(client, query: str) -> list[str]:
    html = client.get(f"/?{query}", headers=HX).get_data(as_text=True)
    return [r for r in RECORDS_TITLES if f">{r}</a>" in html]


RECORDS_TITLES = [r["meta"]["title"] for r in RECORDS]


def test_query_terms_are_quoted_for_either_engine():
    assert terms("  Huawei  --  910C ") == ["Huawei", "910C"]
    assert fts5_query(['say"x', "910"]) == '{title text} : ("say""x" "910"*) NOT facets : archived'
    assert tsquery(["O'Brien", "a\\b"]) == "'O''Brien' & 'a\\\\b':*"
    assert terms("-- ** !!") == []


def test_search_filters_and_sort(any_app, tmp_path):
    uids = load(any_app, tmp_path)
    client = curator(any_app)
    assert titles(client, "q=huawei") == ["Ascend shipments", "Chips chineses"]
    assert titles(client, "q=HUAW") == ["Ascend shipments", "Chips chineses"]  # the last term is a prefix
    assert titles(client, "q=ascend+910c") == ["Ascend shipments"]  # every term required
    assert titles(client, "q=zebra") == ["Zebra training"]  # titles are searched too
    assert titles(client, "q=o'brien") == ["Export rules"]  # quotes cannot break the query
    assert titles(client, "q=huawei&lang=pt") == ["Chips chineses"]
    assert titles(client, "q=%22%29%28*%3A") == RECORDS_TITLES  # nothing searchable: no search
    html = client.get("/?q=h800", headers=HX).get_data(as_text=True)
    assert 'hx-swap-oob="innerHTML"><span data-testid="document-total">2</span> documents match' in html
    add_work(any_app, uids["Export rules"])
    assert titles(client, "annotator=alice") == ["Export rules"]
    assert titles(client, "status=in_progress") == ["Export rules"]
    assert "Export rules" not in titles(client, "status=todo")
    assert titles(client, "claim=yes") == ["Export rules"]
    assert "Export rules" not in titles(client, "claim=no") and len(titles(client, "claim=no")) == 3
    assert titles(client, "label=QUANTITY") == ["Export rules"]
    page = client.get("/?sort=title", headers=HX).get_data(as_text=True)
    assert sorted(RECORDS_TITLES) == sorted(RECORDS_TITLES, key=page.index)
    page = client.get("/?sort=status", headers=HX).get_data(as_text=True)
    assert page.index("Export rules") < min(page.index(t) for t in RECORDS_TITLES if t != "Export rules")
    bad = client.get("/?sort=nonsense&status=bogus&claim=maybe", headers=HX)  # unknown choices: ignored
    assert bad.status_code == 200 and titles(client, "sort=nonsense&status=bogus") == RECORDS_TITLES


def test_annotators_search_only_their_documents_and_layer(any_app, tmp_path):
    from tests.helpers import give

    uids = load(any_app, tmp_path)
    give(any_app, "bob", [uids["Ascend shipments"]])
    add_work(any_app, uids["Chips chineses"], "alice")
    bob = log_in(any_app, any_app.test_client(), "bob")
    assert titles(bob, "q=huawei") == ["Ascend shipments"]
    assert titles(bob, "claim=yes") == []  # alice's claims are not bob's to see
    assert titles(bob, "shown=archived") == ["Ascend shipments"]  # annotators see no archive


def events(app, action: str) -> list[AuditEvent]:
    with get_db(app).reading() as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def archived(app, uid: str):
    with get_db(app).reading() as s:
        return s.exec(select(Document.archived_at).where(Document.uid == uid)).scalar()


def test_archive_refused_when_a_layer_holds_work_unless_forced(any_app, tmp_path):
    uids = load(any_app, tmp_path)
    uid = uids["Export rules"]
    add_work(any_app, uid, "alice", spans=3)
    add_work(any_app, uid, "gold", spans=1, claim=False)
    admin = log_in(any_app, any_app.test_client(), "boss", "admin")
    refused = admin.post(f"/documents/{uid}/archive")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "alice: 3 spans, 1 claim; gold: 1 span" in page and "Tick “force”" in page
    assert archived(any_app, uid) is None and not events(any_app, "archive_document")
    assert admin.post(f"/documents/{uid}/delete").status_code == 422  # delete refuses alike
    assert admin.post(f"/documents/{uid}/archive", data={"force": "1"}).status_code == 303
    assert archived(any_app, uid) is not None
    (event,) = events(any_app, "archive_document")
    assert event.user == "boss" and event.before["archived_at"] is None and event.after["archived_by"] == "boss"
    assert event.before["layers"]["alice"] == {"spans": 3, "claims": 1}
    assert "Export rules" not in titles(admin, "")  # gone from the list and from search
    assert "Export rules" not in titles(admin, "q=nvidia")
    assert titles(admin, "shown=archived") == ["Export rules"]
    assert admin.post(f"/documents/{uid}/restore").status_code == 303
    assert archived(any_app, uid) is None and events(any_app, "restore_document")[0].before["archived_by"] == "boss"
    assert "Export rules" in titles(admin, "q=nvidia")


def test_delete_keeps_its_history_and_only_admins_may(any_app, tmp_path):
    uids = load(any_app, tmp_path)
    uid = uids["Zebra training"]
    lead = curator(any_app)
    for action in ("archive", "restore", "delete"):
        assert lead.post(f"/documents/{uid}/{action}").status_code == 403
    assert archived(any_app, uid) is None
    admin = log_in(any_app, any_app.test_client(), "boss", "admin")
    assert admin.post("/documents/0000000000000000/archive").status_code == 404
    assert admin.post(f"/documents/{uid}/delete").status_code == 303
    with get_db(any_app).reading() as s:
        assert s.exec(select(Document.id).where(Document.uid == uid)).first() is None
    assert "Zebra training" not in titles(admin, "q=zebra")  # the search index forgot it too
    history = lead.get(f"/history/documents/{uid}").get_data(as_text=True)
    assert "delete document" in history and "Zebra training" in history
