"""Assignments with overlap, queues, stale assignments and reassignment."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from annotator.db import get_db
from annotator.models import Document, Layer, Span, utcnow
from annotator.team.accounts import create_user
from annotator.team.assignments import AssignmentError, assign, queue, reassign, stale
from tests.helpers import PASSWORD, log_in


def people(app, *names):
    with get_db(app).writing() as s:
        for name in names:
            create_user(s, name, "annotator", PASSWORD)


def docs(app, n):
    with get_db(app).writing() as s:
        for i in range(n):
            s.add(Document(uid=f"d{i:03d}", text=f"Text number {i}.", lang="en", title=f"t{i}", n_chars=10))


def test_overlap_two_of_five_is_balanced(any_app):
    people(any_app, "a", "b", "c", "d", "e")
    docs(any_app, 10)
    with get_db(any_app).writing() as s:
        report = assign(s, "lead", ["a", "b", "c", "d", "e"], 2)
    assert report.created == 20 and set(report.per_annotator.values()) == {4}
    with get_db(any_app).reading() as s:
        per_doc = Counter(s.exec(select(Layer.document_id)).scalars())
        assert set(per_doc.values()) == {2}
        q = queue(s, "a")
        assert [layer.position for layer, _ in q] == [1, 2, 3, 4] and all(layer.status == "todo" for layer, _ in q)
    with get_db(any_app).writing() as s:  # assigning again adds nothing
        assert assign(s, "lead", ["a", "b", "c", "d", "e"], 2).created == 0


def test_bad_assignments(app):
    people(app, "a", "b")
    docs(app, 2)
    with get_db(app).writing() as s:
        with pytest.raises(AssignmentError, match="overlap 3"):
            assign(s, "lead", ["a", "b"], 3)
        with pytest.raises(AssignmentError, match="no such user"):
            assign(s, "lead", ["a", "zed"], 1)
        with pytest.raises(AssignmentError, match="no such document"):
            assign(s, "lead", ["a", "b"], 1, ["nope"])


def test_stale_and_reassign(app):
    people(app, "a", "b", "c")
    docs(app, 2)
    with get_db(app).writing() as s:
        assign(s, "lead", ["a", "b"], 1)
        s.execute(update(Layer).values(updated_at=utcnow() - timedelta(days=10)))
    with get_db(app).reading() as s:
        old = stale(s, timedelta(days=7))
        assert len(old) == 2 and stale(s, timedelta(days=30)) == []
    untouched, worked = old
    with get_db(app).writing() as s:
        s.add(Span(layer_id=worked.id, start=0, end=4, label="ORG"))
    with get_db(app).writing() as s:
        reassign(s, "lead", untouched.id, "c")
        reassign(s, "lead", worked.id, "c")
    with get_db(app).reading() as s:
        assert s.get(Layer, untouched.id) is None  # nothing lost: it was empty
        kept = s.get(Layer, worked.id)
        assert kept.status == "skipped" and kept.assigned_at is None  # its work stays with its author
        assert len(queue(s, "c")) == 2
    with get_db(app).writing() as s, pytest.raises(AssignmentError, match="already has"):
        layer = s.exec(select(Layer).where(Layer.name == "c")).scalars().first()
        reassign(s, "lead", layer.id, "c")


def test_assign_command(app, cli):
    people(app, "a", "b", "c")
    docs(app, 5)
    url = app.config["DATABASE_URL"]
    out = json.loads(cli("assign", "--db", url, "--annotators", "a,b,c", "-k", "2", "--json").output)
    assert out["created"] == 10 and sum(out["per_annotator"].values()) == 10
    assert (
        "No stale assignments (untouched for 1 day or more)."
        in cli("reassign", "--db", url, "--stale-days", "1").output
    )
    bad = cli("assign", "--db", url, "--annotators", "a,x", "-k", "1")
    assert bad.exit_code == 1 and "no such user" in bad.output


def test_progress_counts_assignments_once_there_are_any(app):
    from annotator.annotate.status import progress

    people(app, "a", "b")
    docs(app, 6)
    with get_db(app).reading() as s:
        assert progress(s, "a") == (0, 6)  # nothing assigned yet: the whole project
    with get_db(app).writing() as s:
        assign(s, "lead", ["a", "b"], 1)
    with get_db(app).writing() as s:
        first = s.exec(select(Layer).where(Layer.name == "a").order_by(Layer.position)).scalars().first()
        first.status = "done"
    with get_db(app).reading() as s:
        assert progress(s, "a") == (1, 3)


def test_workspace_starts_at_the_first_open_assignment(app, client):
    people(app, "a", "b")
    docs(app, 4)
    with get_db(app).writing() as s:
        assign(s, "lead", ["a", "b"], 1)
    with get_db(app).reading() as s:
        first_of_b = queue(s, "b")[0][1].uid
    log_in(app, client, "b")
    response = client.get("/annotate/")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/annotate/{first_of_b}")


def test_order_by_need_hands_out_the_least_sure_first_and_shows_the_figure(any_app):
    people(any_app, "a")
    docs(any_app, 5)
    doubts = {"d000": 0.1, "d001": None, "d002": 0.9, "d003": 0.5, "d004": None}
    with get_db(any_app).writing() as s:
        for uid, doubt in doubts.items():
            s.execute(update(Document).where(Document.uid == uid).values(uncertainty=doubt))
        with pytest.raises(AssignmentError, match="unknown order"):
            assign(s, "lead", ["a"], 1, order="random")
    with get_db(any_app).writing() as s:
        assign(s, "lead", ["a"], 1, order="need")
    with get_db(any_app).reading() as s:
        order = [doc.uid for _layer, doc in queue(s, "a")]
    assert order == ["d002", "d003", "d000", "d001", "d004"]  # unread by any model: last, by arrival
    client = any_app.test_client()
    log_in(any_app, client, "a")
    page = client.get("/assignments/mine").get_data(as_text=True)
    assert "Model doubt" in page and "0.90" in page and page.index("0.90") < page.index("0.50")
