"""Accounts: the users command, password hashing, deactivation, login throttling."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from annotator.db import get_db
from annotator.models import User
from annotator.team.accounts import AccountError, Throttled, authenticate, create_user


def test_users_add_list_deactivate(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    secret = tmp_path / "pw"
    secret.write_text("correct horse battery\n")
    assert cli("users", "add", "alice", "--role", "curator", "--password-file", secret, "--db", url).exit_code == 0
    prompted = cli("users", "add", "bob", "--db", url, input="another password\nanother password\n")
    assert prompted.exit_code == 0 and "Created annotator bob" in prompted.output
    assert "another password" not in prompted.output  # the prompt hides it
    rows = json.loads(cli("users", "list", "--json", "--db", url).output)
    assert [(r["name"], r["role"], r["active"]) for r in rows] == [
        ("alice", "curator", True),
        ("bob", "annotator", True),
    ]
    assert cli("users", "deactivate", "bob", "--db", url).exit_code == 0
    assert "deactivated" in cli("users", "list", "--db", url).output
    dup = cli("users", "add", "alice", "--password-file", secret, "--db", url)
    assert dup.exit_code == 1 and "already exists" in dup.output
    short = tmp_path / "short"
    short.write_text("abc")
    bad = cli("users", "add", "carol", "--password-file", short, "--db", url)
    assert bad.exit_code == 1 and "too short" in bad.output
    reserved = cli("users", "add", "gold", "--password-file", secret, "--db", url)
    assert reserved.exit_code == 1 and "user name" in reserved.output


def test_passwords_are_hashed_and_checked(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        create_user(s, "ann", "annotator", "s3cret-pass")
    with db.reading() as s:
        stored = s.exec(select(User.password_hash)).scalar_one()
    assert "s3cret-pass" not in stored and stored.split("$")[0] in ("scrypt:32768:8:1", "pbkdf2:sha256:1000000")
    with db.writing() as s:
        assert authenticate(s, "ann", "s3cret-pass", "127.0.0.1").name == "ann"


def test_failed_logins_are_throttled_per_account(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        create_user(s, "ann", "annotator", "s3cret-pass")
    for _ in range(5):
        with db.writing() as s, pytest.raises(AccountError, match="wrong password"):
            authenticate(s, "ann", "guess", "10.0.0.1")
    with db.writing() as s, pytest.raises(Throttled, match="too many failed logins"):
        authenticate(s, "ann", "s3cret-pass", "10.0.0.2")  # even the right password waits


def test_deactivated_user_cannot_log_in(app):
    db = get_db(app)
    with db.writing() as s:
        user = create_user(s, "ann", "annotator", "s3cret-pass")
        user.active = False
    with db.writing() as s, pytest.raises(AccountError):
        authenticate(s, "ann", "s3cret-pass", "127.0.0.1")
