"""Accounts in the browser's forms and the history pages: changing one's own password, an
admin's password resets and role changes (audited, the last admin kept), and the history of
a document and of a user from the audit events, paginated and only for those allowed."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from annotator.db import get_db
from annotator.models import AuditEvent, User
from annotator.team.accounts import AccountError, set_role
from tests.helpers import PASSWORD, add_user, curator, log_in

NEW = "a much newer password"


def user(app, name: str) -> User:
    with get_db(app).reading() as s:
        return s.exec(select(User).where(User.name == name)).scalars().one()


def test_own_password_needs_the_current_one(any_app):
    amy = log_in(any_app, any_app.test_client(), "amy")
    assert amy.get("/users/account").status_code == 200
    before = user(any_app, "amy").password_hash
    for data, reason in (
        ({"current": "wrong password", "password": NEW, "confirm": NEW}, "current password is wrong"),
        ({"current": PASSWORD, "password": NEW, "confirm": NEW + "!"}, "passwords differ"),
        ({"current": PASSWORD, "password": "short", "confirm": "short"}, "too short"),
    ):
        refused = amy.post("/users/account", data=data)
        assert refused.status_code == 422 and reason in refused.get_data(as_text=True).lower(), data
    assert user(any_app, "amy").password_hash == before
    assert amy.post("/users/account", data={"current": PASSWORD, "password": NEW, "confirm": NEW}).status_code == 303
    assert check_password_hash(user(any_app, "amy").password_hash, NEW)
    assert amy.get("/users/account").status_code == 200  # this session goes on
    (event,) = history_events(any_app, "change_own_password")
    assert event.user == "amy" and event.target == "user:amy" and NEW not in str(event.after)


def history_events(app, action: str) -> list[AuditEvent]:
    with get_db(app).reading() as s:
        return s.exec(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_admin_resets_and_changes_roles_audited_but_never_the_last_admin(any_app):
    admin = log_in(any_app, any_app.test_client(), "boss", "admin")
    add_user(any_app, "amy")
    assert admin.post("/users/amy/password", data={"password": NEW, "confirm": NEW}).status_code == 303
    assert admin.post("/users/amy/role", data={"role": "curator"}).status_code == 303
    assert user(any_app, "amy").role == "curator"
    (reset,) = history_events(any_app, "reset_password")
    (role,) = history_events(any_app, "change_role")
    assert (reset.user, reset.target) == ("boss", "user:amy")
    assert (role.before, role.after) == ({"role": "annotator"}, {"role": "curator"})
    # the one admin left cannot be demoted: not by themselves, not by another's hand
    assert admin.post("/users/boss/role", data={"role": "annotator"}).status_code == 422
    cat = log_in(any_app, any_app.test_client(), "cat", "admin")
    assert cat.post("/users/boss/role", data={"role": "annotator"}).status_code == 303  # two admins: fine
    assert user(any_app, "boss").role == "annotator"
    with get_db(any_app).writing() as s, pytest.raises(AccountError, match="only admin"):
        set_role(s, "cat", "curator")
    assert user(any_app, "cat").role == "admin"


def test_history_pages_show_who_what_when_before_after(any_app, tmp_path):
    from tests.web.test_search import add_work, load

    uids = load(any_app, tmp_path)
    uid = uids["Export rules"]
    add_work(any_app, uid)
    admin = log_in(any_app, any_app.test_client(), "boss", "admin")
    assert admin.post(f"/documents/{uid}/archive", data={"force": "1"}).status_code == 303
    assert admin.post(f"/documents/{uid}/restore").status_code == 303
    page = admin.get(f"/history/documents/{uid}").get_data(as_text=True)
    assert page.index("restore document") < page.index("archive document")  # newest first
    assert "&#34;archived_by&#34;: &#34;boss&#34;" in page and "2 events" in page
    assert f'href="/history/documents/{uid}"' in admin.get(f"/documents/{uid}").get_data(as_text=True)
    # per user: what they did and what was done to their account
    add_user(any_app, "amy")
    admin.post("/users/amy/role", data={"role": "curator"})
    mine = admin.get("/history/users/boss").get_data(as_text=True)
    assert "archive document" in mine and "change role" in mine
    assert "change role" in admin.get("/history/users/amy").get_data(as_text=True)
    assert 'href="/history/users/amy"' in admin.get("/users/").get_data(as_text=True)
    # pages of 50, newest first
    with get_db(any_app).writing() as s:
        s.add_all(AuditEvent(user="boss", action=f"step_{i}", target="user:boss") for i in range(60))
    first = admin.get("/history/users/boss").get_data(as_text=True)
    second = admin.get("/history/users/boss?page=2").get_data(as_text=True)
    assert "step 59" in first and "step 5<" not in first and "step 5<" in second and "Page 2 of 2" in second


def test_history_only_for_those_allowed(any_app, tmp_path):
    from tests.web.test_search import load

    uid = load(any_app, tmp_path)["Export rules"]
    amy = log_in(any_app, any_app.test_client(), "amy")
    assert amy.get(f"/history/documents/{uid}").status_code == 403
    assert amy.get("/history/users/boss").status_code == 403
    assert amy.get("/history/users/amy").status_code == 200
    assert curator(any_app).get("/history/documents/ffffffffffffffff").status_code == 404
    assert any_app.test_client().get("/history/users/amy").status_code == 302  # login first
