"""The document list at scale: 100,000 generated documents, timed through gunicorn.

    .venv/bin/python -m benchmarks.document_list [--docs 100000] [--requests 30] [--db PATH] [--extra-index]

Builds a SQLite project (schema from the packaged migrations, rows bulk-inserted with
SQLAlchemy Core, a few suggestions per document, no spaCy), prints the query plan of every
statement the list page runs, then serves the project with `annotator serve` (gunicorn, one
worker, one thread) on 127.0.0.1 and times GET requests over one kept-alive connection; the
same URLs are also timed in-process through Flask's test client. Both log in first, as an
admin (who sees every document), through the login form. Writes
benchmarks/results/document_list.json (the shared format of benchmarks/_common.py) and
prints a summary. `--db PATH` keeps the generated database at PATH and reuses it on the
next run when it already holds `--docs` documents; `--extra-index` adds PROPOSED_INDEX
first and writes document_list_extra_index.json instead.
The target (p95 < 200 ms) applies to the list; the exit status is 1 if a list case misses it.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, func, insert, select

from ._common import ROOT, Target, exit_code, machine_info, print_summary, write_result
from ._corpus import variant

TARGET_MS = 200.0
ADMIN, PASSWORD = "bench-admin", "benchmark-only-password"  # a throwaway project
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
LABELS = ["ORG", "PRODUCT", "MODEL", "QUANTITY", "GPE", "DATE", "PERSON"]
WORD = re.compile(r"[A-Z][\w’-]+|\d[\d.,]*")
LONG_CHARS, LONG_SPANS = 200_000, 3_500
# Lets SQLite skip earlier pages in a narrow index instead of the text-filled table pages.
PROPOSED_INDEX = "CREATE INDEX IF NOT EXISTS ix_document_id_order ON document (id)"


# --- building the project -----------------------------------------------------------------


def _generate(n_docs: int, seed: int = 7):
    """Yield (document row, suggestion rows): the shared benchmark corpus (seed-sized variants
    of the seeds, one in five Portuguese) with 3-12 suggestions each, and as the last document
    a long one (200 KB, 3,500 suggestions) for the document view."""
    rng = random.Random(seed)
    for i in range(1, n_docs + 1):
        long = i == n_docs
        lang, text = variant(i)
        if long:
            text = "\n\n".join(variant(i, salt)[1] for salt in range(LONG_CHARS // 2000))[:LONG_CHARS]
        title = text.split("\n", 1)[0][:200]
        words = [m.span() for m in WORD.finditer(text)]
        k = LONG_SPANS if long else rng.randint(3, 12)
        suggestions = []
        for start, end in sorted(rng.sample(words, k=min(len(words), k))):
            label = rng.choice(LABELS)
            row = {
                "document_id": i,
                "start": start,
                "end": end,
                "label": label,
                "origin": rng.choice(("model", "pattern", "gazetteer")),
                "pipeline": "bench",
                "pipeline_version": "0",
                "score": None,
                "value": None,
                "value_max": None,
                "tolerance": None,
                "unit": None,
                "qualifier": None,
            }
            if label == "QUANTITY":
                row.update(value=float(rng.randint(1, 999)), unit=rng.choice(("GB", "%", "TB/s", None)))
            suggestions.append(row)
        doc = {
            "id": i,
            "uid": f"{i:016x}",
            "text": text,
            "lang": lang,
            "lang_source": "detected",
            "title": title,
            "source": f"bench/{i}.txt",
            "meta": {},
            "n_chars": len(text),
            "tokens": None,
            "n_suggestions": len(suggestions),
            "pipeline": "bench",
            "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
        yield doc, suggestions


def _app(instance: Path, db_path: Path):
    from annotator.web.app import create_app

    return create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{db_path}"})


def ensure_admin(app) -> None:
    """The account the timed requests log in as: an admin sees every document in the list."""
    from annotator.db import get_db
    from annotator.team.accounts import create_user, find_user

    with get_db(app).writing() as session:
        if find_user(session, ADMIN) is None:
            create_user(session, ADMIN, "admin", PASSWORD)


def logged_in_test_client(app):
    """Flask's test client, logged in through the login form (every page needs a login)."""
    client = app.test_client()
    token = FORM_TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"could not log in as {ADMIN}: {response.status}")
    return client


def _generated_here(db_path: Path) -> bool:
    """True for an empty file or a database whose documents all came from _generate()."""
    if db_path.stat().st_size == 0:
        return True
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM document WHERE pipeline IS NOT 'bench'").fetchone()[0] == 0
    except sqlite3.Error:
        return False


def _reusable(db_path: Path, n_docs: int) -> bool:
    """True if `db_path` already holds what build_project would write for `n_docs`."""
    if not db_path.is_file():
        return False
    try:
        with sqlite3.connect(db_path) as conn:
            count, last = conn.execute("SELECT count(*), max(id) FROM document").fetchone()
            longest = conn.execute("SELECT n_chars FROM document WHERE id = ?", (last,)).fetchone()
    except sqlite3.Error:
        return False
    return count == n_docs and bool(longest) and longest[0] >= LONG_CHARS


