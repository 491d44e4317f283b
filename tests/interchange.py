"""Helpers shared by the tests of importing and exporting layers in every format."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
from sqlalchemy import func, select

from annotator.db import get_db
from annotator.export.publish import export
from annotator.ingest.pipeline import import_layer
from annotator.models import document_uid
from annotator.project import labels_of

DATA = Path(__file__).resolve().parent / "data"
LABELS = DATA / "interchange_labels.json"  # the default labels plus ENTITY, HAS_QUANTITY, ... (see docs/formats.md)
TEXT = "Huawei makes the Ascend 910C 🚀,\r\nwith up to 1.1 TB/s of memory bandwidth."


def run_import(app, paths, layer="alice", fmt="jsonl", **kw):
    return import_layer(get_db(app), [str(p) for p in paths], labels_of(app), layer, fmt, **kw)


def run_export(app, tmp_path, layer="alice", fmt="jsonl", name=None, **kw):
    return export(
        get_db(app), labels_of(app), layer, name=name or f"{layer}-{fmt}", out_dir=tmp_path / "exports", fmt=fmt, **kw
    )


def records(result) -> list[dict]:
    return [orjson.loads(line) for line in (result.path / "data.jsonl").read_bytes().splitlines()]


def annotations(record: dict) -> dict:
    """What must survive a round trip: spans, relations and claims (not ids of the layer or origins)."""
    spans = [{k: v for k, v in s.items() if k != "origin"} for s in record["spans"]]
    return {"text": record["text"], "spans": spans, "relations": record["relations"], "claims": record["claims"]}


def count(app, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    with get_db(app).reading() as session:
        return session.exec(query).scalar_one()


def write_jsonl(path: Path, rows) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def at(text: str, part: str, nth: int = 1) -> tuple[int, int]:
    start = -1
    for _ in range(nth):
        start = text.index(part, start + 1)
    return start, start + len(part)


def our_record(text: str = TEXT, product: str = "Ascend 910C", **extra) -> dict:
    q = at(text, "up to 1.1 TB/s")
    return {
        "id": document_uid(text),
        "text": text,
        **extra,
        "spans": [
            {"id": "s1", "start": 0, "end": 6, "label": "ORG", "text": "Huawei"},
            {
                "id": "s2",
                **dict(zip(("start", "end"), at(text, product))),
                "label": "PRODUCT",
                "meta": {"note": "chip"},
            },
            {
                "id": "s3",
                "start": q[0],
                "end": q[1],
                "label": "QUANTITY",
                "value": 1.1,
                "unit": "TB/s",
                "qualifier": "up_to",
            },
            {"id": "s4", **dict(zip(("start", "end"), at(text, "memory bandwidth"))), "label": "PROPERTY"},
        ],
        "relations": [{"id": "r1", "head": "s1", "child": "s2", "label": "MAKES"}],
        "claims": [
            {
                "id": "c1",
                "quantity": "s3",
                "entity": "s2",
                "property": {"span": "s4"},
                "condition": None,
                "modifiers": ["IsApproximate"],
                "time": None,
                "source": None,
            }
        ],
    }


def ann_lines(path: Path) -> list[str]:
    return sorted(line for line in path.read_text(encoding="utf-8").split("\n") if line)


def exported_files(result) -> dict[str, Path]:
    return {p.name: p for p in (result.path / "brat").rglob("*") if p.is_file()}
