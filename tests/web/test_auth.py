"""Logins, CSRF, cookies and roles through the web: every route but login, setup and static
files needs a login; annotators see only their own layer and their assigned documents, and
what they may not do is refused (401/403) with nothing stored."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.models import AuditEvent, Claim, Document, Layer, Relation, Span, SuggestionDecision, User
from annotator.nlp.tokenizer import tokenize
from annotator.team.accounts import set_active
from annotator.tokens import pack
from annotator.web.auth import PUBLIC_ENDPOINTS, issue_setup_token
from tests.helpers import PASSWORD, add_user, csrf_token, curator, give, log_in

TEXT = "Huawei makes the Ascend 910C in Shenzhen; it has 64 GB of memory."
HX = {"HX-Request": "true"}
TABLES = (Span, Relation, Claim, Layer, AuditEvent, SuggestionDecision, User)
SAMPLE = {"uid": "doc1", "name": "alice", "token": "not-a-token", "filename": "css/app.css"}
CURATOR_BLUEPRINTS = (
    "curation",
    "gold",
    "reports",
    "users",
    "history",
    "exports",
    "upload",
    "jobs",
)  # users: admins only
# an annotator's own queue, account and history (SAMPLE's name is alice, the one logged in)
OWN = ("assignments.mine", "assignments.queue_status", "users.account", "history.user")


@pytest.fixture
def project(app):
    """doc1 assigned to alice, doc2 to bob; a curator named lead."""
    with get_db(app).writing() as s:
        for uid in ("doc1", "doc2"):
            s.add(
                Document(uid=uid, text=TEXT, lang="en", title=uid, n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en")))
            )
    give(app, "alice", ["doc1"])
    give(app, "bob", ["doc2"])
    add_user(app, "lead", "curator")
    return app


def counts(app) -> dict:
    with get_db(app).reading() as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


def url_of(rule) -> str:
    """A concrete URL for a rule: documents are doc1, ids 1, other values from SAMPLE."""
    return re.sub(
        r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
        lambda m: "1" if m.group(1) in ("int", "id") else SAMPLE.get(m.group(2), "x"),
        rule.rule,
    )


def walk(app):
    """(endpoint, method, url) for every registered route and method."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url_of(rule)


def test_every_route_but_login_setup_and_static_needs_a_login(project):
    client = project.test_client()
    before = counts(project)
    seen = 0
    for endpoint, method, url in walk(project):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        seen += 1
        response = client.open(url, method=method)
        if method == "GET":
            assert response.status_code == 302, (endpoint, url, response.status_code)
            assert response.headers["Location"].startswith("/login"), (endpoint, url)
        else:
            assert response.status_code == 401, (endpoint, method, url, response.status_code)
        assert client.open(url, method=method, headers=HX).headers.get("HX-Redirect", "").startswith("/login")
    assert seen >= 30  # the walk really covered the app (workspace, gold, curation, reports, ...)
    assert counts(project) == before
    assert client.get("/login").status_code == 200 and client.get("/static/css/app.css").status_code == 200


def test_annotators_are_refused_curator_pages_and_other_peoples_documents(project):
    client = log_in(project, project.test_client(), "alice")
    before = counts(project)
    refused = []
    for endpoint, method, url in walk(project):
        blueprint = endpoint.split(".")[0]
        if endpoint not in OWN and (blueprint in CURATOR_BLUEPRINTS or blueprint == "assignments"):
            response = client.open(url, method=method, data={"version": 0}, headers=HX)
            assert response.status_code == 403, (endpoint, method, url, response.status_code)
            refused.append(endpoint)
    assert {
        "gold.page",
        "gold.span_add",
        "reports.agreement",
        "curation.index",
        "assignments.overview",
        "history.document",
        "users.role",
    } <= set(refused)
    assert client.get("/users/account").status_code == 200  # one's own account page
    assert client.get("/history/users/bob").status_code == 403  # not another's history
    # bob's document: neither the view, the workspace nor a write
    assert client.get("/documents/doc2").status_code == 403
    assert client.get("/annotate/doc2").status_code == 403
    start = TEXT.index("Huawei")
    write = client.post(
        "/annotate/doc2/spans", data={"start": start, "end": start + 6, "label": "ORG", "version": 0}, headers=HX
    )
    assert write.status_code == 403 and "not assigned to you" in write.get_data(as_text=True)
    # another annotator's layer, even of a document alice has
    give(project, "bob", ["doc1"])
    before = counts(project)
    assert client.get("/documents/doc1/layers/bob.json").status_code == 403
    assert client.get("/documents/doc1/layers/gold.json").status_code == 403
    assert client.get("/documents/doc1/layers/alice.json").status_code == 200
    assert counts(project) == before


def test_annotators_work_blind_on_their_assigned_documents(project):
    alice = log_in(project, project.test_client(), "alice")
    listing = alice.get("/").get_data(as_text=True)
    assert 'data-uid="doc1"' in listing and 'data-uid="doc2"' not in listing
    assert alice.get("/annotate/").headers["Location"].endswith("/annotate/doc1")
    start = TEXT.index("Huawei")
    assert (
        alice.post(
            "/annotate/doc1/spans", data={"start": start, "end": start + 6, "label": "ORG", "version": 0}, headers=HX
        ).status_code
        == 200
    )
    record = alice.get("/documents/doc1/layers/alice.json").get_json()
    assert [(s["text"], s["label"]) for s in record["spans"]] == [("Huawei", "ORG")]
    lead = curator(project)
    everything = lead.get("/").get_data(as_text=True)
    assert 'data-uid="doc1"' in everything and 'data-uid="doc2"' in everything
    assert lead.get("/documents/doc1/layers/alice.json").get_json()["spans"][0]["text"] == "Huawei"
    assert lead.get("/reports/agreement").status_code == 200


