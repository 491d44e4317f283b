"""`annotator users`: accounts of annotators, curators and admins."""

from __future__ import annotations

from pathlib import Path

import click

from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.models import ROLES
from annotator.team.accounts import (
    AccountError,
    create_user,
    discard_setup_token,
    list_users,
    set_active,
    set_password,
    set_role,
)


@click.group()
def users() -> None:
    """Accounts: annotators, curators and admins.

    Example:

    \b
      annotator users add alice --role annotator
      annotator users list
    """


def _read_password(password_file: str | None) -> str:
    """From a file (first line) or a hidden prompt: never from the command line itself."""
    if password_file:
        try:
            return Path(password_file).read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise click.ClickException(f"{password_file}: cannot read a password from it") from exc
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _write(db_url, action, *args) -> None:
    """Run an account change in one write transaction; its refusal is the command's error.
    Once the change leaves an admin, the project's one-time setup link is deleted."""
    project = open_project(db_url, labels=False)
    try:
        with project.db.writing() as session:
            user = action(session, *args)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    if user.role == "admin":
        discard_setup_token(project.config["INSTANCE_PATH"])


@users.command("add")
@click.argument("name")
@DB_OPTION
@click.option("--role", type=click.Choice(ROLES), default="annotator", show_default=True)
@click.option("--password-file", type=click.Path(dir_okay=False), help="Read the password from this file's first line.")
def users_add(name, db_url, role, password_file):
    """Create an account (the password is prompted for, or read from --password-file).

    Example:

    \b
      annotator users add alice --role curator --password-file secret.txt
    """
    _write(db_url, create_user, name, role, _read_password(password_file))
    click.echo(f"Created {role} {name}.")


@users.command("list")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def users_list(db_url, as_json):
    """List accounts with their role and state.

    Example:

    \b
      annotator users list --json
    """
    with open_project(db_url, labels=False).db.reading() as session:
        rows = [
            {
                "name": u.name,
                "role": u.role,
                "active": u.active,
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in list_users(session)
        ]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['role']:<10} {'active' if row['active'] else 'deactivated'}")


@users.command("deactivate")
@click.argument("name")
@DB_OPTION
def users_deactivate(name, db_url):
    """Stop an account from logging in and end its sessions (its work is kept).

    Example:

    \b
      annotator users deactivate alice
    """
    _write(db_url, set_active, name, False)
    click.echo(f"{name} deactivated.")


@users.command("activate")
@click.argument("name")
@DB_OPTION
def users_activate(name, db_url):
    """Let a deactivated account log in again.

    Example:

    \b
      annotator users activate alice
    """
    _write(db_url, set_active, name, True)
    click.echo(f"{name} reactivated.")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@DB_OPTION
def users_role(name, role, db_url):
    """Give an account another role (its sessions end: it logs in again).

    Example:

    \b
      annotator users role alice curator
    """
    _write(db_url, set_role, name, role)
    click.echo(f"{name} is now {role}.")


@users.command("password")
@click.argument("name")
@DB_OPTION
@click.option("--password-file", type=click.Path(dir_okay=False))
def users_password(name, db_url, password_file):
    """Set a new password (every session of the account ends).

    Example:

    \b
      annotator users password alice
    """
    _write(db_url, set_password, name, _read_password(password_file))
    click.echo(f"Password of {name} changed.")
