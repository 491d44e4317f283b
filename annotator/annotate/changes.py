"""Row-level change sets: what an action inserted, deleted or updated, kept in its audit
event, so that undo and redo replay the exact inverse (same primary keys, so later actions
that refer to a re-created row still find it)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from itertools import groupby
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlmodel import Session

from annotator.models import Claim, LinkDecision, Relation, Span, SuggestionDecision

TABLES: dict[str, Table] = {
    m.__tablename__: m.__table__ for m in (Span, Relation, Claim, SuggestionDecision, LinkDecision)
}
# The unique key a bulk insert matches its returned rows on.
UNIQUE = {"span": ("layer_id", "start", "end", "label"), "suggestiondecision": ("layer_id", "suggestion_id")}


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def _restored(table: Table, row: dict) -> dict:
    dates = _date_columns(table)
    return {k: (datetime.fromisoformat(v) if v is not None and k in dates else v) for k, v in row.items()}


@cache
def _date_columns(table: Table) -> frozenset[str]:
    return frozenset(c.name for c in table.c if "DateTime" in type(c.type).__name__)


class ChangeSet:
    """Applies row changes inside the caller's transaction and remembers them. Each change
    is one statement that also reads the row back (RETURNING), so the audit trail costs
    no extra round trip."""

    def __init__(self, session: Session):
        self.session = session
        self.items: list[dict] = []

    def _run(self, statement, table: Table) -> dict | None:
        found = self.session.connection().execute(statement.returning(*table.c)).mappings().first()
        return _jsonable(dict(found)) if found else None

    def _row(self, table: Table, row_id: int) -> dict | None:
        found = self.session.connection().execute(select(table).where(table.c.id == row_id)).mappings().first()
        return _jsonable(dict(found)) if found else None

    def insert(self, name: str, values: dict[str, Any]) -> int:
        table = TABLES[name]
        after = self._run(insert(table).values(**values), table)
        self.items.append({"table": name, "op": "insert", "before": None, "after": after})
        return after["id"]

    def insert_many(self, name: str, rows: list[dict]) -> list[int]:
        """insert() for many rows in a few statements (RETURNING the rows): accepting 3,000
        suggestions is a handful of statements instead of 12,000. Returns the new ids in the
        order of `rows`, matched on the table's unique key: asking the database to keep the
        order (sort_by_parameter_order) makes SQLite send one row per statement."""
        if not rows:
            return []
        table, unique = TABLES[name], UNIQUE[name]
        result = self.session.connection().execute(insert(table).returning(*table.c), rows)
        by_key = {tuple(row[k] for k in unique): _jsonable(dict(row)) for row in result.mappings()}
        inserted = [by_key[tuple(row[k] for k in unique)] for row in rows]
        self.items.extend({"table": name, "op": "insert", "before": None, "after": row} for row in inserted)
        return [row["id"] for row in inserted]

    def delete(self, name: str, row_id: int) -> dict:
        table = TABLES[name]
        before = self._run(delete(table).where(table.c.id == row_id), table)
        self.items.append({"table": name, "op": "delete", "before": before, "after": None})
        return before

    def update(self, name: str, row_id: int, **values) -> None:
        table = TABLES[name]
        before = self._row(table, row_id)
        after = self._run(update(table).where(table.c.id == row_id).values(**values), table)
        self.items.append({"table": name, "op": "update", "before": before, "after": after})


def inverse(changes: list[dict]) -> list[dict]:
    flip = {"insert": "delete", "delete": "insert", "update": "update"}
    return [
        {"table": c["table"], "op": flip[c["op"]], "before": c["after"], "after": c["before"]}
        for c in reversed(changes)
    ]


BATCH = 500  # rows per IN (...) list, well under every database's parameter limit


def replay(session: Session, changes: list[dict]) -> None:
    """Apply recorded changes again, rows keeping their ids. Runs of inserts or deletes on
    one table go out as one statement each (per BATCH rows): undoing "accept all" on a long
    document replays thousands of rows."""
    conn = session.connection()
    for (name, op), run in groupby(changes, key=lambda c: (c["table"], c["op"])):
        table = TABLES[name]
        run = list(run)
        if op == "insert":
            conn.execute(insert(table), [_restored(table, c["after"]) for c in run])
        elif op == "delete":
            ids = [c["before"]["id"] for c in run]
            for i in range(0, len(ids), BATCH):
                conn.execute(delete(table).where(table.c.id.in_(ids[i : i + BATCH])))
        else:
            for change in run:
                row = _restored(table, change["after"])
                conn.execute(update(table).where(table.c.id == row["id"]).values(**row))
