"""The jobs table: create, claim, report progress, finish, cancel, and fail the jobs of
workers that stopped beating. Every change is one short write transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from annotator.db import Database
from annotator.models import JOB_FINISHED, Job, utcnow

KINDS = ("import", "export", "suggest", "train")
HEARTBEAT_TIMEOUT = 30.0  # seconds without a heartbeat before a running job counts as dead (JOB_HEARTBEAT_TIMEOUT)
DEAD_WORKER = (
    "The worker running this job stopped answering (killed, or its host went away). "
    "Whatever it had committed is kept whole (each file of an import whole or not at all); "
    "start the job again to do the rest."
)


def create_job(db: Database, kind: str, params: dict, started_by: str, upload: bytes | None = None) -> int:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}; choose one of {', '.join(KINDS)}")
    with db.writing() as session:
        job = Job(kind=kind, params=params, started_by=started_by, upload=upload)
        session.add(job)
        session.flush()
        return job.id


def get_job(db: Database, job_id: int) -> Job | None:
    with db.reading() as session:
        return session.get(Job, job_id)


def list_jobs(db: Database, limit: int = 50) -> list[Job]:
    with db.reading() as session:
        return list(session.exec(select(Job).order_by(Job.id.desc()).limit(limit)).scalars())


def claim(db: Database, job_id: int, worker: str) -> bool:
    """Mark a queued job running by `worker`; False if it was cancelled (or taken) meanwhile."""
    now = utcnow()
    with db.writing() as session:
        taken = session.exec(
            update(Job)
            .where(Job.id == job_id, Job.state == "queued")
            .values(state="running", worker=worker, started_at=now, heartbeat_at=now)
        )
        return taken.rowcount == 1


def beat(db: Database, job_id: int, done: int | None = None, total: int | None = None) -> bool:
    """Renew the heartbeat (and the progress, if given); True if someone asked to cancel."""
    values = {"heartbeat_at": utcnow()}
    if done is not None:
        values["done"] = done
    if total is not None:
        values["total"] = total
    with db.writing() as session:
        session.exec(update(Job).where(Job.id == job_id, Job.state == "running").values(**values))
        return bool(session.exec(select(Job.cancel_requested).where(Job.id == job_id)).scalar())


def finish(db: Database, job_id: int, state: str, message: str, problems=(), result=None) -> None:
    """The end of a job. A job already failed by the reaper keeps that verdict."""
    with db.writing() as session:
        session.exec(
            update(Job)
            .where(Job.id == job_id, Job.state.not_in(JOB_FINISHED))
            .values(
                state=state,
                message=message,
                problems=list(problems),
                result=result or {},
                finished_at=utcnow(),
                upload=None,  # the files are in the project now, or refused: no need to keep them
            )
        )


def request_cancel(db: Database, job_id: int) -> str | None:
    """A queued job is cancelled at once; a running one when its worker next reports
    (it stops as Ctrl+C stops the command). Returns the job's state after, None if none."""
    with db.writing() as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        if job.state == "queued":
            job.state, job.finished_at, job.upload = "cancelled", utcnow(), None
            job.message = "Cancelled before it started: nothing was stored."
        elif job.state == "running":
            job.cancel_requested = True
        return job.state


def heartbeat_timeout(config) -> float:
    return float(config.get("JOB_HEARTBEAT_TIMEOUT") or HEARTBEAT_TIMEOUT)


def reap(db: Database, timeout: float) -> int:
    """Fail the running jobs whose heartbeat is older than `timeout` seconds."""
    stale = utcnow() - timedelta(seconds=timeout)
    with db.writing() as session:
        return session.exec(
            update(Job)
            .where(Job.state == "running", Job.heartbeat_at < stale)
            .values(state="failed", message=DEAD_WORKER, finished_at=utcnow())
        ).rowcount


def fail_jobs_of(db: Database, worker_prefix: str, message: str) -> int:
    """Fail the running jobs of one worker process group (Ctrl+C on `annotator worker`)."""
    with db.writing() as session:
        return session.exec(
            update(Job)
            .where(Job.state == "running", Job.worker.startswith(worker_prefix))
            .values(state="failed", message=message, finished_at=utcnow())
        ).rowcount