def test_writes_need_the_csrf_token(project):
    client = log_in(project, project.test_client(), "alice")
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    before = counts(project)
    start = TEXT.index("Huawei")
    data = {"start": start, "end": start + 6, "label": "ORG", "version": 0}
    missing = client.post("/annotate/doc1/spans", data=data, headers=HX)
    forged = client.post("/annotate/doc1/spans", data=data, headers={**HX, "X-CSRFToken": token[:-4] + "AAAA"})
    assert missing.status_code == forged.status_code == 400
    assert "CSRF" in missing.get_data(as_text=True)
    assert counts(project) == before
    assert client.post("/annotate/doc1/spans", data=data, headers={**HX, "X-CSRFToken": token}).status_code == 200
    other = project.test_client()  # a token from another session is worthless
    assert other.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token}).status_code == 400


def test_session_cookie_is_httponly_samesite_and_secure_over_https(project):
    for base, secure in (("http://localhost", False), ("https://localhost", True)):
        client = project.test_client()
        token = csrf_token(client)
        response = client.post(
            "/login",
            base_url=base,
            headers={"Referer": f"{base}/login"},  # checked over HTTPS
            data={"name": "alice", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure, cookie


def test_login_logout_and_no_open_redirect(project):
    client = project.test_client()
    token = csrf_token(client)
    wrong = client.post("/login", data={"name": "alice", "password": "nope-nope", "csrf_token": token})
    assert wrong.status_code == 401 and "wrong password" in wrong.get_data(as_text=True).lower()
    evil = client.post(
        "/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"}
    )
    assert evil.status_code == 302 and evil.headers["Location"] == "/"
    assert ">alice<" in client.get("/").get_data(as_text=True)
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 302
    assert client.get("/").headers["Location"] == "/login?next=/"  # back to the page asked for
    assert client.get("/?page=2").headers["Location"] == "/login?next=/?page%3D2"
    back = log_in(project, project.test_client(), "alice")
    assert back.get("/annotate/doc1").status_code == 200


def test_repeated_failed_logins_are_throttled_over_the_web(project):
    client = project.test_client()
    token = csrf_token(client)
    for _ in range(5):
        assert (
            client.post("/login", data={"name": "alice", "password": "guess-guess", "csrf_token": token}).status_code
            == 401
        )
    right = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert right.status_code == 429 and "too many failed logins" in right.get_data(as_text=True).lower()
    assert client.get("/").headers["Location"].startswith("/login")  # still not logged in


def test_a_deactivated_account_loses_its_session(project):
    client = log_in(project, project.test_client(), "alice")
    assert client.get("/annotate/doc1").status_code == 200
    with get_db(project).writing() as s:
        set_active(s, "alice", False)
    assert client.get("/annotate/doc1").headers["Location"].startswith("/login")


def test_the_one_time_setup_link_creates_the_first_admin_only(app):
    token = issue_setup_token(app)
    client = app.test_client()
    assert client.get("/setup/wrong-token").status_code == 404
    page = client.get(f"/setup/{token}")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    short = client.post(
        f"/setup/{token}", data={"csrf_token": csrf, "name": "boss", "password": "short", "confirm": "short"}
    )
    assert short.status_code == 422 and counts(app)["User"] == 0
    made = client.post(
        f"/setup/{token}", data={"csrf_token": csrf, "name": "boss", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert made.status_code == 302
    with get_db(app).reading() as s:
        assert [(u.name, u.role) for u in s.exec(select(User)).scalars()] == [("boss", "admin")]
    assert ">boss<" in client.get("/").get_data(as_text=True)
    assert app.test_client().get(f"/setup/{token}").status_code == 404  # used up
    assert issue_setup_token(app) is None  # an admin exists: no new link


def test_forms_holding_nul_characters_are_refused_on_every_database(any_app):
    """PostgreSQL stores no NUL in text, nor takes one as a query parameter: a form holding
    one is refused with the reason before any view reads it, on every page."""
    add_user(any_app, "alice")
    before = counts(any_app)
    client = any_app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"name": "ali\x00ce", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 422 and "NUL character (U+0000)" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in
    assert counts(any_app) == before
    log_in(any_app, client, "alice")  # the same form without it works
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("proxies, counted", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_the_address_a_failure_counts_against_follows_the_trusted_proxies(tmp_path, proxies, counted):
    """Behind a reverse proxy every client has the proxy's address; TRUSTED_PROXIES says how
    many proxies' X-Forwarded-For to believe (none by default: the header is ignored)."""
    from annotator.models import LoginFailure
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, TRUSTED_PROXIES=proxies)
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"name": "nobody", "password": "guess-guess", "csrf_token": token},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert response.status_code == 401
    with get_db(app).reading() as s:
        assert s.exec(select(LoginFailure.address)).scalars().all() == [counted]
    get_db(app).dispose()
