"""The document list at scale: 100,000 generated documents, timed through gunicorn.

    .venv/bin/python -m benchmarks.document_list [--docs 100000] [--requests 30] [--db PATH]

Builds a SQLite project (schema from the packaged migrations, rows bulk-inserted with
SQLAlchemy Core, a few suggestions per document, no spaCy), prints the query plan of every
statement the list page runs, then serves the project with `annotator serve` (gunicorn, one
worker, one thread) on 127.0.0.1 and times GET requests over one kept-alive connection; the
same URLs are also timed in-process through Flask's test client. Writes
benchmarks/results/document_list.json and prints a summary. `--db PATH` keeps the generated
database at PATH and reuses it on the next run when it already holds `--docs` documents.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
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
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import event, func, insert, select

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "document_list.json"
TARGET_MS = 200.0
LANGS = [("en", 0.80), ("pt", 0.15), ("de", 0.05)]
LABELS = ["ORG", "PRODUCT", "MODEL", "QUANTITY", "GPE", "DATE", "PERSON"]
WORD = re.compile(r"[A-Z][\w’-]+|\d[\d.,]*")


# --- building the project -----------------------------------------------------------------

def _paragraphs() -> list[str]:
    """Paragraphs of the seed articles: realistic length, punctuation and numbers."""
    paras: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        paras += [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.strip()) > 60]
    return paras


def _generate(n_docs: int, seed: int = 7):
    """Yield (document row, suggestion rows) with seed-sized texts (~2.5 KB) and 3-12 spans."""
    rng = random.Random(seed)
    paras = _paragraphs()
    langs, weights = zip(*LANGS)
    for i in range(1, n_docs + 1):
        body = "\n\n".join(rng.sample(paras, k=min(len(paras), rng.randint(5, 9))))
        title = f"Report {i}: {rng.choice(paras)[:70].rstrip()}"
        text = f"{title}\n\n{body}\n\nReference {i}-{rng.getrandbits(32):08x}\n"
        words = [m.span() for m in WORD.finditer(text)]
        picked = sorted(rng.sample(words, k=min(len(words), rng.randint(3, 12))))
        suggestions = []
        for start, end in picked:
            label = rng.choice(LABELS)
            row = {"document_id": i, "start": start, "end": end, "label": label,
                   "origin": rng.choice(("model", "pattern", "gazetteer")), "pipeline": "bench",
                   "pipeline_version": "0", "score": None, "value": None, "value_max": None,
                   "tolerance": None, "unit": None, "qualifier": None}
            if label == "QUANTITY":
                row.update(value=float(rng.randint(1, 999)), unit=rng.choice(("GB", "%", "TB/s", None)))
            suggestions.append(row)
        doc = {"id": i, "uid": f"{i:016x}", "text": text, "lang": rng.choices(langs, weights)[0],
               "lang_source": "detected", "title": title, "source": f"bench/{i}.txt", "meta": {},
               "n_chars": len(text), "tokens": None, "n_suggestions": len(suggestions), "pipeline": "bench",
               "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc)}
        yield doc, suggestions


def _app(instance: Path, db_path: Path):
    from annotator import create_app

    return create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": f"sqlite:///{db_path}"})


def _count(db_path: Path) -> int:
    try:
        with sqlite3.connect(db_path) as conn:
            return conn.execute("SELECT count(*) FROM document").fetchone()[0]
    except sqlite3.Error:
        return -1


def build_project(db_path: Path, instance: Path, n_docs: int) -> dict:
    """Migrate an empty SQLite file and bulk-insert `n_docs` documents with their suggestions."""
    from annotator.db import ensure_schema, get_db

    if db_path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    app = _app(instance, db_path)
    db = get_db(app)
    ensure_schema(db)
    from annotator.models import Document, Suggestion

    started = time.perf_counter()
    n_sugg = 0
    docs, suggs = [], []
    with db.write_engine.begin() as conn:
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


def query_plans(app, url: str) -> list[dict]:
    """EXPLAIN QUERY PLAN of every statement one GET of `url` runs on SQLite."""
    from annotator.db import get_db

    engine = get_db(app).engine
    with capture_sql(engine) as seen:
        response = app.test_client().get(url)
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
def gunicorn(db_path: Path, instance: Path):
    """`annotator serve` (gunicorn, 1 worker, 1 thread) on a free port of 127.0.0.1."""
    port = _free_port()
    env = {**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance)}
    env.pop("DATABASE_URL", None)
    cmd = _annotator_command() + ["serve", "--db", f"sqlite:///{db_path}", "--no-seed", "--host", "127.0.0.1",
                                  "--port", str(port), "--workers", "1", "--threads", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode(errors='replace')[-2000:]}")
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
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(samples), "median_ms": round(statistics.median(samples), 2), "p95_ms": round(p95, 2),
            "max_ms": round(ordered[-1], 2)}


def time_http(port: int, path: str, n: int, headers: dict) -> tuple[dict, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples, size = [], 0
    for i in range(n + 2):  # two warm-up requests
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        size = len(body)
        if i >= 2:
            samples.append(elapsed)
    conn.close()
    return _summary(samples), size


def time_test_client(app, path: str, n: int, headers: dict) -> dict:
    client = app.test_client()
    samples = []
    for i in range(n + 2):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status)
        if i >= 2:
            samples.append(elapsed)
    return _summary(samples)


def cases(app) -> dict[str, tuple[str, dict]]:
    from annotator.db import get_db
    from annotator.models import Document

    size = app.config["PAGE_SIZE"]
    with get_db(app).reading() as session:
        total = session.exec(select(func.count()).select_from(Document)).scalar_one()
        pt = session.exec(select(func.count()).select_from(Document).where(Document.lang == "pt")).scalar_one()
        middle_uid = session.exec(select(Document.uid).order_by(Document.id).offset(total // 2).limit(1)).scalar_one()
    last, pt_last = max(1, -(-total // size)), max(1, -(-pt // size))
    htmx = {"HX-Request": "true", "HX-Target": "document-rows"}
    return {
        "first page": ("/", {}),
        "middle page": (f"/?page={last // 2}", {}),
        "last page": (f"/?page={last}", {}),
        "language filter (pt), first page": ("/?lang=pt", {}),
        "language filter (pt), last page": (f"/?lang=pt&page={pt_last}", {}),
        "htmx fragment, middle page": (f"/?page={last // 2}", htmx),
        "document view (middle)": (f"/documents/{middle_uid}", {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--db", type=Path, help="keep the generated database here (reused when it fits)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-doclist-") as tmp:
        instance = Path(tmp) / "instance"
        db_path = args.db.resolve() if args.db else Path(tmp) / "project.sqlite3"
        if args.db and _count(db_path) == args.docs:
            print(f"Reusing {db_path} ({args.docs:,} documents)")
            built = {"seconds": None, "suggestions": None, "reused": True}
        else:
            print(f"Building {args.docs:,} documents in {db_path} ...", flush=True)
            built = build_project(db_path, instance, args.docs)
            print(f"  built in {built['seconds']} s ({built['suggestions']:,} suggestions)")
        app = _app(instance, db_path)
        todo = cases(app)
        plans = {name: query_plans(app, url) for name, (url, headers) in todo.items() if not headers}
        results = {}
        with gunicorn(db_path, instance) as port:
            for name, (url, headers) in todo.items():
                served, size = time_http(port, url, args.requests, headers)
                in_process = time_test_client(app, url, args.requests, headers)
                results[name] = {"url": url, "headers": headers, "bytes": size, "gunicorn": served,
                                 "test_client": in_process}
        from annotator.db import get_db
        get_db(app).dispose()
        report = {
            "benchmark": "document_list", "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "documents": args.docs, "build": built, "db_bytes": db_path.stat().st_size,
            "page_size": app.config["PAGE_SIZE"], "requests_per_case": args.requests, "target_ms": TARGET_MS,
            "server": "annotator serve (gunicorn gthread, 1 worker, 1 thread), one kept-alive HTTP/1.1 connection",
            "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                        "cpus": os.cpu_count(), "platform": platform.platform()},
            "cases": results, "query_plans": plans,
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _print_summary(report)
    return 0 if all(r["gunicorn"]["p95_ms"] < TARGET_MS for r in results.values()) else 1


def _print_summary(report: dict) -> None:
    print(f"\nDocument list, {report['documents']:,} documents, {report['requests_per_case']} requests per case "
          f"(target: p95 < {report['target_ms']:.0f} ms)")
    print(f"{'case':36} {'gunicorn median':>16} {'p95':>8} {'test client median':>19} {'p95':>8}  status")
    for name, r in report["cases"].items():
        g, t = r["gunicorn"], r["test_client"]
        ok = "ok" if g["p95_ms"] < report["target_ms"] else "SLOW"
        print(f"{name:36} {g['median_ms']:13.1f} ms {g['p95_ms']:5.1f} ms {t['median_ms']:16.1f} ms "
              f"{t['p95_ms']:5.1f} ms  {ok}")
    print("\nQuery plans (SQLite EXPLAIN QUERY PLAN):")
    seen = set()
    for name, plans in report["query_plans"].items():
        for item in plans:
            key = (item["sql"], tuple(item["plan"]))
            if key in seen:
                continue
            seen.add(key)
            print(f"  {item['sql'][:150]}")
            for line in item["plan"]:
                print(f"      {line}")
    print(f"\nWrote {report_path_display()}")


def report_path_display() -> str:
    try:
        return str(RESULTS.relative_to(Path.cwd()))
    except ValueError:
        return str(RESULTS)


if __name__ == "__main__":
    sys.exit(main())
