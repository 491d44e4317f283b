"""The assignment pages: a curator assigns (k per document, balanced), follows progress and
hands stale work over; an annotator sees and works through their queue. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from annotator.annotate.status import set_status
from annotator.db import get_db
from annotator.models import AuditEvent, Document, Layer, utcnow
from annotator.team.assignments import assign
from tests.helpers import add_user, log_in

ANNOTATORS = ["ann1", "ann2", "ann3", "ann4", "ann5"]
HX = {"HX-Request": "true"}


def add_documents(app, n: int, title: str = "Document {i}") -> list[str]:
    with get_db(app).writing() as s:
        docs = [
            Document(uid=f"doc{i}", text=f"Text number {i}.", lang="en", title=title.format(i=i), n_chars=15)
            for i in range(n)
        ]
        s.add_all(docs)
    return [d.uid for d in docs]


def assigned(app) -> list[tuple[str, str, str]]:
    """(document uid, annotator, status) of every assignment."""
    with get_db(app).reading() as s:
        return sorted(
            s.exec(
                select(Document.uid, Layer.name, Layer.status)
                .join(Document, Document.id == Layer.document_id)
                .where(Layer.assigned_at.is_not(None))
            ).all()
        )


def audit_count(app) -> int:
    with get_db(app).reading() as s:
        return s.exec(select(func.count()).select_from(AuditEvent)).scalar_one()


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def team(any_app):
    """Five annotators, seven documents, and a curator's logged-in client."""
    for name in ANNOTATORS:
        add_user(any_app, name)
    add_documents(any_app, 7)
    return any_app, log_in(any_app, any_app.test_client(), "lead", "curator")


def test_assigning_from_the_page_balances_k_per_document(team):
    app, curator = team
    page = text(curator.get("/assignments/"))
    assert all(f'name="annotators" value="{n}"' in page for n in ANNOTATORS)
    answer = curator.post(
        "/assignments/assign", headers=HX, data={"annotators": ANNOTATORS, "overlap": "2", "scope": "all"}
    )
    assert answer.status_code == 200
    assert "14 new assignments over 7 documents" in text(answer)
    rows = assigned(app)
    per_doc = Counter(uid for uid, _, _ in rows)
    per_annotator = Counter(name for _, name, _ in rows)
    assert set(per_doc.values()) == {2} and len(per_doc) == 7
    assert set(per_annotator) == set(ANNOTATORS)
    assert max(per_annotator.values()) - min(per_annotator.values()) <= 1
    assert all(status == "todo" for _, _, status in rows)
    # the answer's table counts what is stored
    assert re.search(r'data-annotator="ann1">\s*<td>ann1</td>\s*<td class="num" data-count="assigned">3<', text(answer))


def test_only_unassigned_or_listed_documents_and_the_plain_form(team):
    app, curator = team
    with get_db(app).writing() as s:
        assign(s, "lead", ["ann1"], 1, ["doc0", "doc1"])
    answer = curator.post(
        "/assignments/assign", data={"annotators": ["ann2", "ann3"], "overlap": "1", "scope": "unassigned", "days": "3"}
    )
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/assignments/?days=3")
    assert "5 new assignments over 5 documents" in text(curator.get("/assignments/?days=3"))  # flashed
    assert {uid for uid, name, _ in assigned(app) if name != "ann1"} == {f"doc{i}" for i in range(2, 7)}
    answer = curator.post(
        "/assignments/assign",
        headers=HX,
        data={"annotators": ["ann4"], "overlap": "1", "scope": "listed", "documents": "doc0, doc5\ndoc0"},
    )
    assert answer.status_code == 200
    assert {uid for uid, name, _ in assigned(app) if name == "ann4"} == {"doc0", "doc5"}


