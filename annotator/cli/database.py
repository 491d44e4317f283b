"""`annotator db`: the database schema."""

from __future__ import annotations

import click

from annotator.cli.common import DB_OPTION
from annotator.config import load
from annotator.db import Database, current_revision, head_revision, upgrade


@click.group()
def db() -> None:
    """Database schema (Alembic migrations).

    Example:

    \b
      annotator db upgrade --db postgresql://user@localhost/claims
    """


@db.command("upgrade")
@DB_OPTION
def db_upgrade(db_url):
    """Create or upgrade the database schema to the current version.

    Example:

    \b
      annotator db upgrade
    """
    database = Database(url=db_url or load()["DATABASE_URL"])
    before, after = current_revision(database.engine), head_revision()
    if before != after:  # a current database needs no Alembic (~0.2 s to import)
        upgrade(database.engine.url.render_as_string(hide_password=False))
    click.echo(
        f"Database at revision {after}" + (" (already current)." if before == after else f" (was {before or 'empty'}).")
    )
