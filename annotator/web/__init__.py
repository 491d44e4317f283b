"""Blueprints, one per page family, and the template helpers they share."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import documents, errors, filters

    filters.init_app(app)
    app.register_blueprint(documents.bp)
    app.register_blueprint(errors.bp)
