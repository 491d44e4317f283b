"""A project as the command line and the web app open it: its configuration, database and
label configuration, and the pre-highlighter built from them.

The command line opens a Project without building the web app, so a command pays only for
what it uses; the web app keeps the same things on the Flask app (labels_of, open_project).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlmodel import Session

from annotator import config as cfg
from annotator.db import Database, ensure_schema, get_db
from annotator.labels import LabelConfig, load_label_config
from annotator.models import SUGGESTIONS, Document, GazetteerName, Layer, Span, Suggestion

if TYPE_CHECKING:
    from flask import Flask


class Project:
    """One project: its settings (config.load), and its database and labels when first asked for."""

    def __init__(self, overrides: dict | None = None):
        self.config = cfg.load(overrides)

    @cached_property
    def labels(self) -> LabelConfig:
        return load_label_config(self.config["LABELS_FILE"])

    @cached_property
    def db(self) -> Database:
        """The database, migrated to the current schema (a fresh one is created)."""
        database = Database(url=self.config["DATABASE_URL"])
        ensure_schema(database)
        return database

    def prehighlighter(self, model=None):
        """`model`: a loaded trained model whose suggestions join the rules' (learn/model.py)."""
        return make_prehighlighter(self.config, self.labels, model, gazetteer_names(self.db))


def gazetteer_names(db: Database) -> list[dict]:
    """The names people added to the gazetteer, as patterns for the pre-highlighter."""
    with db.reading() as session:
        rows = session.exec(select(GazetteerName.label, GazetteerName.text).order_by(GazetteerName.id)).all()
    return [{"label": label, "pattern": text} for label, text in rows]


def make_prehighlighter(config, labels: LabelConfig, model=None, names: list[dict] | None = None):
    # spaCy comes with the pipeline: only what pre-highlights pays for loading it
    from annotator.nlp.pipeline import Prehighlighter

    return Prehighlighter(
        labels=labels,
        model_en=config["SPACY_MODEL_EN"],
        gazetteer_file=config["GAZETTEER_FILE"],
        processes=int(config["NLP_PROCESSES"]),
        multiprocess_min_docs=int(config["NLP_MULTIPROCESS_MIN_DOCS"]),
        model=model,
        names=names or [],
        claims=str(config.get("SUGGEST_CLAIMS", True)).lower() not in ("0", "false", "no", "off"),
    )


def labels_of(app: Flask) -> LabelConfig:
    return app.extensions["annotator.labels"]


def prehighlighter_for(app: Flask):
    return make_prehighlighter(app.config, labels_of(app), names=gazetteer_names(get_db(app)))


def open_project(app: Flask) -> Database:
    """The app's database, migrated to the current schema (a fresh one is created)."""
    db = get_db(app)
    ensure_schema(db)
    return db


def project_stats(session: Session) -> dict:
    """Documents, languages, and counts per layer and label, from indexed counts."""
    documents = session.exec(select(func.count()).select_from(Document)).scalar_one()
    languages = dict(
        session.exec(
            select(Document.lang, func.count()).group_by(Document.lang).order_by(func.count().desc(), Document.lang)
        ).all()
    )
    suggestions = dict(
        session.exec(select(Suggestion.label, func.count()).group_by(Suggestion.label).order_by(Suggestion.label)).all()
    )
    origins = dict(
        session.exec(
            select(Suggestion.origin, func.count()).group_by(Suggestion.origin).order_by(Suggestion.origin)
        ).all()
    )
    layers: dict[str, dict] = {SUGGESTIONS: {"documents": documents, "labels": suggestions, "origins": origins}}
    rows = session.exec(
        select(Layer.name, Span.label, func.count())
        .join(Span, Span.layer_id == Layer.id)
        .group_by(Layer.name, Span.label)
        .order_by(Layer.name, Span.label)
    ).all()
    docs_per_layer = dict(session.exec(select(Layer.name, func.count()).group_by(Layer.name)).all())
    for name, n_docs in sorted(docs_per_layer.items()):
        layers[name] = {"documents": n_docs, "labels": {}}
    for name, label, n in rows:
        layers[name]["labels"][label] = n
    return {"documents": documents, "languages": languages, "layers": layers}
