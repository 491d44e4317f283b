"""The whole first hour of a project, at several corpus sizes, in one JSON file.

    .venv/bin/python -m benchmarks.flow [--sizes 1000,10000,100000] [--pages 50] [--pg]

Per size, on a fresh SQLite project: the commands as a user types them, each a subprocess
timed whole (start-up included) with the peak memory of its process tree (the sum over
the command and its workers, sampled every 20 ms, PSS: shared pages once):
`annotator import --no-prehighlight` of N seed-cycled records with 3 pre-annotated spans
each, the first `annotator export`, a later export of the same data (told unchanged from the
data mark), and the same with `--rebuild` (every record built and compared). Then, once every
size's project stands, in one process through the app (a curator logged in through the
login form, the request times as the app serves them, no network), 50 rounds, each round
every size's flow once, the sizes in a shuffled order: open a workspace, save a span in it
(to the curator's own layer), read that layer as a task's JSON, the document list, one
search of it (three searches in turn); after the rounds, the export of what they saved. The
ratio first/rebuilt export (both build every record) is the figure that shows whether
first-use work (tokens, language, token arrays) still falls on the first export. Each
request's median at a size over its median at the smallest size shows whether requests cost
the same however large the project (target 1.2x); interleaving the sizes is what lets a
shared machine's noise fall on them alike. `--pg` repeats every size on a scratch
PostgreSQL database. The same records imported with
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
from contextlib import ExitStack, contextmanager
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


class Site:
    """One size's project served in this process, a curator logged in: each request of the
    flow timed as the app serves it."""

    def __init__(self, instance: Path, url: str, pages: int):
        from sqlalchemy import select

        from annotator.db import get_db
        from annotator.models import Document
        from annotator.team.accounts import create_user
        from annotator.web.app import create_app

        self.app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url})
        with get_db(self.app).writing() as session:
            create_user(session, "lead", "curator", PASSWORD)
        with get_db(self.app).reading() as session:
            count = session.exec(select(Document.id).order_by(Document.id.desc()).limit(1)).scalar_one()
            step = max(1, count // (pages + 1))  # one more for the warm-up round
            query = select(Document.uid, Document.text).where(Document.id % step == 0).limit(pages + 1)
            self.picked = session.exec(query).all()
        self.client = self.app.test_client()
        token = TOKEN.search(self.client.get("/login").get_data(as_text=True)).group(1)
        self.client.post("/login", data={"name": "lead", "password": PASSWORD, "csrf_token": token})
        self.headers = {"X-CSRFToken": token, "HX-Request": "true"}
        self.samples = {r: [] for r in REQUESTS}

    def timed(self, request: str, call):
        start = time.perf_counter()
        response = call()
        self.samples[request].append(time.perf_counter() - start)
        assert response.status_code == 200, (request, response.status_code, response.get_data(as_text=True)[:300])
        return response

    def round(self, i: int) -> None:
        """The flow once, on the i-th picked document: open its workspace, save a span in the
        curator's layer, read that layer as JSON, then the list and one search."""
        uid, text = self.picked[i]
        page = self.timed("open_workspace", lambda: self.client.get(f"/annotate/{uid}"))
        version = re.search(r'name="version" value="(\d+)"', page.get_data(as_text=True))
        word = re.search(r"\w{4,}", text)
        form = {"start": word.start(), "end": word.end(), "label": "ORG", "version": version.group(1) if version else 0}
        self.timed("save_span", lambda: self.client.post(f"/annotate/{uid}/spans", data=form, headers=self.headers))
        self.timed("task_json", lambda: self.client.get(f"/documents/{uid}/layers/lead.json"))
        self.timed("document_list", lambda: self.client.get("/"))
        query = SEARCHES[i % len(SEARCHES)]
        self.timed("search", lambda: self.client.get("/", query_string=query))

    def figures(self) -> dict:
        def ms(samples):
            return {"median_ms": round(statistics.median(samples) * 1000, 2), "max_ms": round(max(samples) * 1000, 2)}

        return {r: ms(samples) for r, samples in self.samples.items()}

    def close(self) -> None:
        from annotator.db import get_db

        get_db(self.app).dispose()


