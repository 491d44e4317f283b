"""Pre-highlighting through the job queue with one worker and with two.

    .venv/bin/python -m benchmarks.queue [--documents 2000] [--jobs 20] [--backend sqlite|redis|both]

The corpus (variants of the seed articles, one in five Portuguese) is split into --jobs
import jobs, queued at once on a fresh SQLite project, and run by one `annotator worker`
process, then on another fresh project by two `annotator worker` processes sharing the
queue (as two hosts would). Each job pre-highlights in its worker's own process
(NLP_PROCESSES=1), so the workers are the only parallelism. Before the clock starts every
worker has loaded spaCy (it does so as it starts) and run warm-up jobs. Timed: from
queueing the jobs to the last one done. Target: (1 worker time) / (2 workers time) >= 1.7
on two cores.

The machine is shared, so each run also records the CPU seconds its workers used and the
CPU seconds everything else on the machine used meanwhile: a ratio short of the target
with the other processes busy says the cores were taken, not that the workers waited.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from ._common import Target, exit_code, machine_info, print_summary, write_result
from ._corpus import corpus

TARGET_RATIO = 1.7
REDIS_URL = "redis://127.0.0.1:6379/14"


def jobs_of(texts: list[str], n_jobs: int) -> list[bytes]:
    from annotator.jobs.uploads import Limits, pack

    size = -(-len(texts) // n_jobs)
    return [
        pack(
            [(f"part{i:03d}.jsonl", "".join(json.dumps({"text": t}) + "\n" for t in texts[s : s + size]).encode())],
            [],
            Limits(),
        )
        for i, s in enumerate(range(0, len(texts), size))
    ]


def run(folder: Path, uploads: list[bytes], workers: int, backend: str) -> dict:
    from annotator.db import Database, ensure_schema
    from annotator.jobs.queue import Queue
    from annotator.jobs.store import create_job, list_jobs

    url = f"sqlite:///{folder / 'instance' / 'annotator.sqlite3'}"
    db = Database(url=url)
    ensure_schema(db)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "ANNOTATOR_INSTANCE_PATH": str(folder / "instance"),
        "DATABASE_URL": url,
        "ANNOTATOR_NLP_PROCESSES": "1",
        "ANNOTATOR_QUEUE_NAME": name,
    }
    config = {"DATABASE_URL": url, "INSTANCE_PATH": str(folder / "instance"), "QUEUE_NAME": name}
    if backend == "redis":
        env["ANNOTATOR_QUEUE_URL"] = config["QUEUE_URL"] = REDIS_URL
    queue = Queue.for_config(config)
    processes = [start_worker(env, folder) for _ in range(workers)]
    try:
        wait_all(db, [enqueue(db, queue, create_job, u) for u in warm_ups(workers * 2)])
        time.sleep(1.0)
        cpu_before, machine_before = [cpu_seconds(p.pid) for p in processes], machine_busy()
        started = time.perf_counter()
        ids = [enqueue(db, queue, create_job, u) for u in uploads]
        wait_all(db, ids)
        wall = time.perf_counter() - started
        cpu = sum(cpu_seconds(p.pid) for p in processes) - sum(cpu_before)
        others = max(machine_busy() - machine_before - cpu, 0.0)
        jobs = [j for j in list_jobs(db, limit=len(ids)) if j.id in set(ids)]
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGINT)
        for process in processes:
            process.wait(30)
        queue.flush()
        db.dispose()
    states = {j.state for j in jobs}
    if states != {"done"}:
        raise SystemExit(f"jobs ended {states}: {[j.message for j in jobs if j.state != 'done'][:3]}")
    stored = sum(j.result.get("new", 0) for j in jobs)
    return {
        "workers": workers,
        "wall_s": round(wall, 2),
        "documents": stored,
        "docs_per_s": round(stored / wall, 1),
        "workers_used": len({j.worker.rsplit(":", 1)[0] for j in jobs}),
        "worker_cpu_s": round(cpu, 1),
        "worker_cpu_ms_per_doc": round(cpu * 1000 / max(stored, 1), 1),
        "worker_cores_busy": round(cpu / wall, 2),
        "other_processes_cores_busy": round(others / wall, 2),
    }


def start_worker(env: dict, folder: Path) -> subprocess.Popen:
    """One `annotator worker` with one process, in its own group (so SIGINT reaches it whole)."""
    return subprocess.Popen(
        [sys.executable, "-m", "annotator.cli", "worker", "--workers", "1"],
        env=env,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def warm_ups(n: int) -> list[bytes]:
    from annotator.jobs.uploads import Limits, pack

    return [
        pack([(f"warm{i}.txt", f"Warm-up {i}: Nvidia sold 10 H100 chips.".encode())], [], Limits()) for i in range(n)
    ]


def cpu_seconds(session: int) -> float:
    """User and system CPU seconds of the live processes of one session (a worker and the
    processes it forked)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # fields after the name: state ppid pgrp session ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


