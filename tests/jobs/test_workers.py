"""Workers as real subprocesses on both queue backends: two sharing one queue, one killed
with kill -9 in the middle of an import."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from annotator.ingest.pipeline import import_paths
from annotator.jobs.store import DEAD_WORKER, get_job, list_jobs, reap
from annotator.labels import load_label_config
from annotator.models import Document
from tests.jobs.support import Project, jsonl


@pytest.fixture(params=["sqlite", "redis"])
def project(request, tmp_path):
    project = Project(tmp_path, request.param)
    yield project
    project.close()


def documents(db, prefix: str | None = None) -> int:
    query = select(func.count()).select_from(Document)
    if prefix:
        query = query.where(Document.source.startswith(prefix))
    with db.reading() as session:
        return session.exec(query).scalar_one()


def test_two_workers_share_one_queue(project):
    first, second = project.start_worker(), project.start_worker()
    for worker in (first, second):  # both warm before the jobs come: else the first may take them all
        project.wait_ready(worker)
    jobs = [project.queue_import({f"part{i}.jsonl": jsonl(f"part {i}", 15)}) for i in range(6)]
    finished = [project.wait(job_id) for job_id in jobs]
    assert [job.state for job in finished] == ["done"] * 6, [job.message for job in finished]
    assert {job.done for job in finished} == {15}
    groups = {job.worker.rsplit(":", 1)[0] for job in finished}
    assert groups == {f"{os.uname().nodename}:{first.pid}", f"{os.uname().nodename}:{second.pid}"}, groups
    assert documents(project.db) == 90
    assert project.queue.pending() == 0


def test_a_worker_killed_mid_import_leaves_whole_files_and_a_failed_job(project):
    worker = project.start_worker()
    files = {f"file{i}.jsonl": jsonl(f"file {i}", 150) for i in range(3)}
    job_id = project.queue_import(files)
    deadline = time.monotonic() + 60
    while get_job(project.db, job_id).done < 20:  # pre-highlighting is under way
        assert time.monotonic() < deadline and worker.poll() is None, worker.stderr.read() if worker.poll() else ""
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    assert get_job(project.db, job_id).state == "running"  # nobody has said otherwise yet
    time.sleep(2.5)  # the heartbeat timeout of these tests
    listed = subprocess.run(
        [sys.executable, "-m", "annotator.cli", "jobs", "--json"], env=project.env, capture_output=True, text=True
    )
    shown = [json.loads(line) for line in listed.stdout.splitlines()]  # what whoever looks next sees
    assert [(j["id"], j["state"], j["message"]) for j in shown] == [(job_id, "failed", DEAD_WORKER)], listed.stderr
    assert reap(project.db, 2) == 0  # failed once, by whoever looked first
    job = get_job(project.db, job_id)
    assert job.state == "failed" and job.message == DEAD_WORKER
    stored = {name: documents(project.db, name) for name in files}
    assert all(n in (0, 150) for n in stored.values()), stored  # each file whole or not at all
    assert sum(stored.values()) < 450
    # the same files again store the rest, and only the rest
    folder = project.folder / "again"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    os.chdir(folder)
    try:
        report = import_paths(project.db, sorted(files), load_label_config(_labels()), None)
    finally:
        os.chdir(project.folder)
    assert report.new == 450 - sum(stored.values()), report.summary()
    assert documents(project.db) == 450
    assert [j.id for j in list_jobs(project.db)] == [job_id]


def _labels():
    from annotator.config import PACKAGE_DIR

    return PACKAGE_DIR / "data" / "labels.json"


def test_ctrl_c_stops_a_worker_at_once_and_fails_its_running_job(tmp_path):
    project = Project(tmp_path, "sqlite")
    try:
        worker = project.start_worker()
        job_id = project.queue_import({"long.jsonl": jsonl("long", 300)})
        deadline = time.monotonic() + 60
        while get_job(project.db, job_id).done < 5:
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.05)
        os.killpg(worker.pid, signal.SIGINT)  # as a terminal sends Ctrl+C to the whole group
        started = time.monotonic()
        _, err = worker.communicate(timeout=10)
        assert worker.returncode == 130, err
        assert time.monotonic() - started < 3
        assert "Traceback" not in err and "Stopped:" in err, err
        job = get_job(project.db, job_id)
        assert job.state == "failed" and "stopped" in job.message, job.message
        assert documents(project.db) == 0  # its one file was not finished: nothing of it stored
    finally:
        project.close()
