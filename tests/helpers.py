"""Logging a test client in as a real account, as a browser would: the login form with
its CSRF token, then the token in the X-CSRFToken header of every later request (as the
page's htmx requests send it)."""

from __future__ import annotations

import re

from annotator.db import get_db
from annotator.team.accounts import create_user, find_user

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(app, name: str, role: str = "annotator", password: str = PASSWORD) -> None:
    with get_db(app).writing() as s:
        if find_user(s, name) is None:
            create_user(s, name, role, password)


def csrf_token(client, path: str = "/login") -> str:
    return TOKEN.search(client.get(path).get_data(as_text=True)).group(1)


def log_in(app, client, name: str, role: str = "annotator"):
    """Create `name` with `role` if new and log `client` in as them; returns the client."""
    add_user(app, name, role)
    client.environ_base.pop("HTTP_X_CSRFTOKEN", None)
    token = csrf_token(client)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


def give(app, name: str, uids: list[str] | None = None) -> None:
    """Assign documents (all when `uids` is None) to annotator `name`, creating the account:
    annotators see only what is assigned to them."""
    from annotator.team.assignments import assign

    add_user(app, name)
    with get_db(app).writing() as s:
        assign(s, "lead", [name], 1, uids)


def curator(app, name: str = "lead"):
    """A test client logged in as a curator (curators see every document and layer)."""
    return log_in(app, app.test_client(), name, "curator")


def browser_log_in(page, base: str, name: str, password: str = PASSWORD) -> None:
    """Log a Playwright page in through the login form, as a person would."""
    page.goto(f"{base}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)
