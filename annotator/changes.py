"""Row-level change sets: what an action inserted, deleted or updated, kept in its audit
event, so that undo and redo replay the exact inverse (same primary keys, so later actions
that refer to a re-created row still find it)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select, update
from sqlmodel import Session

from .models import Claim, Relation, Span, SuggestionDecision

TABLES: dict[str, Table] = {m.__tablename__: m.__table__ for m in (Span, Relation, Claim, SuggestionDecision)}


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


def _restored(table: Table, row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if value is not None and key in table.c and "DateTime" in type(table.c[key].type).__name__:
            value = datetime.fromisoformat(value)
        out[key] = value
    return out


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
    return [{"table": c["table"], "op": flip[c["op"]], "before": c["after"], "after": c["before"]}
            for c in reversed(changes)]


def replay(session: Session, changes: list[dict]) -> None:
    """Apply recorded changes again, rows keeping their ids."""
    conn = session.connection()
    for change in changes:
        table = TABLES[change["table"]]
        if change["op"] == "insert":
            conn.execute(insert(table).values(**_restored(table, change["after"])))
        elif change["op"] == "delete":
            conn.execute(delete(table).where(table.c.id == change["before"]["id"]))
        else:
            row = _restored(table, change["after"])
            conn.execute(update(table).where(table.c.id == row["id"]).values(**row))
