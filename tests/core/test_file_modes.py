"""The SQLite database holds password hashes: the file, its -wal and -shm, the instance
folder and the secret key are the owner's alone, whatever the umask."""

from __future__ import annotations

import os
import stat
import sys

import pytest
from sqlalchemy import text

from annotator.db import Database, get_db
from tests.conftest import make_test_app

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    """The widest umask, so a mode that comes out 0600 was set, not inherited."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_a_new_app_makes_its_files_private(tmp_path, open_umask):
    app = make_test_app(tmp_path)  # a fresh path: instance folder, database and schema made now
    try:
        instance = tmp_path / "instance"
        database = instance / "annotator.sqlite3"
        with get_db(app).reading() as s:  # an open connection keeps -wal and -shm in place
            s.execute(text("select 1"))
            for path in (database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm"))):
                assert path.exists() and mode(path) == 0o600, (path.name, oct(mode(path)))
        assert mode(instance) == 0o700
        assert mode(instance / "secret_key") == 0o600
    finally:
        get_db(app).dispose()


def test_wider_sidecar_files_are_narrowed_on_the_first_connection(tmp_path, open_umask):
    """To the database file's mode: 0600 for one made here."""
    path = tmp_path / "copied.sqlite3"
    url = f"sqlite:///{path}"
    first = Database(url=url)
    with first.engine.connect() as conn:  # leaves -wal and -shm behind while open
        conn.execute(text("create table t (x)"))
        for suffix in ("-wal", "-shm"):
            os.chmod(f"{path}{suffix}", 0o666)  # as if copied in by another tool
        second = Database(url=url)
        with second.engine.connect() as other:
            other.execute(text("select 1"))
        for suffix in ("-wal", "-shm"):
            assert mode(f"{path}{suffix}") == 0o600, suffix
        second.dispose()
    first.dispose()


def test_an_existing_database_and_folder_keep_their_modes(tmp_path, open_umask):
    """A group-readable project stays so (its owner chose it), its sidecars no wider."""
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o750)
    database = folder / "project.sqlite3"
    database.touch(mode=0o640)
    db = Database(url=f"sqlite:///{database}")
    with db.engine.connect() as conn:
        conn.execute(text("create table t (x)"))
        assert mode(f"{database}-wal") == 0o640 and mode(f"{database}-shm") == 0o640
    db.dispose()
    assert mode(folder) == 0o750 and mode(database) == 0o640
