"""Workspace server times under 10 concurrent clients on loopback, SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.workspace_server [--clients 10] [--requests 30] [--no-pg]

`annotator serve` (gunicorn, 2 workers x 2 threads, its defaults) on a project with a 3 KB seed document
and a 200 KB seed-built document (3,500 suggestions). Ten client threads, each its own
annotator with a kept-alive connection, time: rendering the workspace of each document, and
saving one span (each client writes its own layer, so no save is refused as stale). Each
client logs in through the login form as an annotator account made beforehand, with both
documents assigned to it. The clients send their next request as soon as the last one is
answered (no pause), so the server runs saturated for the whole measurement. In each case all
clients log in first (a login hashes a password), then each sends WARMUP_REQUESTS untimed
requests (their server times are reported apart, as `warmup`), then the timed ones.

Two times per request:
- server: the app's own time from its Server-Timing header (the server runs with
  SERVER_TIMING on), from the moment a worker thread takes the request to the response:
  cookies, login, CSRF, the view, the database (the write lock included) and the template,
  and the CPU it shares with the other requests in its process;
- client: what the client waited, which adds the loopback round trip and the time the
  request queued for a free worker. At saturation that queue is most of it: ten clients on
  two cores wait for each other whatever the server does, so this figure is reported but
  the targets are the server's.
Targets (server p95): render 3 KB < 50 ms, render 200 KB < 300 ms, save < 30 ms.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, insert, text

from ._common import Target, exit_code, machine_info, print_summary, write_result
from ._corpus import spacy_tokens, variant
from .document_list import gunicorn
from .workspace_browser import build as build_long

PG_ADMIN = os.environ.get("ANNOTATOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TARGETS_MS = {"render 3 KB": 50.0, "render 200 KB": 300.0, "save span": 30.0}
PASSWORD = "bench-password"
FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SERVER_TIMING = re.compile(r"app;dur=([0-9.]+)")
# Requests each client sends before the timed ones: a fresh worker process compiles its
# templates and statements on its first requests, a one-off per process, not its steady state.
WARMUP_REQUESTS = 5


def add_short_document(url: str, instance: Path) -> None:
    from annotator.db import get_db
    from annotator.models import Document
    from annotator.tokens import pack
    from annotator.web.app import create_app

    lang, body = variant(0)
    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url})
    with get_db(app).write_engine.begin() as conn:
        conn.execute(
            insert(Document).values(
                id=2,
                uid="short-3kb",
                text=body,
                lang=lang,
                title="3 KB seed",
                meta={},
                n_chars=len(body),
                tokens=pack(spacy_tokens(lang, body)),
                n_suggestions=0,
            )
        )
    get_db(app).dispose()


class Client:
    """One annotator's browser: a kept-alive connection, its cookies, logged in through the
    login form; writes carry the CSRF token in X-CSRFToken and HX-Request, as htmx sends them."""

    def __init__(self, port: int, name: str, password: str = PASSWORD):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.token = ""
        self.version = 0
        self.body = ""  # the last answer, for callers that read a version or a token from it
        self.server_ms: float | None = None  # the last answer's Server-Timing, when the server sends one
        self.log_in(name, password)

    def log_in(self, name: str, password: str) -> None:
        self.request("GET", "/login")
        self.token = FORM_TOKEN.search(self.body).group(1)
        status, _ = self.request(
            "POST", "/login", {"name": name, "password": password, "csrf_token": self.token}, htmx=False
        )
        if status != 302:
            raise RuntimeError(f"could not log in as {name}: {status}")

    def request(self, method: str, path: str, form: dict | None = None, htmx: bool = True) -> tuple[int, float]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            if htmx:
                headers.update({"HX-Request": "true", "X-CSRFToken": self.token})
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed this kept-alive connection while it sat idle (a client that
            # waited for the others): like a browser, open a new one and send again
            self.conn.close()
            started = time.perf_counter()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        raw = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        self.body = raw.decode("utf-8", "replace")
        timing = SERVER_TIMING.search(response.getheader("Server-Timing") or "")
        self.server_ms = float(timing.group(1)) if timing else None
        for cookie in response.msg.get_all("Set-Cookie") or []:
            key, _, value = cookie.split(";", 1)[0].partition("=")
            if value:
                self.cookies[key.strip()] = value
            else:
                self.cookies.pop(key.strip(), None)
        return response.status, elapsed


def add_annotators(url: str, instance: Path, names: list[str], overlap: int | None = None) -> None:
    """Annotator accounts (password PASSWORD) with the project's documents assigned to them,
    `overlap` annotators per document (default: every document to everyone), made on the
    database before the server starts: annotators open only what is assigned to them."""
    from annotator.db import get_db
    from annotator.team.accounts import create_user
    from annotator.team.assignments import assign
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url})
    with get_db(app).writing() as session:
        for name in names:
            create_user(session, name, "annotator", PASSWORD)
        assign(session, "bench", names, overlap or len(names))
    get_db(app).dispose()


def run_case(
    port: int, clients: int, requests: int, case: str, spans_at: list[tuple[int, int]], warmup: int = WARMUP_REQUESTS
) -> dict:
    """Each client logs in, waits for the others, sends `warmup` requests of the case (kept
    apart as the first requests' figures), waits for the others again, then sends `requests`
    timed ones; requests per second count the timed window only."""
    samples: list[float] = []
    server: list[float] = []
    first: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    window: list[float] = []
    logged_in = threading.Barrier(clients)
    barrier = threading.Barrier(clients, action=lambda: window.append(time.perf_counter()))

    def send(client: Client, index: int, r: int) -> tuple[int, float]:
        if case == "save span":
            start, end = spans_at[(index * (requests + warmup) + r) % len(spans_at)]
            status, ms = client.request(
                "POST",
                "/annotate/short-3kb/spans",
                {"start": start, "end": end, "label": "ORG", "version": client.version},
            )
            if status == 200:
                client.version += 1
            return status, ms
        uid = "short-3kb" if case == "render 3 KB" else "long-200kb"
        return client.request("GET", f"/annotate/{uid}")

    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            run_client(index)
        except BaseException as exc:  # reported after the join: a lost client must not go unnoticed
            errors.append(exc)
            logged_in.abort()
            barrier.abort()

    def run_client(index: int) -> None:
        client = Client(port, f"bench{index}")
        logged_in.wait()  # logging in hashes a password: not while others send their first requests
        for r in range(warmup):
            send(client, index, r)
            with lock:
                first.append(client.server_ms or 0.0)
        barrier.wait()
        for r in range(warmup, warmup + requests):
            status, ms = send(client, index, r)
            with lock:
                samples.append(ms)
                if client.server_ms is not None:
                    server.append(client.server_ms)
                statuses[str(status)] = statuses.get(str(status), 0) + 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} of {clients} clients failed in {case!r}") from errors[0]
    wall = time.perf_counter() - window[0]
    if len(server) != len(samples):
        raise RuntimeError("the server sent no Server-Timing header: is SERVER_TIMING on?")
    out = {
        "n": len(samples),
        **_percentiles("server", server),
        **_percentiles("client", samples),
        "requests_per_s": round(len(samples) / wall, 1),
        "statuses": statuses,
    }
    if first:
        out["warmup"] = {"n": len(first), **_percentiles("server", first)}
    return out


def _percentiles(prefix: str, samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        f"{prefix}_median_ms": round(statistics.median(ordered), 1),
        f"{prefix}_p95_ms": round(ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)], 1),  # nearest rank
        f"{prefix}_max_ms": round(ordered[-1], 1),
    }


def word_offsets(text_: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[A-Za-z]{3,}", text_)]


def measure(
    url: str, instance: Path, clients: int, requests: int, cases=tuple(TARGETS_MS), server: tuple[int, int] = (2, 2)
) -> dict:
    build_long(Path("unused"), instance, url)
    add_short_document(url, instance)
    _, body = variant(0)
    spans_at = word_offsets(body)
    add_annotators(url, instance, [f"bench{i}" for i in range(clients)] + ["warmup"])
    results = {}
    workers, threads = server
    with gunicorn(
        None, instance, url=url, workers=workers, threads=threads, env={"ANNOTATOR_SERVER_TIMING": "true"}
    ) as port:
        Client(port, "warmup").request("GET", "/annotate/long-200kb")
        for case in cases:
            results[case] = run_case(port, clients, requests, case, spans_at)
    return results


@contextmanager
def throwaway_pg():
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"annotator_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=30, help="requests per client and case")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--case", action="append", choices=list(TARGETS_MS), help="only this case (repeatable)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (annotator serve's default: 2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (annotator serve's default: 2)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures: dict = {
        "clients": args.clients,
        "requests_per_client": args.requests,
        "server": f"gunicorn {args.workers} workers x {args.threads} threads",
    }
    with tempfile.TemporaryDirectory() as tmp:
        figures["sqlite"] = measure(
            f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            Path(tmp) / "instance",
            args.clients,
            args.requests,
            args.case or tuple(TARGETS_MS),
            (args.workers, args.threads),
        )
    if not args.no_pg:
        with throwaway_pg() as url, tempfile.TemporaryDirectory() as tmp:
            figures["postgresql"] = measure(
                url,
                Path(tmp) / "instance",
                args.clients,
                args.requests,
                args.case or tuple(TARGETS_MS),
                (args.workers, args.threads),
            )
    targets = [
        Target(f"{db}: {case} server p95", figures[db][case]["server_p95_ms"], "<=", limit, "ms")
        for db in ("sqlite", "postgresql")
        if db in figures
        for case, limit in TARGETS_MS.items()
        if case in figures[db]
    ]
    notes = [
        "server_*: the app's own time per request (Server-Timing), with 10 clients sending without pause.",
        "client_*: what each client waited on loopback, the queue for a free worker included.",
        f"Each client first sends {WARMUP_REQUESTS} untimed requests of a case (their server times: warmup), "
        "so the figures are the workers' steady state; requests_per_s counts the timed window only.",
    ]
    path = write_result("workspace_server", figures, targets, machine=machine_info(), started=started, notes=notes)
    lines = [
        f"{db:<10} {case:<14} server median {r['server_median_ms']:>6} p95 {r['server_p95_ms']:>6} ms | "
        f"client median {r['client_median_ms']:>6} p95 {r['client_p95_ms']:>6} ms | {r['requests_per_s']:>6} req/s  "
        f"{r['statuses']} | first {WARMUP_REQUESTS} per client: server p95 {r['warmup']['server_p95_ms']} ms"
        for db in ("sqlite", "postgresql")
        if db in figures
        for case, r in figures[db].items()
    ]
    print_summary("workspace_server", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
