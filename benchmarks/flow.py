"""The whole first hour of a project, at several corpus sizes, in one JSON file.

    .venv/bin/python -m benchmarks.flow [--sizes 1000,10000,100000] [--pages 50] [--pg]

Per size, on a fresh SQLite project: the commands as a user types them, each a subprocess
timed whole (start-up included) with the peak memory of its process tree (the sum over
the command and its workers, sampled every 20 ms, PSS: shared pages once):
`annotator import --no-prehighlight` of N seed-cycled records with 3 pre-annotated spans
each, the first `annotator export`, and a later export of the same data. Then, in one
process through the app (a curator logged in through the login form, the request times
as the app serves them, no network): open 50 workspaces, save 50 spans (one per document,
each to the curator's own layer), the document list, three searches of it. The ratio first/later export is the
figure that shows whether first-use work (tokens, language, token arrays) still falls on
the first export. Each request's median at a size over its median at the smallest size
shows whether requests cost the same however large the project (target 1.2x); `--pg`
repeats every size on a scratch PostgreSQL database. The same records imported with
`--tokenize-later` (language and tokens left for first use) and exported once show which
way costs less overall.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import orjson

from ._common import Target, exit_code, machine_info, pg_scratch, print_summary, write_result
from ._corpus import corpus, prodigy_spans
from ._tree import run_command

ANNOTATOR = str(Path(sys.executable).with_name("annotator"))
PASSWORD = "flow-benchmark-password"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def write_records(path: Path, n: int) -> Path:
    with open(path, "wb") as handle:
        for i, (_lang, text) in enumerate(corpus(n)):
            record = {"text": text, "spans": prodigy_spans(text, random.Random(i)), "meta": {"n": i}}
            handle.write(orjson.dumps(record) + b"\n")
    return path


def command(args: list[str], env: dict) -> dict:
    """Run an annotator command; its wall time and its process tree's peak memory (PSS)."""
    ran = run_command([ANNOTATOR, *args], env)
    return {"seconds": ran["seconds"], "peak_mib": ran["peak_pss_mib"]}


SEARCHES = ({"q": "chips"}, {"q": "Hua"}, {"q": "Sophgo", "lang": "pt"})  # common, a prefix, with a filter


def web_flow(instance: Path, url: str, pages: int) -> dict:
    """Open `pages` workspaces, save a span in each, load the document list and search it:
    ms per request."""
    from sqlalchemy import select

    from annotator.db import get_db
    from annotator.models import Document
    from annotator.team.accounts import create_user
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url})
    with get_db(app).writing() as session:
        create_user(session, "lead", "curator", PASSWORD)
    with get_db(app).reading() as session:
        count = session.exec(select(Document.id).order_by(Document.id.desc()).limit(1)).scalar_one()
        step = max(1, count // pages)
        picked = session.exec(select(Document.uid, Document.text).where(Document.id % step == 0).limit(pages)).all()
    client = app.test_client()
    token = TOKEN.search(client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"name": "lead", "password": PASSWORD, "csrf_token": token})
    headers = {"X-CSRFToken": token, "HX-Request": "true"}
    opened, saved = [], []
    for uid, text in picked:
        start = time.perf_counter()
        page = client.get(f"/annotate/{uid}")
        opened.append(time.perf_counter() - start)
        assert page.status_code == 200, page.status_code
        version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True))
        word = re.search(r"\w{4,}", text)
        version = version.group(1) if version else 0
        start = time.perf_counter()
        response = client.post(
            f"/annotate/{uid}/spans",
            data={
                "start": word.start(),
                "end": word.end(),
                "label": "ORG",
                "version": version,
            },
            headers=headers,
        )
        saved.append(time.perf_counter() - start)
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
    listing = []
    for _ in range(5):
        start = time.perf_counter()
        assert client.get("/").status_code == 200
        listing.append(time.perf_counter() - start)
    searched = []
    for _ in range(3):
        for query in SEARCHES:
            start = time.perf_counter()
            assert client.get("/", query_string=query).status_code == 200
            searched.append(time.perf_counter() - start)
    get_db(app).dispose()

    def ms(samples):
        return {"median_ms": round(statistics.median(samples) * 1000, 2), "max_ms": round(max(samples) * 1000, 2)}

    return {"open_workspace": ms(opened), "save_span": ms(saved), "document_list": ms(listing), "search": ms(searched)}


