"""Run one job in a worker: claim it, keep its heartbeat, report progress, honour a cancel,
record how it ended. What each kind of job does is a handler the worker installs (the
command line's worker registers import, export, suggest and train), so this module needs
nothing but the jobs table.

A handler gets the installed project (anything with `.db`), the job and a Reporter whose
start(total)/update(n) it passes on as the progress callbacks the commands already take. A
cancel raises Cancelled (a KeyboardInterrupt) from update(): the work stops exactly as a
command stops on Ctrl+C, keeping only whole committed groups."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from annotator.jobs.store import beat, claim, finish, get_job

log = logging.getLogger(__name__)
HANDLERS: dict[str, Callable] = {}
_installed: dict = {}
GROUP_ENV = "ANNOTATOR_WORKER_GROUP"  # "host:pid" of the `annotator worker` that forked this process
REPORT_EVERY = 0.5  # seconds between progress writes


class Cancelled(KeyboardInterrupt):
    """Someone pressed Cancel: the job stops where Ctrl+C would stop the command."""


@dataclass
class Outcome:
    state: str  # done | failed | cancelled
    message: str
    problems: list[dict] = field(default_factory=list)
    result: dict = field(default_factory=dict)


def install(project, handlers: dict[str, Callable], heartbeat_every: float = 5.0) -> None:
    """What this worker process runs jobs with (before the queue's consumer starts)."""
    HANDLERS.clear()
    HANDLERS.update(handlers)
    _installed.update(project=project, heartbeat_every=heartbeat_every)


def worker_name() -> str:
    group = os.environ.get(GROUP_ENV) or f"{socket.gethostname()}:{os.getpid()}"
    return f"{group}:{os.getpid()}"


class Reporter:
    """Progress of one job into its row, at most every REPORT_EVERY seconds, and a heartbeat
    thread that renews the row even while the work gives no progress (loading a model)."""

    def __init__(self, db, job_id: int, heartbeat_every: float):
        self.db, self.job_id, self.every = db, job_id, heartbeat_every
        self.done, self.total, self.cancelled = 0, None, False
        self._last = 0.0
        self._stop = threading.Event()

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self._report(force=True)

    def update(self, n: int) -> None:
        self.done += n
        self._report()

    def _report(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= REPORT_EVERY or self.cancelled:
            self._last = now
            self.cancelled = beat(self.db, self.job_id, self.done, self.total) or self.cancelled
        if self.cancelled:
            raise Cancelled

    @contextmanager
    def beating(self):
        thread = threading.Thread(target=self._beat, name=f"job-{self.job_id}-heartbeat", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.cancelled = beat(self.db, self.job_id) or self.cancelled
            except Exception:  # a busy database now and then must not end the job
                log.exception("heartbeat of job %s", self.job_id)


def execute(job_id: int) -> str | None:
    """The queue's one task: run job `job_id` with the installed handlers; its final state."""
    project = _installed["project"]
    db = project.db
    if not claim(db, job_id, worker_name()):
        return None  # cancelled before it started, or run already
    job = get_job(db, job_id)
    reporter = Reporter(db, job_id, _installed.get("heartbeat_every", 5.0))
    with reporter.beating():
        try:
            outcome = HANDLERS[job.kind](project, job, reporter)
        except Cancelled:
            outcome = Outcome("cancelled", "Cancelled: nothing was stored.")
        except Exception as exc:  # the job fails with the reason; the worker goes on
            log.exception("job %s (%s) failed", job_id, job.kind)
            outcome = Outcome("failed", f"{type(exc).__name__}: {exc}")
    if outcome.state == "done" and reporter.total is not None:  # some stages count only what they stored
        beat(db, job_id, reporter.total, reporter.total)
    finish(db, job_id, outcome.state, outcome.message, outcome.problems, outcome.result)
    return outcome.state