def insert_corpus(conn, n_docs: int) -> int:
    """Insert _generate()'s documents and suggestions in groups of 5,000 documents; how many
    suggestions went in."""
    from annotator.models import Document, Suggestion

    n_sugg = 0
    docs, suggs = [], []
    for doc, rows in _generate(n_docs):
        docs.append(doc)
        suggs += rows
        if len(docs) == 5000:
            conn.execute(insert(Document), docs)
            conn.execute(insert(Suggestion), suggs)
            n_sugg += len(suggs)
            docs, suggs = [], []
    if docs:
        conn.execute(insert(Document), docs)
        conn.execute(insert(Suggestion), suggs)
        n_sugg += len(suggs)
    return n_sugg


def build_project(db_path: Path, instance: Path, n_docs: int) -> dict:
    """Migrate an empty SQLite file and bulk-insert `n_docs` documents with their suggestions."""
    from annotator.db import ensure_schema, get_db

    if db_path.exists():
        if not _generated_here(db_path):
            raise SystemExit(f"{db_path} exists and is not a database this benchmark made; not overwriting it")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    app = _app(instance, db_path)
    db = get_db(app)
    ensure_schema(db)
    started = time.perf_counter()
    with db.write_engine.begin() as conn:
        n_sugg = insert_corpus(conn, n_docs)
    db.dispose()
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"seconds": round(time.perf_counter() - started, 2), "suggestions": n_sugg}


# --- what the list runs --------------------------------------------------------------------


