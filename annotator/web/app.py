"""The web app's factory: create_app() layers the configuration (config.py), attaches the
database, htmx and the label configuration, and registers the blueprints (web/)."""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Blueprint, Flask

from annotator import config as cfg
from annotator.db import Database
from annotator.labels import load_label_config
from annotator.web import register_blueprints
from annotator.web.extensions import htmx


def create_app(overrides: dict | None = None) -> Flask:
    config = cfg.load(overrides)
    app = Flask(
        "annotator",
        instance_path=config["INSTANCE_PATH"],
        instance_relative_config=True,
        template_folder=str(cfg.resource_dir("templates")),
        static_folder=str(cfg.resource_dir("static")),
        static_url_path="/static",
    )
    app.config.update(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    Database(app)
    htmx.init_app(app)
    _register_htmx_assets(app)

    app.extensions["annotator.labels"] = load_label_config(app.config["LABELS_FILE"])
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
    app.register_blueprint(Blueprint("htmx_js", __name__, static_folder=str(folder), static_url_path="/vendor/htmx"))
