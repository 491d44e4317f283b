"""The mark the database moves whenever the project's data changes.

Triggers on every table a record can draw from keep it (migration 0015 says how, on each
backend); nothing here writes it, so no code path, however it writes, can forget to. Two
reads of the mark that agree mean that no transaction changed the data between them: an
export then knows, without building a record, that its latest version still holds the
data (export/up_to_date.py).
"""

from __future__ import annotations

from sqlalchemy import text

TABLE = "datachange"  # no model: the app never reads or writes its rows as objects
# The schema's revision is part of the mark: a migration that rebuilds a table moves rows
# without firing the triggers. PostgreSQL appends a row per writing transaction, SQLite
# keeps one row whose token every change replaces; either way a later commit moves
# (count, newest id, its token).
_MARK = text(
    f"SELECT (SELECT version_num FROM alembic_version), (SELECT count(*) FROM {TABLE}), id, token "
    f"FROM {TABLE} ORDER BY id DESC LIMIT 1"
)


def data_mark(db) -> str | None:
    """The mark as a new transaction sees it now (None if its table lost every row: then
    no export is taken as unchanged without its full check)."""
    with db.engine.connect() as conn:
        row = conn.execute(_MARK).first()
    return None if row is None else ":".join(str(value) for value in row)


def unmodelled(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: False for the mark's table, which has no model."""
    return not (type_ == "table" and reflected and compare_to is None and name == TABLE)
