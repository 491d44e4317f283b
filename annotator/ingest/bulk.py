"""Bulk inserts handed straight to the database driver.

Core's executemany runs every value of every row through SQLAlchemy's parameter
processing (JSON through json.dumps, timestamps through the dialect's processor): for
the ~200,000 rows of a 10,000-document import that cost more than the inserts. Here rows
are tuples already in the driver's terms: JSON as text (json_text), a timestamp processed
once (bound), and ids drawn up front (new_ids), so nothing has to be read back.
Supports the project's two drivers: sqlite3 (qmark) and psycopg (which takes %s).
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Column, Table, func, select, text

_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # psycopg's pyformat also takes %s


def json_text(value) -> str:
    """A JSON column's value as the driver takes it (None is JSON null, as SQLAlchemy stores it)."""
    return orjson.dumps(value).decode()


def bound(conn, column: Column, value):
    """`value` as SQLAlchemy would bind it to `column` (a timestamp is text on SQLite)."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process else value


def insert_rows(conn, table: Table, columns: Sequence[str], rows: list[tuple], staged: bool = False) -> None:
    """One executemany of `rows`, tuples in the order of `columns`.

    `staged` (SQLite): the rows go to a temporary table first and then into `table` in one
    INSERT ... SELECT. For a table with a per-row trigger into FTS5 that is what makes bulk
    inserts cheap: FTS5 writes its pending terms out at every statement, so executemany's
    statement per row leaves one tiny index segment per row to merge (3.3 s for 10,000
    seed-sized documents, against 1.2 s staged)."""
    if not rows:
        return
    dialect = conn.dialect
    mark = _MARKS.get(dialect.paramstyle)
    if mark is None:  # pragma: no cover - the project runs on sqlite3 and psycopg only
        raise RuntimeError(f"bulk inserts need a positional paramstyle, not {dialect.paramstyle}")
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    target = dialect.identifier_preparer.format_table(table)
    marks = ", ".join([mark] * len(columns))
    if not (staged and dialect.name == "sqlite"):
        conn.exec_driver_sql(f"INSERT INTO {target} ({names}) VALUES ({marks})", rows)
        return
    stage = quote(f"staged_{table.name}")
    conn.exec_driver_sql(f"CREATE TEMP TABLE {stage} AS SELECT {names} FROM {target} WHERE 0")
    try:
        conn.exec_driver_sql(f"INSERT INTO temp.{stage} ({names}) VALUES ({marks})", rows)
        conn.exec_driver_sql(f"INSERT INTO {target} ({names}) SELECT {names} FROM temp.{stage}")
    finally:
        conn.exec_driver_sql(f"DROP TABLE temp.{stage}")


def new_ids(conn, table: Table, n: int) -> Sequence[int]:
    """Primary keys for n rows this transaction is about to insert.

    SQLite: the ones after the highest in use, or ever used where the table never reuses
    ids (AUTOINCREMENT keeps that in sqlite_sequence); a write transaction holds the
    database's write lock from its BEGIN IMMEDIATE, so nobody else takes them. PostgreSQL:
    drawn from the column's sequence, as an insert would.
    """
    if n == 0:
        return []
    if conn.dialect.name == "sqlite":
        top = conn.execute(select(func.max(table.c.id))).scalar() or 0
        if table.kwargs.get("sqlite_autoincrement"):
            used = text("SELECT seq FROM sqlite_sequence WHERE name = :name")
            top = max(top, conn.execute(used, {"name": table.name}).scalar() or 0)
        return range(top + 1, top + n + 1)
    sequence = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    quoted = conn.dialect.identifier_preparer.format_table(table)
    return conn.execute(sequence, {"table": quoted, "n": n}).scalars().all()