@contextmanager
def capture_sql(engine):
    """Collect (statement, parameters) of everything `engine` executes inside the block."""
    seen: list[tuple[str, tuple]] = []

    def before(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany:
            seen.append((statement, tuple(parameters or ())))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def query_plans(app, client, url: str) -> list[dict]:
    """EXPLAIN QUERY PLAN of every statement one GET of `url` (by a logged-in test client)
    runs on SQLite."""
    from annotator.db import get_db

    engine = get_db(app).engine
    with capture_sql(engine) as seen:
        response = client.get(url)
        assert response.status_code == 200, response.status
    plans = []
    with engine.connect() as conn:
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            plans.append({"sql": " ".join(statement.split()), "plan": [r[-1] for r in rows]})
    return plans


# --- timing ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _annotator_command() -> list[str]:
    script = Path(sys.executable).with_name("annotator")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from annotator.cli import main; main()"]


@contextmanager
def gunicorn(
    db_path: Path | None,
    instance: Path,
    url: str | None = None,
    workers: int = 1,
    threads: int = 1,
    env: dict[str, str] | None = None,
):
    """`annotator serve` (gunicorn) on a free port of 127.0.0.1, for SQLite at db_path or `url`."""
    port = _free_port()
    env = {**os.environ, **(env or {}), "ANNOTATOR_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    cmd = _annotator_command() + [
        "serve",
        "--db",
        url or f"sqlite:///{db_path}",
        "--no-seed",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    output = proc.stderr.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(f"gunicorn did not start: {output}") from exc
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _summary(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank
    return {
        "n": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(ordered[-1], 2),
    }


def time_requests(fetch, n: int) -> tuple[dict, int]:
    """Median and p95 of `n` calls of fetch() -> (status, bytes), after two warm-up calls."""
    samples, size = [], 0
    for i in range(n + 2):
        started = time.perf_counter()
        status, size = fetch()
        elapsed = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"status {status}")
        if i >= 2:
            samples.append(elapsed)
    return _summary(samples), size


def over_http(conn: http.client.HTTPConnection, path: str, headers: dict):
    def fetch():
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, len(response.read())

    return fetch


def in_process(client, path: str, headers: dict):
    def fetch():
        response = client.get(path, headers=headers)
        return response.status_code, len(response.data)

    return fetch


def cases(app) -> dict[str, tuple[str, dict]]:
    from annotator.db import get_db
    from annotator.models import Document

    size = app.config["PAGE_SIZE"]
    with get_db(app).reading() as session:
        total = session.exec(select(func.count()).select_from(Document)).scalar_one()
        pt = session.exec(select(func.count()).select_from(Document).where(Document.lang == "pt")).scalar_one()
        middle_uid = session.exec(select(Document.uid).order_by(Document.id).offset(total // 2).limit(1)).scalar_one()
        long_uid = session.exec(select(Document.uid).order_by(Document.id.desc()).limit(1)).scalar_one()
    last, pt_last = max(1, -(-total // size)), max(1, -(-pt // size))
    htmx = {"HX-Request": "true", "HX-Target": "document-rows"}
    return {
        "first page": ("/", {}),
        "middle page": (f"/?page={last // 2}", {}),
        "last page": (f"/?page={last}", {}),
        "language filter (pt), first page": ("/?lang=pt", {}),
        "language filter (pt), last page": (f"/?lang=pt&page={pt_last}", {}),
        "htmx fragment, middle page": (f"/?page={last // 2}", htmx),
        # not part of the list's target; timed because the view shares the database
        "document view (middle)": (f"/documents/{middle_uid}", {}),
        "document view (200 KB, 3,500 marks)": (f"/documents/{long_uid}", {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--db", type=Path, help="keep the generated database here (reused when it fits)")
    parser.add_argument(
        "--extra-index",
        action="store_true",
        help=f"add {PROPOSED_INDEX!r} to the benchmark database first and write "
        "document_list_extra_index.json (an experiment: the schema comes from the migrations)",
    )
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()

    with tempfile.TemporaryDirectory(prefix="bench-doclist-") as tmp:
        instance = Path(tmp) / "instance"
        db_path = args.db.resolve() if args.db else Path(tmp) / "project.sqlite3"
        if args.db and _reusable(db_path, args.docs):
            print(f"Reusing {db_path} ({args.docs:,} documents)")
            built = {"seconds": None, "suggestions": None, "reused": True}
        else:
            print(f"Building {args.docs:,} documents in {db_path} ...", flush=True)
            built = build_project(db_path, instance, args.docs)
            print(f"  built in {built['seconds']} s ({built['suggestions']:,} suggestions)")
        if args.extra_index:
            with sqlite3.connect(db_path) as conn:
                conn.execute(PROPOSED_INDEX)
        app = _app(instance, db_path)
        ensure_admin(app)
        todo = cases(app)
        client = logged_in_test_client(app)
        plans = {name: query_plans(app, client, url) for name, (url, headers) in todo.items() if not headers}
        results = {}
        with gunicorn(db_path, instance) as port:
            from .workspace_server import Client  # logs in through the form, keeps the cookies

            cookie = "; ".join(f"{k}={v}" for k, v in Client(port, ADMIN, PASSWORD).cookies.items())
            for name, (url, headers) in todo.items():
                # a fresh connection per case: gunicorn drops one idle for more than 2 s
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                served, size = time_requests(over_http(conn, url, {**headers, "Cookie": cookie}), args.requests)
                conn.close()
                local, _ = time_requests(in_process(client, url, headers), args.requests)
                results[name] = {
                    "url": url,
                    "headers": headers,
                    "bytes": size,
                    "gunicorn": served,
                    "test_client": local,
                    "list": url == "/" or url.startswith("/?"),
                }
        from annotator.db import get_db

        get_db(app).dispose()
        db_bytes = db_path.stat().st_size

    figures = {
        "documents": args.docs,
        "build": built,
        "db_bytes": db_bytes,
        "page_size": app.config["PAGE_SIZE"],
        "requests_per_case": args.requests,
        "sqlite": sqlite3.sqlite_version,
        "server": "annotator serve (gunicorn gthread, 1 worker, 1 thread), one kept-alive connection",
        "extra_index": PROPOSED_INDEX if args.extra_index else None,
        "cases": results,
        "query_plans": plans,
    }
    targets = [
        Target(f"{name}: p95 through gunicorn", r["gunicorn"]["p95_ms"], "<=", TARGET_MS, "ms")
        for name, r in results.items()
        if r["list"]
    ]
    name = "document_list_extra_index" if args.extra_index else "document_list"
    path = write_result(
        name,
        figures,
        targets,
        machine=machine,
        started=started,
        notes=[
            "Times are client-side round trips over loopback to gunicorn (server time plus well under 1 ms); "
            "test_client is the same request in-process, without HTTP.",
            "Document-view cases share the database but are not part of the list's target.",
        ],
    )
    print_summary(
        f"Document list, {args.docs:,} documents ({machine['load_average']} load average)",
        _table(results) + _plans(plans),
        targets,
        path,
    )
    return exit_code(targets)


def _table(results: dict) -> list[str]:
    lines = [f"{'case':38} {'gunicorn median':>16} {'p95':>9} {'test client median':>19} {'p95':>9}"]
    for name, r in results.items():
        g, t = r["gunicorn"], r["test_client"]
        lines.append(
            f"{name:38} {g['median_ms']:13.1f} ms {g['p95_ms']:6.1f} ms {t['median_ms']:16.1f} ms {t['p95_ms']:6.1f} ms"
        )
    return lines


def _plans(plans: dict) -> list[str]:
    lines, seen = ["", "Query plans (SQLite EXPLAIN QUERY PLAN):"], set()
    for items in plans.values():
        for item in items:
            key = (item["sql"], tuple(item["plan"]))
            if key not in seen:
                seen.add(key)
                lines += [f"  {item['sql'][:140]}"] + [f"      {line}" for line in item["plan"]]
    return lines


if __name__ == "__main__":
    sys.exit(main())
