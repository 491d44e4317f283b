"""Engine, sessions and schema upgrades.

SQLite gets WAL, a busy timeout and foreign keys on every connection. Write transactions
start with BEGIN IMMEDIATE so two writers queue on the lock instead of one of them failing
half-way with "database is locked"; read-only sessions keep SQLite's deferred BEGIN so
readers never wait for writers. Writers of one SQLite file also queue on a lock file first
(WriteGate): SQLite's own busy handler polls with sleeps of up to 100 ms, which under ten
concurrent writers turned a 30 ms save into a 350 ms one at the 95th percentile.

A SQLite file holds the accounts' password hashes: it is created readable by its owner only
(0600, whatever the umask), and so are its -wal and -shm files; a folder made for it is 0700.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: SQLite's busy timeout alone
    fcntl = None

import orjson
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from annotator.config import PACKAGE_DIR


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def normalise_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# orjson reads integers past 64 bits as floats; SQLite hands over text, psycopg bytes
_LONG_INTEGER = {str: re.compile(r"\d{19}"), bytes: re.compile(rb"\d{19}")}


def load_json(text: str | bytes):
    """JSON columns as read: orjson, about five times faster than the json module (an export
    reads a meta object per span). What orjson would read otherwise (integers past 64 bits)
    or refuses (NaN, lone surrogates) is left to the json module, so the values are the same
    either way."""
    if _LONG_INTEGER[type(text)].search(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def private_dir(path: Path) -> None:
    """Create folder `path` (and missing parents) if it is missing, the folder itself 0700;
    a folder that exists keeps its mode (its owner chose it)."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:  # made meanwhile by another process
        return
    path.chmod(PRIVATE_DIR)  # mkdir's mode is narrowed by the umask; this is exact


def private_file(path: Path) -> None:
    """Create an empty file at `path`, 0600 whatever the umask, unless one is there (SQLite
    then opens it as a new database)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except OSError:  # there already, or a folder we may not write: SQLite says what is wrong
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def tighten_sidecars(database: str) -> None:
    """-wal and -shm no more open than the database file, so 0600 beside one made here
    (SQLite gives them the file's mode itself, but files copied in, or left by another
    tool, may be wider). Only this user's own files are changed."""
    try:
        allowed = os.stat(database).st_mode & 0o777
    except OSError:
        return
    for suffix in ("-wal", "-shm"):
        try:
            stat = os.stat(database + suffix)
            if stat.st_uid == os.getuid() and stat.st_mode & 0o777 & ~allowed:
                os.chmod(database + suffix, stat.st_mode & allowed)
        except OSError:  # gone meanwhile, or not ours to change
            continue


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    path = make_url(url).database
    return path if path and path != ":memory:" and not path.startswith("file:") else None


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True, json_deserializer=load_json)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, json_deserializer=load_json)
    # the sidecar files exist once the first connection has set WAL mode: checked then
    unchecked = [path] if (path := sqlite_file(url)) and hasattr(os, "getuid") else []

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let the begin hook below issue BEGIN itself
        cur = dbapi_conn.cursor()
        # No mmap_size: mapped reads were no faster for an export (1.41 s with 1 GiB mapped,
        # 1.43 s without, 10,000 documents), and every page a process maps counts in its
        # memory: the export's process tree peaked at 784 MiB summed RSS mapped, 232 without
        # (1,152 against 162 MiB PSS at 100,000 documents).
        for pragma in (
            "journal_mode=WAL",
            "busy_timeout=30000",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()
        if unchecked:
            tighten_sidecars(unchecked[0])
            unchecked.clear()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class WriteGate:
    """One writer at a time for a SQLite file across the threads and processes of a server,
    woken as soon as the lock is free: a thread lock inside a process, flock(2) on a file
    beside the database between processes (opened per process, so no fork shares it).
    SQLite still guards correctness (BEGIN IMMEDIATE, busy timeout) for writers outside."""

    def __init__(self, database_path: str):
        self.path = database_path + ".write-lock"
        self.threads = threading.Lock()
        self.fd, self.pid = None, None

    WAIT_S = 30  # as long as SQLite's busy timeout

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self.threads.acquire(timeout=self.WAIT_S):
            raise TimeoutError(f"the database stayed busy with another write for {self.WAIT_S} s")
        try:
            fd = self._fd()
            if fcntl is not None and fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None and fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()

    def _fd(self) -> int | None:
        if self.pid != os.getpid():
            try:
                self.fd, self.pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            except OSError:  # a read-only folder: leave the queueing to SQLite
                self.fd, self.pid = None, os.getpid()
        return self.fd


class Database:
    """The app's database handle: one engine per app, one session per request."""

    def __init__(self, app=None, url: str | None = None):
        self.engine: Engine | None = None
        self.gate: WriteGate | None = None
        # SQLite: one writer at a time for the whole database, so a write holds the lock
        # for as little as it can; PostgreSQL locks only the rows a write touches.
        self.locks_whole_file = False
        if app is not None:
            self.init_app(app)
        elif url is not None:
            self.connect(url)

    def init_app(self, app) -> None:
        self.connect(app.config["DATABASE_URL"])
        app.extensions["annotator.db"] = self
        app.teardown_appcontext(self._close_request_session)

    def connect(self, url: str) -> None:
        """The engine (and, for a SQLite file, the write gate) for `url`."""
        self.locks_whole_file = is_sqlite(url)
        if is_sqlite(url):
            path = sqlite_file(url)
            if path:
                private_dir(Path(path).parent)
                private_file(Path(path))
                self.gate = WriteGate(str(Path(path).resolve()))
        self.engine = make_engine(url)

    def autocommit(self):
        """A connection for a single read outside any transaction (no BEGIN, no ROLLBACK:
        on PostgreSQL two round trips fewer for a lookup every request makes)."""
        return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    @property
    def write_engine(self) -> Engine:
        return self.engine.execution_options(write=True)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock up front and commits on success."""
        with (
            self.gate.held() if self.gate else nullcontext(),
            Session(self.write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    def request_session(self) -> Session:
        """The per-request read session, closed on teardown."""
        from flask import g  # the web app's alone: a command never loads Flask

        if "db_session" not in g:
            g.db_session = Session(self.engine, expire_on_commit=False)
        return g.db_session

    @staticmethod
    def _close_request_session(_exc) -> None:
        from flask import g

        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def get_db(app=None) -> Database:
    if app is None:
        from flask import current_app as app
    return app.extensions["annotator.db"]


# --- migrations ---------------------------------------------------------------------------
# Alembic runs only when the schema is behind: telling whether it is costs one select and a
# look at the migration files' names of revisions, where loading Alembic costs half a second
# of every command's start-up.

MIGRATIONS = PACKAGE_DIR / "migrations"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=\s*['\"]?([\w-]+|None)['\"]?", re.M)


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = normalise_url(url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database schema to `revision` through the packaged Alembic migrations."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema of ours yet)."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def head_revision(url: str | None = None) -> str:
    """The newest revision of the packaged migrations: the one no other names as its parent."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revisions.add(found["revision"])
        parents.add(found.get("down_revision"))
    heads = revisions - parents
    if len(heads) != 1:  # pragma: no cover - a branch in the migrations is a packaging error
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def is_fresh(engine: Engine) -> bool:
    """True when the database has no tables of ours yet."""
    return not inspect(engine).has_table("document")


def ensure_schema(db: Database) -> bool:
    """Upgrade to head when the database is behind; returns True if it ran migrations."""
    if current_revision(db.engine) == head_revision():
        return False
    upgrade(db.engine.url.render_as_string(hide_password=False))
    return True
