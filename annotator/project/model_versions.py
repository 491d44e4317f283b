"""The project's trained models: each `annotator train` run is kept with its figures, and
one may be active (pre-highlighting and re-suggesting use it when no model is named).

A model lives in its folder (pipeline, labels, metrics.json, meta.json); the project keeps
where it is and a copy of its figures, so listing models opens no folder and loads no spaCy.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import select, update

from annotator.db import Database
from annotator.models import ModelVersion


class ModelError(ValueError):
    pass


def read_model_folder(path: str | Path) -> tuple[dict, dict]:
    """(meta, metrics) of a model folder `annotator train` wrote; ModelError naming what is missing."""
    folder = Path(path)
    found = {}
    for name in ("meta.json", "metrics.json"):
        file = folder / name
        if not file.is_file():
            raise ModelError(f"{folder}: not a trained model folder (no {name}); `annotator train --out` writes one")
        try:
            found[name] = orjson.loads(file.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ModelError(f"{file}: not valid JSON: {exc}") from exc
    return found["meta.json"], found["metrics.json"]


def register(db: Database, path: str | Path, activate: bool = True) -> ModelVersion:
    """Keep the model of this folder in the project (again: its figures updated), active if asked."""
    meta, metrics = read_model_folder(path)
    name, version = str(meta.get("name") or Path(path).name), str(meta.get("version") or "1")
    with db.writing() as session:
        row = session.exec(
            select(ModelVersion).where(ModelVersion.name == name, ModelVersion.version == version)
        ).scalar_one_or_none()
        if row is None:
            row = ModelVersion(name=name, version=version, path="", layer=str(meta.get("layer") or ""))
        row.path, row.lang, row.metrics, row.meta = (
            str(Path(path).resolve()),
            str(meta.get("lang") or "xx"),
            metrics,
            meta,
        )
        session.add(row)
        session.flush()
        if activate:
            _activate(session, row.id)
        session.refresh(row)
        return row


def list_models(db: Database) -> list[ModelVersion]:
    with db.reading() as session:
        return list(session.exec(select(ModelVersion).order_by(ModelVersion.created_at, ModelVersion.id)).scalars())


def find_model(db: Database, key: str) -> ModelVersion:
    """The model `key` names: NAME@VERSION, NAME (its newest version) or its folder."""
    models = list_models(db)
    name, _, version = key.partition("@")
    matches = [m for m in models if m.name == name and (not version or m.version == version)]
    matches = matches or [m for m in models if m.path == str(Path(key).resolve())]
    if not matches:
        known = ", ".join(f"{m.name}@{m.version}" for m in models) or "none yet (`annotator train` makes one)"
        raise ModelError(f"no model {key!r} in this project; models: {known}")
    return matches[-1]


def activate(db: Database, key: str) -> ModelVersion:
    model = find_model(db, key)
    with db.writing() as session:
        _activate(session, model.id)
    model.active = True
    return model


def _activate(session, model_id: int) -> None:
    session.exec(update(ModelVersion).values(active=ModelVersion.id == model_id))


def active_model(db: Database) -> ModelVersion | None:
    with db.reading() as session:
        return session.exec(select(ModelVersion).where(ModelVersion.active)).scalars().first()
