"""Every write route fed generated forms, as an admin (who may reach them all): no answer is
a 500, and a refused request (4xx) stores nothing. `FUZZ_EXAMPLES` makes the run longer, as
`make fuzz` does for the importers."""

from __future__ import annotations

import os
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, Suggestion, SuggestionDecision
from annotator.nlp.tokenizer import tokenize
from annotator.tokens import pack
from tests.conftest import make_test_app
from tests.helpers import give, log_in

TEXT = "Nvidia sold 50,000 H100 chips in 2023 😀 for about 5 billion dollars."
TABLES = (Span, Relation, Claim, Layer, AuditEvent, SuggestionDecision)
SKIP = {"auth.login", "auth.logout", "auth.setup"}  # sessions and accounts have tests of their own
FIELDS = [
    "version",
    "start",
    "end",
    "label",
    "ids",
    "decision",
    "scope",
    "as_label",
    "quantity_id",
    "value",
    "unit",
    "entity_id",
    "property_id",
    "property_text",
    "condition_id",
    "modifiers",
    "status",
    "head_id",
    "child_id",
    "kind",
    "key",
    "annotator",
    "to",
    "name",
    "role",
]
values = st.one_of(
    st.integers(-3, 80).map(str),
    st.sampled_from(["0", "1", "2", "ORG", "QUANTITY", "accepted", "rejected", "done", "span", "alice", "IsCount"]),
    st.sampled_from(["9223372036854775808", "١", "1,2,3", "1e999", "", " ", "-1", "a,b", "1,1"]),
    st.text(alphabet=string.printable + "😀é\u200b", max_size=10),
)
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=6)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    app = make_test_app(tmp_path_factory.mktemp("routes"))
    app.testing = False  # as in production: an uncaught error answers 500
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with get_db(app).writing() as s:
        doc = Document(
            uid="doc1", text=TEXT, lang="en", title="t", n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en"))
        )
        s.add(doc)
        s.flush()
        for start, end, label in ((0, 6, "ORG"), (12, 18, "QUANTITY"), (19, 23, "PRODUCT")):
            s.add(Suggestion(document_id=doc.id, start=start, end=end, label=label, origin="model"))
    give(app, "alice", ["doc1"])
    admin = log_in(app, app.test_client(), "root", "admin")
    routes = sorted(
        re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", lambda m: "1" if m.group(1) in ("int", "id") else "doc1", r.rule)
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and r.endpoint not in SKIP
    )
    yield app, admin, routes
    get_db(app).dispose()


def counts(app) -> dict:
    with get_db(app).reading() as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), form=forms, htmx=st.booleans())
def test_no_write_route_answers_500_and_a_refusal_stores_nothing(site, data, form, htmx):
    app, admin, routes = site
    path = data.draw(st.sampled_from(routes))
    before = counts(app)
    response = admin.post(path, data=form, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code < 500, (path, form, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert counts(app) == before, (path, form, response.status_code)