@pytest.mark.parametrize(
    "form, message",
    [
        ({"annotators": ["ann1", "ann2"], "overlap": "3"}, "Overlap 3 needs between 1 and 2 annotators"),
        ({"annotators": ["ann1", "ghost"], "overlap": "1"}, "No such user(s): ghost"),
        ({"annotators": ANNOTATORS, "overlap": "0"}, "Overlap 0 needs between 1 and 5 annotators"),
        ({"annotators": ANNOTATORS, "overlap": "two"}, "The overlap k must be a whole number"),
        ({"overlap": "1"}, "Choose at least one annotator"),
        (
            {"annotators": ANNOTATORS, "overlap": "1", "scope": "listed", "documents": "doc1 nope"},
            "No such document(s): nope",
        ),
        (
            {"annotators": ANNOTATORS, "overlap": "1", "scope": "listed", "documents": " "},
            "List the ids of the documents",
        ),
    ],
)
def test_a_bad_assignment_answers_422_with_the_message_and_stores_nothing(team, form, message):
    app, curator = team
    before = audit_count(app)
    answer = curator.post("/assignments/assign", headers=HX, data={"scope": "all", **form})
    assert answer.status_code == 422
    assert message in text(answer)
    assert assigned(app) == [] and audit_count(app) == before


def test_a_refused_plain_form_shows_the_page_with_the_message(team):
    app, curator = team
    answer = curator.post("/assignments/assign", data={"annotators": ["ann1", "ghost"], "overlap": "1", "scope": "all"})
    assert answer.status_code == 422
    page = text(answer)
    assert "No such user(s): ghost" in page and 'id="assign-form"' in page
    assert assigned(app) == []


def test_nothing_left_to_assign_is_said_and_stores_nothing(team):
    app, curator = team
    with get_db(app).writing() as s:
        assign(s, "lead", ANNOTATORS, 1)
    before, events = assigned(app), audit_count(app)
    answer = curator.post(
        "/assignments/assign", headers=HX, data={"annotators": ["ann1"], "overlap": "1", "scope": "unassigned"}
    )
    assert answer.status_code == 422 and "Every document already has annotators" in text(answer)
    assert assigned(app) == before and audit_count(app) == events


def test_annotators_may_not_see_or_post_to_the_curators_page(team):
    app, _ = team
    with get_db(app).writing() as s:
        assign(s, "lead", ["ann1"], 1, ["doc0"])
        layer_id = s.exec(select(Layer.id).where(Layer.name == "ann1")).scalar_one()
    before, events = assigned(app), audit_count(app)
    annotator = log_in(app, app.test_client(), "ann1")
    assert annotator.get("/assignments/").status_code == 403
    assert "/assignments/mine" in text(annotator.get("/assignments/mine"))  # their nav still works
    assert 'href="/assignments/"' not in text(annotator.get("/assignments/mine"))
    answer = annotator.post("/assignments/assign", headers=HX, data={"annotators": ANNOTATORS, "overlap": "2"})
    assert answer.status_code == 403
    assert annotator.post(f"/assignments/{layer_id}/reassign", data={"to": "ann2"}).status_code == 403
    assert assigned(app) == before and audit_count(app) == events


def test_the_queue_lists_exactly_my_documents_with_status_and_progress(team):
    app, _ = team
    with get_db(app).writing() as s:
        assign(s, "lead", ["ann1"], 1, ["doc3", "doc1", "doc5"])
        assign(s, "lead", ["ann2"], 1, ["doc0", "doc1"])
        doc1 = s.exec(select(Document).where(Document.uid == "doc1")).scalars().one()
        set_status(s, doc1, "ann1", "ann1", 0, "done")
    page = text(log_in(app, app.test_client(), "ann1").get("/assignments/mine"))
    listed = re.findall(r'<a href="/annotate/(doc\d)">', page)
    assert listed == ["doc1", "doc3", "doc5"]  # queue order (positions follow document ids)
    statuses = re.findall(r'data-status="(\w+)"', page)
    assert statuses == ["done", "todo", "todo"]
    assert '<progress max="3" value="1"' in page and "<b>1</b> of 3 done" in page
    empty = text(log_in(app, app.test_client(), "ann3").get("/assignments/mine"))
    assert "Nothing is assigned to you yet" in empty and "<progress" not in empty


