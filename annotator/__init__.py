"""claim annotator: documents in, confirmed entities, relations and numeric claims out.

Importing this package loads no spaCy model and opens no database; create_app() does the
wiring, and the pipeline loads only when something needs pre-highlighting.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Blueprint
from flask_htmx import HTMX

from annotator import config as cfg
from annotator.db import Database

__version__ = "0.1.0"

htmx = HTMX()


def create_app(overrides: dict | None = None) -> Flask:
    instance_path = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("ANNOTATOR_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(cfg.resource_dir("templates")),
        static_folder=str(cfg.resource_dir("static")),
        static_url_path="/static",
    )
    app.config.from_mapping(cfg.defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ANNOTATOR")
    env_url = cfg.database_url_from_env()
    if env_url:
        app.config["DATABASE_URL"] = env_url
    app.config.update(overrides or {})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    Database(app)
    htmx.init_app(app)
    _register_htmx_assets(app)

    from annotator.labels import load_label_config
    app.extensions["annotator.labels"] = load_label_config(app.config["LABELS_FILE"])

    from annotator.web import register_blueprints
    register_blueprints(app)
    return app


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, never in the source."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_htmx_assets(app: Flask) -> None:
    folder = cfg.htmx_dir()
    if not (folder / "htmx.min.js").is_file():
        app.logger.error("htmx is missing (%s): run `npm ci` in the project folder", folder)
    app.register_blueprint(Blueprint("htmx_js", __name__, static_folder=str(folder),
                                     static_url_path="/vendor/htmx"))
