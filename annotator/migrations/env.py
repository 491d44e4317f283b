"""Alembic environment: runs the packaged migrations against the URL the app resolved."""

from contextlib import contextmanager

from alembic import context
from sqlmodel import SQLModel

from annotator import models  # noqa: F401  (registers every table on SQLModel.metadata)
from annotator.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    return config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # SQLite cannot ALTER most things in place; batch mode rebuilds tables instead.
    engine = config.attributes.get("engine") or make_engine(database_url())
    with engine.execution_options(write=True).connect() as connection, foreign_keys_off(connection):
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    if "engine" not in config.attributes:
        engine.dispose()


@contextmanager
def foreign_keys_off(connection):
    """SQLite: foreign keys off while the schema changes. Batch mode rebuilds a table by
    copying it and dropping the original, and with foreign keys on, dropping `document`
    would delete every row that refers to it (ON DELETE CASCADE). The pragma only takes
    effect outside a transaction, so it is set on the driver's connection before BEGIN;
    what the migrations left is checked before foreign keys are on again."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.dbapi_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