def test_skip_and_put_back_from_the_queue(team):
    app, _ = team
    with get_db(app).writing() as s:
        assign(s, "lead", ["ann1"], 1, ["doc0"])
        assign(s, "lead", ["ann2"], 1, ["doc1"])
        mine, other = (s.exec(select(Layer.id).where(Layer.name == n)).scalar_one() for n in ("ann1", "ann2"))
    client = log_in(app, app.test_client(), "ann1")
    answer = client.post(f"/assignments/mine/{mine}/status", headers=HX, data={"action": "skip", "version": "0"})
    assert answer.status_code == 200 and 'data-status="skipped"' in text(answer) and "Skipped" in text(answer)
    stale_tab = client.post(f"/assignments/mine/{mine}/status", headers=HX, data={"action": "reopen", "version": "0"})
    assert stale_tab.status_code == 409
    assert [s for _, n, s in assigned(app) if n == "ann1"] == ["skipped"]
    answer = client.post(f"/assignments/mine/{mine}/status", data={"action": "reopen", "version": "1"})
    assert answer.status_code == 303 and [s for _, n, s in assigned(app) if n == "ann1"] == ["todo"]
    refused = client.post(f"/assignments/mine/{other}/status", headers=HX, data={"action": "skip", "version": "0"})
    assert refused.status_code == 404 and [s for _, n, s in assigned(app) if n == "ann2"] == ["todo"]


def test_stale_assignments_show_and_reassigning_moves_the_layer(team):
    app, curator = team
    with get_db(app).writing() as s:
        assign(s, "lead", ["ann1"], 1, ["doc0", "doc1"])
        old = s.exec(
            select(Layer.id).join(Document, Document.id == Layer.document_id).where(Document.uid == "doc0")
        ).scalar_one()
        s.execute(update(Layer).where(Layer.id == old).values(updated_at=utcnow() - timedelta(days=10)))
    page = text(curator.get("/assignments/"))  # seven days by default
    assert re.findall(r'data-layer="(\d+)"', page) == [str(old)]
    assert "(10 days ago)" in page
    assert 'data-layer="' not in text(curator.get("/assignments/?days=30"))
    offered = re.search(r'<select name="to"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert "ann2" in offered and "ann1" not in offered  # the holder is not offered their own document
    answer = curator.post(f"/assignments/{old}/reassign", headers=HX, data={"to": "ann2", "days": "7"})
    assert answer.status_code == 200 and "from ann1 to ann2" in text(answer)
    assert 'data-layer="' not in text(answer)  # the new assignment is fresh
    assert [(u, n) for u, n, _ in assigned(app)] == [("doc0", "ann2"), ("doc1", "ann1")]
    with get_db(app).reading() as s:
        assert s.get(Layer, old) is None  # untouched: the layer moved rather than staying behind
        assert s.exec(select(AuditEvent.action).where(AuditEvent.action == "reassign")).all()
    again = curator.post(f"/assignments/{old}/reassign", headers=HX, data={"to": "ann3"})
    assert again.status_code == 422 and f"No assignment {old}" in text(again)


def test_posts_without_the_csrf_token_are_refused(team):
    app, curator = team
    with get_db(app).writing() as s:
        assign(s, "lead", ["ann1"], 1, ["doc0"])
        layer_id = s.exec(select(Layer.id)).scalar_one()
    annotator = log_in(app, app.test_client(), "ann1")
    before, events = assigned(app), audit_count(app)
    for client in (curator, annotator):
        client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert curator.post("/assignments/assign", data={"annotators": ANNOTATORS, "overlap": "2"}).status_code == 400
    assert curator.post(f"/assignments/{layer_id}/reassign", data={"to": "ann2"}).status_code == 400
    assert (
        annotator.post(f"/assignments/mine/{layer_id}/status", data={"action": "skip", "version": "0"}).status_code
        == 400
    )
    assert assigned(app) == before and audit_count(app) == events


def test_titles_and_names_are_escaped(any_app):
    add_user(any_app, "ann1")
    add_documents(any_app, 1, title="<script>alert({i})</script>")
    with get_db(any_app).writing() as s:
        assign(s, "lead", ["ann1"], 1)
        s.execute(update(Layer).values(updated_at=utcnow() - timedelta(days=8)))
    for client, path in (
        (log_in(any_app, any_app.test_client(), "ann1"), "/assignments/mine"),
        (log_in(any_app, any_app.test_client(), "lead", "curator"), "/assignments/"),
    ):
        page = text(client.get(path))
        assert "<script>alert(0)" not in page and "&lt;script&gt;alert(0)&lt;/script&gt;" in page
