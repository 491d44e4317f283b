"""Load test: annotators saving spans concurrently on loopback, then a count of what was stored.

    .venv/bin/python -m benchmarks.load_test [--seconds 60] [--requests 20000] [--clients 10] [--db both]

`annotator serve` (gunicorn, 2 workers x 2 threads, its defaults) on a project of 20 seed variants (about
3 KB each, tokens stored), two annotators per document. Each of the ten clients logs in through
the login form, reads its queue (/assignments/mine) and the layer version of each of its
documents, then saves spans (POST /annotate/<uid>/spans, htmx headers, CSRF token) round-robin
over its documents as fast as the answers come, each naming the version it saw: the next
version comes from the answer, and after a 409 from the page again. The run stops after
--seconds or after --requests saves in all, whichever comes first.

Then, with the server stopped, every annotator layer must hold exactly as many spans and audit
events as saves were acknowledged (200) for it: a lost write or a phantom one fails the run
(exit 1), as does a server error. Reported per database: acknowledged saves per second and the
median and p95 latency of a save as the client sees it.
"""

from __future__ import annotations

import argparse
import http.client
import math
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from ._common import Target, exit_code, machine_info, print_summary, timed, write_result
from ._corpus import spacy_tokens, variant
from .document_list import gunicorn
from .workspace_server import Client, add_annotators, throwaway_pg

DOCUMENTS = 20
OVERLAP = 2
LABELS = ("ORG", "PERSON", "GPE", "PRODUCT", "MODEL", "DATE")  # QUANTITY left out: its parser would vary the work
QUEUE_LINK = re.compile(r'<a href="/annotate/([^"/]+)">')
VERSION = re.compile(r'id="ws-version"[^>]*value="(\d+)"')


# --- the project ---------------------------------------------------------------------------


def build(url: str, instance: Path, names: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Documents with their tokens stored, the annotator accounts and their assignments;
    returns each document's tokens (every token is a span the server takes unchanged)."""
    from annotator.db import ensure_schema, get_db
    from annotator.models import Document
    from annotator.tokens import pack
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url})
    ensure_schema(get_db(app))
    tokens = {}
    with get_db(app).writing() as session:
        for i in range(DOCUMENTS):
            lang, body = variant(i, salt=7)
            uid = f"load-{i:03d}"
            tokens[uid] = spacy_tokens(lang, body)
            session.add(
                Document(
                    uid=uid,
                    text=body,
                    lang=lang,
                    lang_source="import",
                    title=body.split("\n", 1)[0][:200],
                    n_chars=len(body),
                    tokens=pack(tokens[uid]),
                    source="bench",
                )
            )
    get_db(app).dispose()
    add_annotators(url, instance, names, min(OVERLAP, len(names)))
    return tokens


# --- the clients ---------------------------------------------------------------------------


class Budget:
    """The run's bounds, shared by the clients: a deadline and a cap on saves in all."""

    def __init__(self, seconds: float, requests: int):
        self.seconds, self.left, self.lock = seconds, requests, threading.Lock()
        self.deadline = math.inf

    def start(self) -> None:
        self.deadline = time.monotonic() + self.seconds

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


@dataclass
class Tally:
    """One client's record: latency of every save, answers by status, acknowledgements per document."""

    name: str
    samples_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    acked: Counter = field(default_factory=Counter)
    transport_errors: int = 0
    failure: str | None = None  # why the client stopped early, if it did


def annotate(port: int, name: str, tokens: dict, budget: Budget, ready: threading.Barrier, tally: Tally) -> None:
    """Log in, read the queue and versions, wait for the others, then save until the budget ends."""
    try:
        client = Client(port, name)
        client.request("GET", "/assignments/mine")
        uids = QUEUE_LINK.findall(client.body)
        versions = {uid: read_version(client, uid) for uid in uids}
    except Exception as exc:
        tally.failure = f"{exc.__class__.__name__}: {exc}"
        ready.abort()  # the others would wait for this client for ever
        raise
    ready.wait()
    try:
        save_until_done(client, uids, versions, tokens, budget, tally)
    except Exception as exc:
        tally.failure = f"{exc.__class__.__name__}: {exc}"
        raise


