"""Blueprints, one per page family, and the template helpers they share."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import documents, errors, filters, reports, workspace

    filters.init_app(app)
    app.register_blueprint(documents.bp)
    app.register_blueprint(errors.bp)
    app.register_blueprint(reports.bp)
    workspace.init_app(app)  # the workspace and its "Who is annotating?" page
