"""Projects and `annotator worker` subprocesses for the job tests, on either queue backend."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from annotator.cli.worker import READY
from annotator.db import Database, ensure_schema
from annotator.jobs.queue import Queue
from annotator.jobs.store import create_job, get_job
from annotator.jobs.uploads import pack

REDIS_URL = "redis://127.0.0.1:6379/13"  # the job tests' own Redis database


class Project:
    """A SQLite project in `folder`, its queue, and the environment a worker needs."""

    def __init__(self, folder: Path, backend: str):
        self.folder = folder
        self.url = f"sqlite:///{folder / 'instance' / 'annotator.sqlite3'}"
        self.db = Database(url=self.url)
        ensure_schema(self.db)
        self.env = {
            **os.environ,
            "ANNOTATOR_INSTANCE_PATH": str(folder / "instance"),
            "DATABASE_URL": self.url,
            "ANNOTATOR_NLP_PROCESSES": "1",
            "ANNOTATOR_JOB_HEARTBEAT_TIMEOUT": "2",
            "ANNOTATOR_QUEUE_NAME": f"test-{uuid.uuid4().hex[:10]}",
        }
        if backend == "redis":
            self.env["ANNOTATOR_QUEUE_URL"] = REDIS_URL
        config = {"DATABASE_URL": self.url, "INSTANCE_PATH": str(folder / "instance")}
        config["QUEUE_URL"] = self.env.get("ANNOTATOR_QUEUE_URL")
        config["QUEUE_NAME"] = self.env["ANNOTATOR_QUEUE_NAME"]
        self.queue = Queue.for_config(config)
        self.workers: list[subprocess.Popen] = []

    def start_worker(self, workers: int = 1) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "annotator.cli", "worker", "--workers", str(workers)],
            env=self.env,
            cwd=self.folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: kill -9 reaches the forked workers too
        )
        self.workers.append(process)
        return process

    def wait_ready(self, process: subprocess.Popen, processes: int = 1, timeout: float = 120) -> None:
        """Until each of the worker command's processes says it is warm (spaCy loaded). Its
        lines are read by a thread, so a worker that hangs silent fails this in `timeout`."""
        said: list[str] = []
        ready = threading.Event()

        def read():
            for line in process.stderr:
                said.append(line)
                if sum(READY in seen for seen in said) >= processes:
                    ready.set()
                    return

        threading.Thread(target=read, daemon=True).start()
        assert ready.wait(timeout), ("not ready", process.poll(), said)

    def queue_import(self, files: dict[str, str], prehighlight: bool = True, **params) -> int:
        upload = pack([(name, text.encode()) for name, text in files.items()], [], _limits())
        job_id = create_job(self.db, "import", {"prehighlight": prehighlight, **params}, "tester", upload)
        self.queue.enqueue(job_id)
        return job_id

    def wait(self, job_id: int, states=("done", "failed", "cancelled"), timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = get_job(self.db, job_id)
            if job.state in states:
                return job
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} still {get_job(self.db, job_id).state} after {timeout} s")

    def close(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        self.queue.flush()
        self.db.dispose()


def _limits():
    from annotator.jobs.uploads import Limits

    return Limits()


def jsonl(prefix: str, n: int) -> str:
    """n distinct short English documents with numbers to pre-highlight."""
    return "".join(
        json.dumps({"text": f"{prefix} report {i}: Huawei shipped {i + 10} Ascend 910C chips with up to {i} TB/s."})
        + "\n"
        for i in range(n)
    )