def save_until_done(
    client: Client, uids: list[str], versions: dict, tokens: dict, budget: Budget, tally: Tally
) -> None:
    """Round-robin over the queue; each document's spans in order, token by token, label by label."""
    plans = {uid: [(s, e, label) for label in LABELS for s, e in tokens[uid]] for uid in uids}
    tried, turn = Counter(), 0
    while uids and budget.take():
        uid = uids[turn % len(uids)]
        start, end, label = plans[uid][tried[uid] % len(plans[uid])]
        turn, tried[uid] = turn + 1, tried[uid] + 1
        try:
            status, ms = client.request(
                "POST", f"/annotate/{uid}/spans", {"start": start, "end": end, "label": label, "version": versions[uid]}
            )
        except (OSError, http.client.HTTPException):
            tally.transport_errors += 1  # the write may or may not have landed: the count afterwards tells
            client.conn.close()
            versions[uid] = read_version(client, uid)
            continue
        tally.samples_ms.append(ms)
        tally.statuses[status] += 1
        if status == 200:
            tally.acked[uid] += 1
            found = VERSION.search(client.body)
            versions[uid] = int(found.group(1)) if found else read_version(client, uid)
        elif status == 409:
            versions[uid] = read_version(client, uid)


def read_version(client: Client, uid: str) -> int:
    status, _ = client.request("GET", f"/annotate/{uid}")
    found = VERSION.search(client.body)
    if status != 200 or not found:
        raise RuntimeError(f"no layer version on the page of {uid} ({status})")
    return int(found.group(1))


def run_clients(port: int, names: list[str], tokens: dict, budget: Budget) -> tuple[list[Tally], float]:
    tallies = [Tally(name) for name in names]
    ready = threading.Barrier(len(names) + 1, timeout=300)
    threads = [threading.Thread(target=annotate, args=(port, t.name, tokens, budget, ready, t)) for t in tallies]
    for thread in threads:
        thread.start()
    ready.wait()  # everyone is logged in and knows their versions
    budget.start()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return tallies, time.perf_counter() - started


# --- the count -----------------------------------------------------------------------------


def stored(url: str, instance: Path, names: list[str]) -> dict[tuple[str, str], dict]:
    """Spans and audit events per annotator layer (name, document uid), read after the run."""
    from annotator.db import get_db
    from annotator.models import AuditEvent, Document, Layer, Span
    from annotator.web.app import create_app

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url})
    with get_db(app).reading() as s:
        layers = s.exec(
            select(Layer.id, Layer.name, Document.uid)
            .join(Document, Document.id == Layer.document_id)
            .where(Layer.name.in_(names))
        ).all()
        spans = dict(s.exec(select(Span.layer_id, func.count()).group_by(Span.layer_id)).all())
        events = dict(
            s.exec(
                select(AuditEvent.layer_id, func.count())
                .where(AuditEvent.user.in_(names))
                .group_by(AuditEvent.layer_id)
            ).all()
        )
        stray = s.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.user.in_(names), AuditEvent.layer_id.is_(None))
        ).scalar_one()
    get_db(app).dispose()
    counts = {(name, uid): {"spans": spans.get(lid, 0), "events": events.get(lid, 0)} for lid, name, uid in layers}
    counts[("*", "no layer")] = {"spans": 0, "events": stray}  # an annotator's event outside any layer is a phantom too
    return counts


def compare(tallies: list[Tally], counts: dict) -> list[dict]:
    """Every layer whose stored spans or events differ from the saves acknowledged for it."""
    acked = {(t.name, uid): n for t in tallies for uid, n in t.acked.items()}
    mismatches = []
    for key in sorted(set(acked) | set(counts)):
        got, want = counts.get(key, {"spans": 0, "events": 0}), acked.get(key, 0)
        if got["spans"] != want or got["events"] != want:
            mismatches.append({"annotator": key[0], "document": key[1], "acknowledged": want, **got})
    return mismatches


def percentile(ordered: list[float], p: float) -> float:
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]  # nearest rank


