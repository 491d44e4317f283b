"""Plain functions the CLI and the web app share: open a project, build the pipeline."""
from __future__ import annotations

from flask import Flask

from annotator.db import Database, ensure_schema, get_db
from annotator.labels import LabelConfig


def labels_of(app: Flask) -> LabelConfig:
    return app.extensions["annotator.labels"]


def prehighlighter_for(app: Flask):
    from annotator.nlp.pipeline import Prehighlighter

    cfg = app.config
    return Prehighlighter(labels=labels_of(app), model_en=cfg["SPACY_MODEL_EN"], gazetteer_file=cfg["GAZETTEER_FILE"],
                          processes=int(cfg["NLP_PROCESSES"]), multiprocess_min_docs=int(cfg["NLP_MULTIPROCESS_MIN_DOCS"]))


def open_project(app: Flask) -> Database:
    """The app's database, migrated to the current schema (a fresh one is created)."""
    db = get_db(app)
    ensure_schema(db)
    return db