REQUESTS = ("open_workspace", "save_span", "document_list", "search")


def run_size(n: int, pages: int, backend: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="flow-") as tmp, database(backend, Path(tmp)) as url:
        folder = Path(tmp)
        records = write_records(folder / "records.jsonl", n)
        instance = folder / "instance"
        env = {**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance)}
        db = ["--db", url]
        instance.mkdir(mode=0o700, exist_ok=True)
        figures = {
            "import": command(["import", *db, "-q", "--no-prehighlight", str(records)], env),
            "first_export": command(["export", *db, "-q", "--out", str(folder / "exports")], env),
            "later_export": command(["export", *db, "-q", "--out", str(folder / "exports")], env),
        }
        figures["first_over_later_export"] = round(
            figures["first_export"]["seconds"] / figures["later_export"]["seconds"], 2
        )
        figures["import_plus_first_export_s"] = round(
            figures["import"]["seconds"] + figures["first_export"]["seconds"], 3
        )
        figures.update(web_flow(instance, url, pages))
        if backend == "sqlite":
            figures["tokenize_later"] = tokenize_later(folder, records)
        return figures


@contextmanager
def database(backend: str, folder: Path):
    """A fresh database of the backend for one size: its URL."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'instance' / 'annotator.sqlite3'}"
        return
    url, drop = pg_scratch("flow")
    try:
        yield url
    finally:
        drop()


def tokenize_later(folder: Path, records: Path) -> dict:
    """The other way: an import that leaves language and tokens for the first export."""
    instance = folder / "later-instance"
    instance.mkdir(mode=0o700)
    env = {**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance)}
    db = ["--db", f"sqlite:///{instance / 'annotator.sqlite3'}"]
    figures = {
        "import": command(["import", *db, "-q", "--no-prehighlight", "--tokenize-later", str(records)], env),
        "first_export": command(["export", *db, "-q", "--out", str(folder / "later-exports")], env),
    }
    figures["import_plus_first_export_s"] = round(figures["import"]["seconds"] + figures["first_export"]["seconds"], 3)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--pg", action="store_true", help="also run every size on PostgreSQL")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    machine = machine_info()
    sizes = [int(n) for n in args.sizes.split(",")]
    backends = ["sqlite", "postgresql"] if args.pg else ["sqlite"]
    runs = {backend: {str(n): run_size(n, args.pages, backend) for n in sizes} for backend in backends}
    targets = []
    for backend, figures in runs.items():
        smallest = figures[str(sizes[0])]
        for n, f in figures.items():
            targets += [
                Target(f"{backend} {n}: first export / later export", f["first_over_later_export"], "<=", 1.3, "x"),
                Target(f"{backend} {n}: export peak memory", f["first_export"]["peak_mib"], "<=", 600, "MiB"),
            ]
            if f is not smallest:  # a request costs the same however large the project
                f["against_smallest"] = {
                    r: round(f[r]["median_ms"] / smallest[r]["median_ms"], 2)
                    for r in REQUESTS
                    if smallest[r]["median_ms"]
                }
                targets += [
                    Target(f"{backend} {n}: {r} against {sizes[0]} documents", ratio, "<=", 1.2, "x")
                    for r, ratio in f["against_smallest"].items()
                ]
    lines = [
        f"{backend} {n}: import {f['import']['seconds']} s, first export {f['first_export']['seconds']} s "
        f"({f['first_export']['peak_mib']} MiB), later {f['later_export']['seconds']} s, workspace "
        f"{f['open_workspace']['median_ms']} ms, save {f['save_span']['median_ms']} ms, list "
        f"{f['document_list']['median_ms']} ms, search {f['search']['median_ms']} ms"
        + (
            f"; with --tokenize-later import + first export {f['tokenize_later']['import_plus_first_export_s']} s "
            f"against {f['import_plus_first_export_s']} s"
            if "tokenize_later" in f
            else ""
        )
        for backend, figures in runs.items()
        for n, f in figures.items()
    ]
    path = write_result("flow", runs, targets, machine=machine, started=started)
    print_summary("whole flow", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
