"""Shared fixtures: apps on real SQLite files or throwaway PostgreSQL databases, the CLI
runner, one pre-highlighter per session, a live server and Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from annotator.db import ensure_schema, get_db
from annotator.project import labels_of, prehighlighter_for
from annotator.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
PG_ADMIN_URL = os.environ.get("ANNOTATOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_reachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"


@pytest.fixture(scope="session")
def pg_admin():
    problem = _pg_reachable()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem} (CI=true: the PostgreSQL tests must run, not skip)")
        pytest.skip(problem)
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin):
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"annotator_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Run a storage test against both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'project.sqlite3'}"
    return request.getfixturevalue("pg_url")


# --- apps -----------------------------------------------------------------------------------


def make_test_app(tmp_path: Path, url: str | None = None, **extra):
    overrides = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EXPORTS_DIR": str(tmp_path / "exports"),
        "NLP_PROCESSES": 1,
        **extra,
    }
    overrides["DATABASE_URL"] = url or f"sqlite:///{tmp_path / 'instance' / 'annotator.sqlite3'}"
    app = create_app(overrides)
    ensure_schema(get_db(app))
    return app


@pytest.fixture
def app(tmp_path):
    app = make_test_app(tmp_path)
    yield app
    get_db(app).dispose()


@pytest.fixture
def any_app(tmp_path, db_url):
    """The same app on SQLite and on PostgreSQL."""
    app = make_test_app(tmp_path, db_url)
    yield app
    get_db(app).dispose()


@pytest.fixture
def db(app):
    return get_db(app)


@pytest.fixture
def labels(app):
    return labels_of(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def prehighlighter(tmp_path_factory):
    """One pipeline per test session: loading spaCy is the slow part."""
    app = make_test_app(tmp_path_factory.mktemp("nlp"))
    return prehighlighter_for(app)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory, prehighlighter):
    """A SQLite project with the seeds imported once; tests get a copy."""
    from annotator.ingest.pipeline import import_paths

    folder = tmp_path_factory.mktemp("seeded")
    app = make_test_app(folder)
    report = import_paths(get_db(app), [str(SEEDS)], labels_of(app), prehighlighter)
    assert report.new == 5, report.summary()
    get_db(app).dispose()
    return folder / "instance" / "annotator.sqlite3"


@pytest.fixture
def seeded_app(tmp_path, seeded_template):
    (tmp_path / "instance").mkdir()
    shutil.copy(seeded_template, tmp_path / "instance" / "annotator.sqlite3")
    app = make_test_app(tmp_path)
    yield app
    get_db(app).dispose()


# --- interchange ---------------------------------------------------------------------------

INTERCHANGE_LABELS = (
    ROOT / "tests" / "data" / "interchange_labels.json"
)  # the default labels plus ENTITY, HAS_QUANTITY, ...


@pytest.fixture
def xapp(tmp_path, db_url):
    """An app with the interchange test labels, on SQLite and on PostgreSQL."""
    app = make_test_app(tmp_path, db_url, LABELS_FILE=str(INTERCHANGE_LABELS))
    yield app
    get_db(app).dispose()


@pytest.fixture
def sqlite_xapp(tmp_path):
    app = make_test_app(tmp_path, LABELS_FILE=str(INTERCHANGE_LABELS))
    yield app
    get_db(app).dispose()


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `annotator ...` in-process against a project in tmp_path."""
    from annotator.cli import main

    monkeypatch.setenv("ANNOTATOR_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("ANNOTATOR_NLP_PROCESSES", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


# --- browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": shutil.which("chromium") or "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


def seeded_copy(folder: Path, seeded_template: Path):
    """An app on a copy of the seeded project in `folder`."""
    (folder / "instance").mkdir()
    shutil.copy(seeded_template, folder / "instance" / "annotator.sqlite3")
    return make_test_app(folder)


@contextmanager
def serving(app):
    """`app` on a loopback port in a thread, for the browser; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, seeded_template):
    return seeded_copy(tmp_path_factory.mktemp("live"), seeded_template)


@pytest.fixture(scope="session")
def live_server(live_app):
    with serving(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server