def machine_busy() -> float:
    """CPU seconds every core of the machine has spent busy since it started."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def enqueue(db, queue, create_job, upload: bytes) -> int:
    job_id = create_job(db, "import", {"prehighlight": True}, "bench", upload)
    queue.enqueue(job_id)
    return job_id


def wait_all(db, ids: list[int], timeout: float = 1800) -> None:
    from annotator.jobs.store import get_job

    deadline = time.monotonic() + timeout
    for job_id in ids:
        while get_job(db, job_id).state in ("queued", "running"):
            if time.monotonic() > deadline:
                raise SystemExit(f"job {job_id} did not finish in {timeout} s")
            time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "redis", "both"), default="sqlite")
    parser.add_argument("--rounds", type=int, default=1, help="1-then-2-worker pairs per backend")
    args = parser.parse_args(argv)
    started, machine = time.perf_counter(), machine_info()
    texts = [text for _, text in corpus(args.documents)]
    uploads = jobs_of(texts, args.jobs)
    backends = ("sqlite", "redis") if args.backend == "both" else (args.backend,)
    figures = {
        "documents": args.documents,
        "jobs": len(uploads),
        "mean_chars": round(sum(map(len, texts)) / len(texts)),
        "backends": {b: [pair(uploads, b) for _ in range(args.rounds)] for b in backends},
    }
    targets = [
        Target(
            f"1-worker time / 2-worker time, {b} queue, round {i + 1}",
            r["speedup_two_over_one"],
            ">=",
            TARGET_RATIO,
            "x",
        )
        for b, rounds in figures["backends"].items()
        for i, r in enumerate(rounds)
    ]
    notes = [
        "Each run: a fresh SQLite project and queue, one or two `annotator worker --workers 1` subprocesses, "
        "spaCy loaded and warm-up jobs run before timing; NLP_PROCESSES=1 so each job pre-highlights in its "
        "worker process.",
        f"{os.cpu_count()} cores shared with other work: worker_cores_busy is the CPU the workers got, "
        "other_processes_cores_busy what everything else on the machine took meanwhile.",
        "The project database is SQLite for both backends (one writer at a time; the writes are short). "
        "worker_cpu_ms_per_doc equal for one worker and two says the second worker adds no overhead "
        "(no waiting on the queue or the write lock): a ratio short of the target then means the cores "
        "were busy with other work.",
    ]
    path = write_result("queue", figures, targets, notes, machine, started)
    lines = [f"{args.documents:,} documents in {len(uploads)} import jobs (~{figures['mean_chars']:,} chars)"]
    for backend, rounds in figures["backends"].items():
        for i, r in enumerate(rounds):
            one, two = r["one_worker"], r["two_workers"]
            lines.append(
                f"{backend} round {i + 1}: 1 worker {one['wall_s']:.1f} s ({one['docs_per_s']} docs/s, "
                f"{one['worker_cores_busy']} cores, others {one['other_processes_cores_busy']}); "
                f"2 workers {two['wall_s']:.1f} s ({two['docs_per_s']} docs/s, {two['worker_cores_busy']} cores, "
                f"others {two['other_processes_cores_busy']}); {r['speedup_two_over_one']:.2f}x"
            )
    print_summary("queue", lines, targets, path)
    return exit_code(targets)


def pair(uploads: list[bytes], backend: str) -> dict:
    """One worker, then two, each on a fresh project; their ratio."""
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        (Path(tmp) / "one").mkdir()
        (Path(tmp) / "two").mkdir()
        one = run(Path(tmp) / "one", uploads, 1, backend)
        two = run(Path(tmp) / "two", uploads, 2, backend)
    return {"one_worker": one, "two_workers": two, "speedup_two_over_one": round(one["wall_s"] / two["wall_s"], 2)}


if __name__ == "__main__":
    sys.exit(main())
