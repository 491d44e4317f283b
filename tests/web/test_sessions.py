"""Sessions end when they should: logout, a new password (CLI and web), deactivation and a
role change end every session of that user, saved copies of the cookie included, and a
replayed cookie reads and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.models import AuditEvent, Document, Layer, Span, User
from annotator.nlp.tokenizer import tokenize
from annotator.tokens import pack
from tests.helpers import PASSWORD, csrf_token, give, log_in

TEXT = "Huawei makes the Ascend 910C in Shenzhen; it has 64 GB of memory."
HX = {"HX-Request": "true"}
LAYER = "/documents/doc1/layers/alice.json"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def project(any_app):
    with get_db(any_app).writing() as s:
        s.add(
            Document(
                uid="doc1", text=TEXT, lang="en", title="doc1", n_chars=len(TEXT), tokens=pack(tokenize(TEXT, "en"))
            )
        )
    give(any_app, "alice", ["doc1"])
    return any_app


def stored(app) -> dict:
    with get_db(app).reading() as s:
        tables = {
            m.__name__: s.exec(select(func.count()).select_from(m)).scalar_one() for m in (Span, Layer, AuditEvent)
        }
        users = {u.name: (u.role, u.active) for u in s.exec(select(User)).scalars()}
    return {**tables, "users": users}


def span(start_word: str = "Huawei", version: int = 0) -> dict:
    start = TEXT.index(start_word)
    return {"start": start, "end": start + len(start_word), "label": "ORG", "version": version}


def saved_copy(app, client):
    """A second client holding a copy of `client`'s session cookie and CSRF token, as an
    attacker who copied them would."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    copy.environ_base["HTTP_X_CSRFTOKEN"] = client.environ_base["HTTP_X_CSRFTOKEN"]
    return copy


def assert_refused(app, copy) -> None:
    """The copied cookie reads no layer and writes no span; nothing stored changes."""
    before = stored(app)
    read = copy.get(LAYER)
    assert read.status_code == 302 and read.headers["Location"].startswith("/login")
    assert copy.get(LAYER, headers=HX).status_code == 401
    write = copy.post("/annotate/doc1/spans", data=span("Shenzhen"), headers=HX)
    assert 400 <= write.status_code < 500, write.status_code
    assert copy.post("/annotate/doc1/spans", data=span("Shenzhen")).status_code in (400, 401)
    assert stored(app) == before


def logged_in_with_a_copy(app):
    alice = log_in(app, app.test_client(), "alice")
    copy = saved_copy(app, alice)
    assert copy.get(LAYER).status_code == 200  # the copy works while the session lives
    assert copy.post("/annotate/doc1/spans", data=span(), headers=HX).status_code == 200
    return alice, copy


def test_logout_ends_every_session_copies_included(project):
    alice, copy = logged_in_with_a_copy(project)
    elsewhere = log_in(project, project.test_client(), "alice")  # a second browser
    token = alice.environ_base["HTTP_X_CSRFTOKEN"]
    out = alice.post("/logout")
    assert out.status_code == 302
    assert_refused(project, copy)
    assert_refused(project, alice)
    assert_refused(project, elsewhere)
    # the session was emptied: the old CSRF token is worthless even on the login form
    stale = alice.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert stale.status_code == 400 and alice.get("/").status_code == 302
    again = log_in(project, project.test_client(), "alice")  # a new login works
    assert again.get(LAYER).status_code == 200
    assert again.post("/annotate/doc1/spans", data=span("Shenzhen", version=1), headers=HX).status_code == 200
    assert_refused(project, copy)  # and revives no old copy


def test_a_new_password_from_the_command_line_ends_every_session(project, cli, db_url, tmp_path):
    _, copy = logged_in_with_a_copy(project)
    secret = tmp_path / "new-password"
    secret.write_text(NEW_PASSWORD + "\n")
    assert cli("users", "password", "alice", "--password-file", secret, "--db", db_url).exit_code == 0
    assert_refused(project, copy)
    client = project.test_client()
    token = csrf_token(client)
    assert client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token}).status_code == 401
    assert (
        client.post("/login", data={"name": "alice", "password": NEW_PASSWORD, "csrf_token": token}).status_code == 302
    )
    assert client.get(LAYER).status_code == 200


@pytest.mark.parametrize("change", [("deactivate", "alice"), ("role", "alice", "curator")], ids=["deactivate", "role"])
def test_deactivation_and_a_role_change_from_the_command_line_end_every_session(project, cli, db_url, change):
    _, copy = logged_in_with_a_copy(project)
    assert cli("users", *change, "--db", db_url).exit_code == 0
    assert_refused(project, copy)
    if change[0] == "deactivate":
        assert cli("users", "activate", "alice", "--db", db_url).exit_code == 0
        assert_refused(project, copy)  # reactivation revives no old session
    else:
        assert stored(project)["users"]["alice"] == ("curator", True)
    fresh = log_in(project, project.test_client(), "alice")
    assert fresh.get(LAYER).status_code == 200


def test_an_admin_ends_a_users_sessions_on_the_web(project):
    admin = log_in(project, project.test_client(), "boss", "admin")
    for path, data in (
        ("/users/alice/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
        ("/users/alice/role", {"role": "curator"}),
        ("/users/alice/active", {"active": "0"}),
    ):
        alice = project.test_client()
        token = csrf_token(alice)
        password = NEW_PASSWORD if path != "/users/alice/password" else PASSWORD
        assert (
            alice.post("/login", data={"name": "alice", "password": password, "csrf_token": token}).status_code == 302
        )
        alice.environ_base["HTTP_X_CSRFTOKEN"] = token
        copy = saved_copy(project, alice)
        assert copy.get(LAYER).status_code == 200
        assert admin.post(path, data=data).status_code == 303, path
        assert_refused(project, copy)
        assert_refused(project, alice)
    assert stored(project)["users"]["alice"] == ("curator", False)
    assert admin.get("/users/").status_code == 200  # the admin's own session goes on


def test_an_admin_changing_their_own_password_stays_logged_in_elsewhere_not(project):
    admin = log_in(project, project.test_client(), "boss", "admin")
    other = saved_copy(project, admin)
    changed = admin.post("/users/boss/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 303
    assert admin.get("/users/").status_code == 200
    assert other.get("/users/").status_code == 302


def test_bad_password_and_role_changes_are_refused_and_nothing_stored(project):
    admin = log_in(project, project.test_client(), "boss", "admin")
    alice = log_in(project, project.test_client(), "alice")
    before = stored(project)
    for path, data, status in (
        ("/users/alice/password", {"password": "short", "confirm": "short"}, 422),
        ("/users/alice/password", {"password": NEW_PASSWORD, "confirm": "something else"}, 422),
        ("/users/nobody/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, 404),
        ("/users/alice/role", {"role": "owner"}, 422),
        ("/users/nobody/role", {"role": "curator"}, 404),
        ("/users/boss/role", {"role": "annotator"}, 422),  # not your own
    ):
        assert admin.post(path, data=data).status_code == status, (path, data)
    assert alice.post("/users/alice/role", data={"role": "admin"}).status_code == 403
    assert stored(project) == before
    assert alice.get(LAYER).status_code == 200  # a refused change ends no session


def test_a_cookie_from_before_generations_is_refused(project):
    """A session stored the bare user id before 0008: it names no generation and loads nobody."""
    alice = log_in(project, project.test_client(), "alice")
    with alice.session_transaction() as session:
        session["_user_id"] = session["_user_id"].split(":")[0]
    assert alice.get(LAYER).status_code == 302
