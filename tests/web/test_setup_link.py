"""The one-time setup link: the same link across restarts until it is used, deleted whenever
an admin is created (command line, accounts page, the link itself), never honoured once any
admin has existed, and a dead or unknown link says so (404)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from annotator.db import get_db
from annotator.models import User
from annotator.team.accounts import SETUP_TOKEN_FILE, create_user
from annotator.web.auth import issue_setup_token
from tests.conftest import make_test_app
from tests.helpers import PASSWORD, add_user, csrf_token, log_in

DEAD = "setup link is no longer valid"


def accounts(app) -> list[tuple[str, str, bool]]:
    with get_db(app).reading() as s:
        return sorted((u.name, u.role, u.active) for u in s.exec(select(User)).scalars())


def token_file(app):
    return Path(app.instance_path) / SETUP_TOKEN_FILE


def try_setup(app, token: str, name: str = "mallory"):
    """Open the link and submit it as a browser would; returns the two responses."""
    client = app.test_client()
    page = client.get(f"/setup/{token}")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    csrf = found.group(1) if found else csrf_token(client)  # a dead link's page has no form
    made = client.post(
        f"/setup/{token}", data={"csrf_token": csrf, "name": name, "password": PASSWORD, "confirm": PASSWORD}
    )
    return page, made


def assert_dead(app, token: str) -> None:
    before = accounts(app)
    page, made = try_setup(app, token)
    assert page.status_code == 404 and made.status_code == 404
    text = page.get_data(as_text=True)
    assert DEAD in text and "removed" not in text
    assert accounts(app) == before


def test_the_same_link_across_restarts_until_it_is_used(app, tmp_path):
    token = issue_setup_token(app)
    assert token and issue_setup_token(app) == token
    restarted = make_test_app(tmp_path)  # the same instance folder
    try:
        assert issue_setup_token(restarted) == token
        page, made = try_setup(restarted, token, "boss")
        assert page.status_code == 200 and made.status_code == 302
    finally:
        get_db(restarted).dispose()
    assert accounts(app) == [("boss", "admin", True)]
    with get_db(app).reading() as s:  # setting up was the admin's first login
        assert s.exec(select(User.last_login_at)).scalar_one() is not None
    assert not token_file(app).exists()
    assert_dead(app, token)


def test_a_token_file_from_an_older_version_is_replaced(app):
    """Older versions kept a hash of the token, which cannot print the link again."""
    token_file(app).parent.mkdir(parents=True, exist_ok=True)
    token_file(app).write_text("0" * 64)
    token = issue_setup_token(app)
    assert token and token != "0" * 64 and token_file(app).read_text() == token
    assert_dead(app, "0" * 64)


def test_unknown_links_say_so(app):
    issue_setup_token(app)
    assert_dead(app, "wrong-token")
    assert accounts(app) == []


def test_an_admin_from_the_command_line_kills_the_link_for_good(app, cli, tmp_path):
    token = issue_setup_token(app)
    url = app.config["DATABASE_URL"]
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    assert cli("users", "add", "boss", "--role", "admin", "--password-file", secret, "--db", url).exit_code == 0
    assert not token_file(app).exists()
    assert_dead(app, token)
    assert cli("users", "deactivate", "boss", "--db", url).exit_code == 0  # no active admin left
    assert_dead(app, token)
    assert issue_setup_token(app) is None  # and no new link either
    assert accounts(app) == [("boss", "admin", False)]


def test_a_role_change_to_admin_kills_the_link(app, cli):
    token = issue_setup_token(app)
    add_user(app, "amy")
    assert cli("users", "role", "amy", "admin", "--db", app.config["DATABASE_URL"]).exit_code == 0
    assert not token_file(app).exists()
    assert_dead(app, token)


def test_the_link_is_dead_once_an_admin_ever_existed_even_if_the_file_survived(app):
    token = issue_setup_token(app)
    add_user(app, "boss", "admin")  # made without touching the file (another instance folder, say)
    with get_db(app).writing() as s:
        s.exec(select(User).where(User.name == "boss")).scalar_one().active = False
    assert token_file(app).exists()
    assert_dead(app, token)
    assert not token_file(app).exists()  # cleaned up on the way


def test_an_admin_made_on_the_accounts_page_deletes_the_link(app):
    token = issue_setup_token(app)
    admin = log_in(app, app.test_client(), "boss", "admin")  # made without touching the file
    assert token_file(app).exists()
    made = admin.post("/users/", data={"name": "second", "role": "admin", "password": PASSWORD, "confirm": PASSWORD})
    assert made.status_code == 303
    assert not token_file(app).exists()
    assert_dead(app, token)


def test_the_last_admin_cannot_be_demoted_so_the_link_stays_dead(app, cli):
    """Were the only admin demoted, no admin row would be left to say one existed."""
    url = app.config["DATABASE_URL"]
    with get_db(app).writing() as s:
        create_user(s, "root", "admin", "a long enough password")
    refused = cli("users", "role", "root", "annotator", "--db", url)
    assert refused.exit_code != 0 and "only admin account" in refused.output
    with get_db(app).reading() as s:
        assert s.exec(select(User.role).where(User.name == "root")).scalar_one() == "admin"
    with get_db(app).writing() as s:
        create_user(s, "second", "admin", "a long enough password")
    assert cli("users", "role", "root", "annotator", "--db", url).exit_code == 0  # another admin exists now