REQUESTS = ("open_workspace", "save_span", "task_json", "document_list", "search")


def interleaved(sites: dict[str, Site], pages: int) -> None:
    """Every size's flow in turn, round by round, the order of the sizes shuffled each round:
    the machine's slow and quiet spells fall on all sizes alike, so their medians compare
    (measured one size after another, minutes apart, the same medians moved 0.64-1.35x)."""
    order = list(sites)
    shuffle = random.Random(17)
    for site in sites.values():  # warm: the first request of each app compiles its templates
        site.round(pages)
        site.samples = {r: [] for r in REQUESTS}
    for i in range(pages):
        shuffle.shuffle(order)
        for n in order:
            sites[n].round(i)


def run_backend(sizes: list[int], pages: int, backend: str) -> dict:
    """The commands per size, one size after another; then every size's requests, interleaved."""
    runs, sites, after_saves = {}, {}, {}
    with ExitStack() as stack:
        for n in sizes:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="flow-")))
            url = stack.enter_context(database(backend, folder))
            runs[str(n)], instance = run_commands(n, folder, url, backend)
            sites[str(n)] = Site(instance, url, pages)
            stack.callback(sites[str(n)].close)
            after_saves[str(n)] = (folder, url, instance)
        interleaved(sites, pages)
        for n, site in sites.items():
            runs[n].update(site.figures())
            runs[n]["export_after_saves"] = export_after_saves(*after_saves[n])
    return runs


def export_after_saves(folder: Path, url: str, instance: Path) -> dict:
    """The export once the rounds have saved their spans: every record built, a new version."""
    env = {**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance)}
    return command(["export", "--db", url, "-q", "--out", str(folder / "exports")], env)


def run_commands(n: int, folder: Path, url: str, backend: str) -> tuple[dict, Path]:
    records = write_records(folder / "records.jsonl", n)
    instance = folder / "instance"
    env = {**os.environ, "ANNOTATOR_INSTANCE_PATH": str(instance)}
    db = ["--db", url]
    instance.mkdir(mode=0o700, exist_ok=True)
    figures = {
        "import": command(["import", *db, "-q", "--no-prehighlight", str(records)], env),
        "first_export": command(["export", *db, "-q", "--out", str(folder / "exports")], env),
        "later_export": command(["export", *db, "-q", "--out", str(folder / "exports")], env),
        "rebuilt_export": command(["export", *db, "-q", "--rebuild", "--out", str(folder / "exports")], env),
    }
    first, rebuilt = figures["first_export"]["seconds"], figures["rebuilt_export"]["seconds"]
    # both build every record: what first use still adds to the first
    figures["first_over_rebuilt_export"] = round(first / rebuilt, 2)
    figures["import_plus_first_export_s"] = round(figures["import"]["seconds"] + first, 3)
    if backend == "sqlite":
        figures["tokenize_later"] = tokenize_later(folder, records)
    return figures, instance


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
    runs = {backend: run_backend(sizes, args.pages, backend) for backend in backends}
    targets = []
    for backend, figures in runs.items():
        smallest = figures[str(sizes[0])]
        for n, f in figures.items():
            targets += [
                Target(f"{backend} {n}: first export / rebuilt export", f["first_over_rebuilt_export"], "<=", 1.3, "x"),
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
        f"({f['first_export']['peak_mib']} MiB), later {f['later_export']['seconds']} s (--rebuild "
        f"{f['rebuilt_export']['seconds']} s, after the saves {f['export_after_saves']['seconds']} s), workspace "
        f"{f['open_workspace']['median_ms']} ms, save {f['save_span']['median_ms']} ms, task JSON "
        f"{f['task_json']['median_ms']} ms, list "
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