def measure(url: str, instance: Path, clients: int, seconds: float, requests: int) -> dict:
    names = [f"load{i:02d}" for i in range(clients)]
    tokens = build(url, instance, names)
    with gunicorn(None, instance, url=url, workers=2, threads=2) as port:
        tallies, wall = run_clients(port, names, tokens, Budget(seconds, requests))
    counts = stored(url, instance, names)
    mismatches = compare(tallies, counts)
    samples = sorted(ms for t in tallies for ms in t.samples_ms)
    acked = sum(sum(t.acked.values()) for t in tallies)
    statuses = sum((t.statuses for t in tallies), Counter())
    return {
        "seconds": round(wall, 1),
        "saves_sent": len(samples),
        "acknowledged": acked,
        "stored_spans": sum(c["spans"] for c in counts.values()),
        "stored_events": sum(c["events"] for c in counts.values()),
        "mismatched_layers": mismatches[:20],
        "mismatch_count": len(mismatches),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "transport_errors": sum(t.transport_errors for t in tallies),
        "saves_per_s": round(acked / wall, 1) if wall else None,
        "median_ms": round(statistics.median(samples), 1) if samples else None,
        "p95_ms": round(percentile(samples, 0.95), 1) if samples else None,
        "max_ms": round(samples[-1], 1) if samples else None,
        "per_annotator": {t.name: sum(t.acked.values()) for t in tallies},
        "client_failures": {t.name: t.failure for t in tallies if t.failure},
    }


def measured(url: str, instance: Path, args) -> dict:
    """measure(), plus how many cores other processes kept busy meanwhile: the machine is
    shared, and a busy neighbour shows in the latency before anywhere else."""
    timing, figures = timed(lambda: measure(url, instance, args.clients, args.seconds, args.requests))
    return {**figures, "other_processes_cores": timing.others_cores}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the clients save (default 60)")
    parser.add_argument("--requests", type=int, default=20000, help="cap on saves, all clients together")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    figures: dict = {
        "clients": args.clients,
        "seconds_asked": args.seconds,
        "requests_cap": args.requests,
        "documents": DOCUMENTS,
        "overlap": OVERLAP,
        "server": "gunicorn 2 workers x 2 threads",
    }
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            figures["sqlite"] = measured(f"sqlite:///{Path(tmp) / 'load.sqlite3'}", Path(tmp) / "instance", args)
    if args.db in ("postgresql", "both"):
        with throwaway_pg() as url, tempfile.TemporaryDirectory() as tmp:
            figures["postgresql"] = measured(url, Path(tmp) / "instance", args)
    databases = [db for db in ("sqlite", "postgresql") if db in figures]
    targets = [
        t
        for db in databases
        for t in (
            Target(
                f"{db}: layers whose spans or events differ from the acknowledged saves",
                figures[db]["mismatch_count"],
                "<=",
                0,
                "layers",
            ),
            Target(f"{db}: server errors", figures[db]["server_errors"], "<=", 0, "answers"),
            Target(f"{db}: clients stopped by an error", len(figures[db]["client_failures"]), "<=", 0, "clients"),
        )
    ]
    path = write_result(
        "load_test",
        figures,
        targets,
        machine=machine,
        started=started,
        notes=[
            "Latency as the client sees it on loopback, per save; throughput counts acknowledged (200) saves only.",
            "Stored spans and audit events are counted per annotator layer after the server stopped.",
        ],
    )
    lines = [
        f"{db:<10} {r['acknowledged']:>6} saves acknowledged in {r['seconds']} s = {r['saves_per_s']} saves/s;"
        f" median {r['median_ms']} ms, p95 {r['p95_ms']} ms; stored {r['stored_spans']} spans,"
        f" {r['stored_events']} events; answers {r['statuses']};"
        f" other processes busy {r['other_processes_cores']} cores"
        for db, r in ((d, figures[d]) for d in databases)
    ]
    for db in databases:
        for m in figures[db]["mismatched_layers"]:
            lines.append(f"MISMATCH {db}: {m}")
    print_summary("load_test", lines, targets, path)
    return exit_code(targets)


if __name__ == "__main__":
    sys.exit(main())
