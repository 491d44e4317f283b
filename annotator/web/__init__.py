"""Blueprints, one per page family, and the template helpers they share."""

from __future__ import annotations

from flask import Flask

from annotator.web import (
    assignments,
    auth,
    curation,
    documents,
    errors,
    exports,
    filters,
    guards,
    history,
    jobs,
    models,
    reports,
    timing,
    upload,
    users,
)
from annotator.web.workspace import routes as workspace


def register_blueprints(app: Flask) -> None:
    guards.init_app(app)  # first: the `id` URL converter the blueprints' routes use
    auth.init_app(app)  # first: its login check runs before every other view
    filters.init_app(app)
    app.register_blueprint(documents.bp)
    app.register_blueprint(errors.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(assignments.bp)
    app.register_blueprint(curation.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(models.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(upload.bp)
    workspace.init_app(app)  # the annotator's own layer at /annotate/, the gold layer at /gold/
    timing.init_app(app)
