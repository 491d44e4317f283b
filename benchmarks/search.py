"""Document search at scale: 100,000 generated documents, on SQLite and on PostgreSQL.

    .venv/bin/python -m benchmarks.search [--docs 100000] [--repeats 15] [--no-postgres]

Builds each project from the packaged migrations (so SQLite's FTS5 table is filled by its
triggers and PostgreSQL's GIN index by its inserts, as an import would), with the document
list benchmark's corpus and suggestions and an annotator's layer on one document in ten, then
asks the list for searches a person types (a common word, a rare one, a prefix, two terms,
with filters and sorts) through Flask's test client as a logged-in admin, as the htmx
partial the search box fetches. PostgreSQL runs in a scratch database on 127.0.0.1:5432
(ANNOTATOR_BENCH_PG, default user postgres), dropped afterwards, analysed after loading as
autovacuum would. Writes benchmarks/results/search.json; target: p95 < 200 ms per database.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import insert, text

from ._common import Target, exit_code, machine_info, pg_scratch, print_summary, write_result
from .document_list import ADMIN, ensure_admin, insert_corpus, logged_in_test_client

TARGET_MS = 200.0
HX = {"HX-Request": "true"}
SEARCHES = [
    {"q": "Huawei"},  # in a good share of the corpus
    {"q": "Hua"},  # typed half-way: a prefix
    {"q": "Ascend 910C"},
    {"q": "bandwidth memory"},
    {"q": "DeepSeek", "lang": "pt"},
    {"q": "Nvidia", "sort": "title"},
    {"q": "chips", "label": "PRODUCT"},
    {"q": "Huawei", "annotator": "alice"},
    {"q": "Huawei", "claim": "yes"},
    {"q": "terabytes", "page": "20"},
    {"q": "zzzunfound"},
    {"sort": "title", "page": "500"},
    {"status": "done"},
]


def build(url: str, n_docs: int, instance: Path):
    """The project at `url` with `n_docs` documents; the app and the seconds it took."""
    from annotator.db import ensure_schema, get_db
    from annotator.models import Claim, Layer, Span
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "PAGE_SIZE": 50})
    db = get_db(app)
    ensure_schema(db)
    started = time.perf_counter()
    with db.write_engine.begin() as conn:
        insert_corpus(conn, n_docs)
        now = datetime(2026, 1, 2, tzinfo=UTC)
        layers = [
            {"id": i, "document_id": i, "name": "alice", "kind": "annotator", "version": 1, "status": s}
            | {"created_at": now, "updated_at": now}
            for i, s in ((i, ("done", "in_progress")[i % 20 == 0]) for i in range(10, n_docs + 1, 10))
        ]
        conn.execute(insert(Layer), layers)
        spans = [{"id": r["id"], "layer_id": r["id"], "start": 0, "end": 4, "label": "QUANTITY"} for r in layers]
        conn.execute(insert(Span), [s | {"origin": "manual", "meta": {}, "created_at": now} for s in spans])
        conn.execute(
            insert(Claim),
            [
                {"layer_id": s["id"], "quantity_id": s["id"], "modifiers": [], "meta": {}, "created_at": now}
                for s in spans
            ],
        )
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('layer_id_seq', (SELECT max(id) FROM layer))"))
            conn.execute(text("SELECT setval('span_id_seq', (SELECT max(id) FROM span))"))
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.write_engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    ensure_admin(app)
    return app, round(time.perf_counter() - started, 1)


def time_searches(app, repeats: int) -> dict:
    """Milliseconds per search, each asked `repeats` times after one warm-up."""
    client = logged_in_test_client(app)
    cases = {}
    for args in SEARCHES:
        url = "/?" + urlencode(args)
        response = client.get(url, headers=HX)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status}")
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            client.get(url, headers=HX)
            samples.append((time.perf_counter() - start) * 1000)
        total = response.get_data(as_text=True).split('data-testid="document-total">', 1)[1].split("<", 1)[0]
        cases[url] = {"median_ms": round(statistics.median(samples), 1), "p95_ms": round(p95(samples), 1)}
        cases[url] |= {"max_ms": round(max(samples), 1), "matches": total, "samples_ms": [round(s, 1) for s in samples]}
    every = [s for case in cases.values() for s in case["samples_ms"]]
    return {"p95_ms": round(p95(every), 1), "median_ms": round(statistics.median(every), 1), "cases": cases}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    started = time.perf_counter()
    machine = machine_info()
    figures, targets, lines = {"documents": options.docs, "as": ADMIN}, [], []
    with tempfile.TemporaryDirectory(prefix="search-bench-") as folder:
        runs = [("sqlite", f"sqlite:///{Path(folder) / 'project.sqlite3'}", None)]
        if not options.no_postgres:
            runs.append(("postgresql", *pg_scratch("search")))
        for name, url, drop in runs:
            try:
                from annotator.db import get_db

                app, seconds = build(url, options.docs, Path(folder) / f"instance-{name}")
                found = time_searches(app, options.repeats)
                get_db(app).dispose()
            finally:
                if drop:
                    drop()
            figures[name] = {"load_s": seconds, **found}
            targets.append(Target(f"search p95 on {name}", found["p95_ms"], "<=", TARGET_MS, "ms"))
            lines.append(f"{name}: loaded in {seconds} s; median {found['median_ms']} ms, p95 {found['p95_ms']} ms")
            lines += [f"  {case['p95_ms']:>7.1f} ms p95  {url}" for url, case in found["cases"].items()]
    if "postgresql" in figures:
        ratio = figures["postgresql"]["p95_ms"] / max(figures["sqlite"]["p95_ms"], 0.1)
        figures["p95_postgresql_over_sqlite"] = round(ratio, 2)
    notes = [
        "Timed through Flask's test client in one process (the htmx partial: count, page, labels);"
        " no HTTP server or network in the figures.",
        "Each case is asked once before timing; p95 is over every timed sample of every case.",
    ]
    path = write_result("search", figures, targets, notes, machine=machine, started=started)
    print_summary("document search", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    raise SystemExit(main())
