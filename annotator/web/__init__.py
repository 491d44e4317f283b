"""Blueprints, one per page family."""
from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from . import documents

    app.register_blueprint(documents.bp)
