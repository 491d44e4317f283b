"""Requests no page sends, on SQLite and PostgreSQL: ids past the database's integers, pages
of 10^20, NUL characters in the address, digits of other scripts, numbers the form does not
write, the same id twice. Each gets a 4xx with its reason, and nothing stored changes."""

from __future__ import annotations

import json
from html import unescape

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, Suggestion, SuggestionDecision
from annotator.nlp.tokenizer import tokenize
from annotator.tokens import pack
from tests.helpers import give, log_in

TEXT = "Nvidia sold 50,000 chips in 2023 for 5 billion dollars."
HX = {"HX-Request": "true"}
TABLES = (Span, Relation, Claim, Layer, AuditEvent, SuggestionDecision)


@pytest.fixture
def project(any_app):
    app = any_app
    app.testing = False  # answer as in production: an uncaught error would be a 500 page
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with get_db(app).writing() as s:
        doc = Document(
            uid="doc1", text=TEXT, lang="en", title="t", n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en"))
        )
        s.add(doc)
        s.flush()
        for start, end, label in ((0, 6, "ORG"), (12, 18, "QUANTITY")):
            s.add(Suggestion(document_id=doc.id, start=start, end=end, label=label, origin="model"))
    give(app, "alice", ["doc1"])
    return app


def counts(app) -> dict:
    with get_db(app).reading() as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


def version(app) -> int:
    with get_db(app).reading() as s:
        return s.exec(select(Layer.version).where(Layer.name == "alice")).scalar() or 0


@pytest.mark.parametrize(
    "method, path, status, reason",
    [
        ("POST", "/annotate/doc1/spans/9223372036854775808", 404, "Not Found"),
        ("POST", "/annotate/doc1/spans/2147483648/delete", 404, "Not Found"),
        ("POST", "/annotate/doc1/claims/99999999999999999999/delete", 404, "Not Found"),
        ("GET", "/documents/ab%00c", 400, "NUL character"),
        ("GET", "/annotate/doc1%00", 400, "NUL character"),
        ("GET", "/?lang=%00", 400, "NUL character"),
        ("GET", "/?q%00=1", 400, "NUL character"),
    ],
)
def test_addresses_no_page_has(project, method, path, status, reason):
    alice = log_in(project, project.test_client(), "alice")
    before = counts(project)
    response = alice.open(path, method=method, data={"version": 0}, headers=HX)
    assert response.status_code == status and reason in response.get_data(as_text=True)
    assert counts(project) == before


@pytest.mark.parametrize("path", ["/?page=100000000000000000000", "/curate/?page=100000000000000000000", "/?page=-3"])
def test_a_page_past_the_end_is_the_last_page(project, path):
    lead = log_in(project, project.test_client(), "lead", "curator")
    assert lead.get(path).status_code == 200


def test_offsets_in_other_scripts_and_numbers_the_form_does_not_write(project):
    alice = log_in(project, project.test_client(), "alice")
    before = counts(project)
    arabic = alice.post(
        "/annotate/doc1/spans", data={"version": 0, "start": "١", "end": "6", "label": "ORG"}, headers=HX
    )
    assert arabic.status_code == 422 and counts(project) == before
    span = alice.post(
        "/annotate/doc1/spans", data={"version": 0, "start": "12", "end": "18", "label": "QUANTITY"}, headers=HX
    )
    assert span.status_code == 200
    with get_db(project).reading() as s:
        quantity = s.exec(select(Span.id).where(Span.label == "QUANTITY")).scalar_one()
    before = counts(project)
    for value in ("1,2,3", "١٢", "12,5", "1e999", "0x10"):
        bad = alice.post(
            "/annotate/doc1/claims",
            data={"version": version(project), "quantity_id": quantity, "value": value},
            headers=HX,
        )
        assert bad.status_code == 422, value
        assert "is not a" in bad.get_data(as_text=True), value  # a number / a finite number
    assert counts(project) == before
    good = alice.post(
        "/annotate/doc1/claims",
        data={"version": version(project), "quantity_id": quantity, "value": "50,000.5"},
        headers=HX,
    )
    assert good.status_code == 200
    with get_db(project).reading() as s:
        assert (
            s.get(Span, quantity).value == 50000.5 and s.exec(select(func.count()).select_from(Claim)).scalar_one() == 1
        )


def test_the_same_suggestion_twice_in_one_accept_is_accepted_once(project):
    alice = log_in(project, project.test_client(), "alice")
    with get_db(project).reading() as s:
        sid = s.exec(select(Suggestion.id).where(Suggestion.label == "ORG")).scalar_one()
    response = alice.post(
        "/annotate/doc1/decide", data={"version": 0, "decision": "accepted", "ids": f"{sid},{sid}"}, headers=HX
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert counts(project)["Span"] == 1 and counts(project)["SuggestionDecision"] == 1


def test_one_claim_per_quantity_and_labels_from_the_configuration(project):
    alice = log_in(project, project.test_client(), "alice")
    alice.post("/annotate/doc1/spans", data={"version": 0, "start": "12", "end": "18", "label": "QUANTITY"}, headers=HX)
    with get_db(project).reading() as s:
        quantity = s.exec(select(Span.id).where(Span.label == "QUANTITY")).scalar_one()
        orgs = s.exec(select(Suggestion.id).where(Suggestion.label == "ORG")).scalar_one()
    first = alice.post("/annotate/doc1/claims", data={"version": version(project), "quantity_id": quantity}, headers=HX)
    assert first.status_code == 200
    before = counts(project)
    second = alice.post(
        "/annotate/doc1/claims", data={"version": version(project), "quantity_id": quantity}, headers=HX
    )
    assert second.status_code == 422 and "carries a claim already" in second.get_data(as_text=True)
    for data, reason in (
        ({"decision": "accepted", "ids": orgs, "as_label": "NOT_A_LABEL"}, "unknown label 'not_a_label'"),
        ({"decision": "rejected", "ids": orgs, "as_label": "PRODUCT"}, "another label is for accepting one"),
    ):
        refused = alice.post("/annotate/doc1/decide", data={"version": version(project), **data}, headers=HX)
        assert refused.status_code == 422 and reason in unescape(refused.get_data(as_text=True)).lower()
    assert counts(project) == before


def test_names_ignore_case_and_only_annotators_are_assigned(project, cli, tmp_path):
    url = project.config["DATABASE_URL"]
    secret = tmp_path / "password"
    secret.write_text("a long enough password\n")
    assert cli("users", "add", "Alice", "--password-file", secret, "--db", url).exit_code != 0  # alice exists
    log_in(project, project.test_client(), "lead", "curator")
    with get_db(project).reading() as s:
        layers_before = s.exec(select(func.count()).select_from(Layer)).scalar_one()
    curator = cli("assign", "--db", url, "--annotators", "alice,lead", "-k", "1")
    assert curator.exit_code == 1 and "only annotators are assigned documents, not lead (curator)" in curator.output
    data = tmp_path / "layer.jsonl"
    data.write_text(json.dumps({"text": TEXT}) + "\n", encoding="utf-8")
    for layer, reason in (("ALICE", "'alice' exists already (names ignore case)"), ("no spaces", "a person's name")):
        refused = cli("import", "--db", url, "--layer", layer, data)
        assert refused.exit_code != 0 and reason in refused.output, refused.output
    with get_db(project).reading() as s:
        assert s.exec(select(func.count()).select_from(Layer)).scalar_one() == layers_before
