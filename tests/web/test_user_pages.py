"""The admin's accounts page: list, create, deactivate and activate; nobody else may."""

from __future__ import annotations

from sqlalchemy import select

from annotator.db import get_db
from annotator.models import User
from tests.helpers import PASSWORD, add_user, log_in


def users(app) -> dict[str, tuple[str, bool]]:
    with get_db(app).reading() as s:
        return {u.name: (u.role, u.active) for u in s.exec(select(User)).scalars()}


def test_an_admin_creates_and_deactivates_accounts(any_app):
    admin = log_in(any_app, any_app.test_client(), "boss", "admin")
    page = admin.get("/users/")
    assert page.status_code == 200 and 'data-user="boss"' in page.get_data(as_text=True)
    made = admin.post("/users/", data={"name": "amy", "role": "annotator", "password": PASSWORD, "confirm": PASSWORD})
    assert made.status_code == 303
    assert "Created annotator amy." in admin.get("/users/").get_data(as_text=True)
    assert users(any_app)["amy"] == ("annotator", True)
    log_in(any_app, any_app.test_client(), "amy")  # the new account works
    assert admin.post("/users/amy/active", data={"active": "0"}).status_code == 303
    assert users(any_app)["amy"] == ("annotator", False)
    assert admin.post("/users/amy/active", data={"active": "1"}).status_code == 303
    assert users(any_app)["amy"] == ("annotator", True)


def test_bad_accounts_are_refused_with_the_reason_and_nothing_stored(any_app):
    admin = log_in(any_app, any_app.test_client(), "boss", "admin")
    before = users(any_app)
    for data, reason in (
        ({"name": "gold", "role": "annotator"}, "user name"),
        ({"name": "two words", "role": "annotator"}, "user name"),
        ({"name": "cid", "role": "owner"}, "role"),
        ({"name": "cid", "role": "annotator", "password": "short", "confirm": "short"}, "too short"),
        ({"name": "cid", "role": "annotator", "confirm": "something else"}, "passwords differ"),
        ({"name": "boss", "role": "annotator"}, "already exists"),
    ):
        response = admin.post("/users/", data={"password": PASSWORD, "confirm": PASSWORD, **data})
        assert response.status_code == 422, data
        assert reason in response.get_data(as_text=True).lower(), data
    assert admin.post("/users/boss/active", data={"active": "0"}).status_code == 422  # not yourself
    assert admin.post("/users/nobody/active", data={"active": "0"}).status_code == 404
    assert users(any_app) == before


def test_only_admins_manage_accounts(any_app):
    add_user(any_app, "amy")
    before = users(any_app)
    for role in ("annotator", "curator"):
        client = log_in(any_app, any_app.test_client(), f"a-{role}", role)
        before = users(any_app)
        assert client.get("/users/").status_code == 403
        assert (
            client.post(
                "/users/", data={"name": "eve", "role": "admin", "password": PASSWORD, "confirm": PASSWORD}
            ).status_code
            == 403
        )
        assert client.post("/users/amy/active", data={"active": "0"}).status_code == 403
        assert users(any_app) == before
    anonymous = any_app.test_client()
    assert anonymous.get("/users/").headers["Location"].startswith("/login")
