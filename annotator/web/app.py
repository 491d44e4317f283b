"""The web app's factory: create_app() layers the configuration (config.py), attaches the
database, htmx and the label configuration, registers the blueprints (web/) and puts the
security headers on every response (docs/security.md)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from annotator import config as cfg
from annotator.db import PRIVATE_FILE, Database, private_dir
from annotator.labels import load_label_config
from annotator.web import register_blueprints
from annotator.web.extensions import htmx
from annotator.web.filters import label_css


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
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    if not isinstance(proxies, int) or isinstance(proxies, bool) or proxies < 0:
        raise ValueError(f"TRUSTED_PROXIES must be a whole number of proxies (0 for none), not {proxies!r}")
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    private_dir(Path(app.instance_path))  # 0700 when made here: it keeps the secret and the database
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    Database(app)
    htmx.init_app(app)
    _register_htmx_assets(app)

    app.extensions["annotator.labels"] = load_label_config(app.config["LABELS_FILE"])
    app.before_request(limit_urlencoded_forms)  # first: before any check reads the form
    register_blueprints(app)
    app.add_url_rule("/labels.css", "label_styles", label_styles)
    app.after_request(security_headers)
    return app


# No inline script or style anywhere (templates keep both in static/), so the policy needs no
# 'unsafe-inline'; nothing is loaded from another origin, and no page may be framed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no page address (document ids, names) to other sites
}


def security_headers(response: Response) -> Response:
    """On every response the app makes: pages, htmx fragments, error pages, static files."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def limit_urlencoded_forms() -> None:
    """MAX_FORM_MEMORY_SIZE for a urlencoded form as well: Werkzeug applies it to multipart
    fields only, yet a urlencoded body is read into memory whole. So its body may be no
    longer (a larger one is refused with 413 when the form is read)."""
    form_limit = current_app.config.get("MAX_FORM_MEMORY_SIZE")
    if form_limit and request.mimetype == "application/x-www-form-urlencoded":
        body_limit = request.max_content_length
        request.max_content_length = form_limit if body_limit is None else min(body_limit, form_limit)


def label_styles() -> Response:
    """The label colours (one rule per label, filters.label_css) as a stylesheet: the CSP
    refuses a <style> block in the page. Revalidated by ETag, so a page view costs a 304."""
    response = Response(str(label_css()), mimetype="text/css")
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, never in the source."""
    path = instance / "secret_key"
    if not path.exists():
        try:  # created 0600, so the secret is never readable by others, not even for a moment
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        except FileExistsError:  # another worker is writing it
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
    return path.read_text().strip()


def _register_htmx_assets(app: Flask) -> None:
    folder = cfg.htmx_dir()
    if not (folder / "htmx.min.js").is_file():
        app.logger.error("htmx is missing (%s): run `npm ci` in the project folder", folder)
    app.register_blueprint(Blueprint("htmx_js", __name__, static_folder=str(folder), static_url_path="/vendor/htmx"))
