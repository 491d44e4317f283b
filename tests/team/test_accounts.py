"""Accounts: the users command, password hashing, deactivation, login throttling, and the
session generation that logout, a new password, deactivation and a role change bump."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text

from annotator.db import get_db
from annotator.models import LoginFailure, User, utcnow
from annotator.team.accounts import (
    AccountError,
    Throttled,
    authenticate,
    create_user,
    end_sessions,
    set_active,
    set_password,
    set_role,
)


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


def test_failed_logins_are_throttled_per_account_and_address(any_app):
    """Five wrong passwords from one address stop that address trying that account, even
    with the right password; the owner, from an address that has not failed, still gets in
    (a stranger cannot lock anyone out)."""
    db = get_db(any_app)
    with db.writing() as s:
        create_user(s, "ann", "annotator", "s3cret-pass")
    for _ in range(5):
        with db.writing() as s, pytest.raises(AccountError, match="wrong password"):
            authenticate(s, "ann", "guess", "10.0.0.1")
    with db.writing() as s, pytest.raises(Throttled, match="too many failed logins"):
        authenticate(s, "ann", "s3cret-pass", "10.0.0.1")  # that address waits, right password or not
    with db.writing() as s:
        assert authenticate(s, "ann", "s3cret-pass", "10.0.0.2").name == "ann"


def test_parallel_guesses_are_counted_one_at_a_time(any_app):
    """40 wrong passwords at once for one account from one address: exactly five are
    checked (and recorded), the rest refused by the count."""
    db = get_db(any_app)
    with db.writing() as s:
        create_user(s, "ann", "annotator", "s3cret-pass")

    def guess(_):
        with db.writing() as s:  # as the login view does: the failure is committed
            try:
                authenticate(s, "ann", "guess", "10.0.0.9")
            except Throttled:
                return "throttled"
            except AccountError:
                return "checked"
        return "in"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = Counter(pool.map(guess, range(40)))
    assert outcomes == {"checked": 5, "throttled": 35}
    with db.reading() as s:
        assert s.exec(select(func.count()).select_from(LoginFailure)).scalar_one() == 5


def test_an_unknown_name_costs_a_password_check_like_a_known_one(app, monkeypatch):
    """No telling which names exist by the time a wrong password takes: both check a hash."""
    import annotator.team.accounts as accounts

    checks = []
    real = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    db = get_db(app)
    with db.writing() as s:
        create_user(s, "ann", "annotator", "s3cret-pass")
    for name in ("ann", "nobody"):
        with db.writing() as s, pytest.raises(AccountError, match="unknown user or wrong password"):
            authenticate(s, name, "guess", "10.0.0.3")
    assert len(checks) == 2 and checks[0].split("$")[0] == checks[1].split("$")[0]  # the same kind of hash


def test_failures_past_the_window_are_pruned(app):
    db = get_db(app)
    with db.writing() as s:
        s.add(LoginFailure(name="old", address="10.0.0.4", at=utcnow() - timedelta(hours=2)))
    with db.writing() as s, pytest.raises(AccountError):
        authenticate(s, "ann", "guess", "10.0.0.5")
    with db.reading() as s:
        assert s.exec(select(LoginFailure.name)).scalars().all() == ["ann"]


def test_deactivated_user_cannot_log_in(app):
    db = get_db(app)
    with db.writing() as s:
        user = create_user(s, "ann", "annotator", "s3cret-pass")
        user.active = False
    with db.writing() as s, pytest.raises(AccountError):
        authenticate(s, "ann", "s3cret-pass", "127.0.0.1")


def generations(db) -> dict[str, tuple[str, bool, int]]:
    with db.reading() as s:
        return {u.name: (u.role, u.active, u.session_generation) for u in s.exec(select(User)).scalars()}


def test_each_session_ending_change_bumps_the_generation_and_nothing_else_does(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        ann = create_user(s, "ann", "annotator", "s3cret-pass")
        create_user(s, "bob", "annotator", "s3cret-pass")
        ann_id = ann.id
    assert generations(db) == {"ann": ("annotator", True, 0), "bob": ("annotator", True, 0)}
    for change, expected in (
        (lambda s: set_password(s, "ann", "another-pass"), ("annotator", True, 1)),
        (lambda s: set_role(s, "ann", "curator"), ("curator", True, 2)),
        (lambda s: set_role(s, "ann", "curator"), ("curator", True, 2)),  # no change: sessions live
        (lambda s: set_active(s, "ann", False), ("curator", False, 3)),
        (lambda s: set_active(s, "ann", False), ("curator", False, 3)),
        (lambda s: set_active(s, "ann", True), ("curator", True, 4)),
        (lambda s: end_sessions(s, ann_id), ("curator", True, 5)),
    ):
        with db.writing() as s:
            change(s)
        assert generations(db)["ann"] == expected
    assert generations(db)["bob"] == ("annotator", True, 0)  # another user's sessions live on


def test_refused_changes_bump_nothing(any_app):
    db = get_db(any_app)
    with db.writing() as s:
        create_user(s, "ann", "annotator", "s3cret-pass")
    before = generations(db)
    for change, error in (
        (lambda s: set_role(s, "ann", "owner"), "role"),
        (lambda s: set_password(s, "ann", "short"), "too short"),
        (lambda s: set_role(s, "nobody", "curator"), "no user"),
    ):
        with pytest.raises(AccountError, match=error), db.writing() as s:
            change(s)
    assert generations(db) == before


def test_users_role_on_the_command_line(cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    secret = tmp_path / "pw"
    secret.write_text("correct horse battery\n")
    assert cli("users", "add", "alice", "--password-file", secret, "--db", url).exit_code == 0
    changed = cli("users", "role", "alice", "curator", "--db", url)
    assert changed.exit_code == 0 and "alice is now curator" in changed.output
    assert cli("users", "role", "nobody", "curator", "--db", url).exit_code == 1
    assert cli("users", "role", "alice", "owner", "--db", url).exit_code == 2  # not a role
    rows = json.loads(cli("users", "list", "--json", "--db", url).output)
    assert [(r["name"], r["role"]) for r in rows] == [("alice", "curator")]


def test_migration_0008_gives_existing_users_generation_zero_and_goes_back(db_url):
    """Existing accounts get generation 0 on the way up; the column goes on the way down."""
    from alembic import command

    from annotator.db import Database, alembic_config, ensure_schema

    db = Database(url=db_url)
    try:
        ensure_schema(db)
        with db.writing() as s:
            create_user(s, "ann", "annotator", "s3cret-pass")
        config = alembic_config(db_url)
        command.downgrade(config, "0007")
        assert "session_generation" not in {c["name"] for c in inspect(db.engine).get_columns("user")}
        with db.engine.begin() as conn:
            conn.execute(
                text("""INSERT INTO "user" (name, role, active, created_at) VALUES ('old', 'curator', true, :at)"""),
                {"at": "2026-01-01 00:00:00"},
            )
        command.upgrade(config, "head")
        assert {k: v[2] for k, v in generations(db).items()} == {"ann": 0, "old": 0}
        with db.writing() as s:
            assert authenticate(s, "ann", "s3cret-pass", "127.0.0.1").session_generation == 0
    finally:
        db.dispose()
