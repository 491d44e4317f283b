"""Training as a job: queued by `annotator jobs train`, run by a real worker subprocess on a
handful of done gold documents (blank tokenizer, two epochs), registered in the project;
a cancelled run writes nothing; the models page's form queues one for curators only."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_db
from annotator.jobs.store import get_job, request_cancel
from annotator.models import Job, ModelVersion
from tests.conftest import make_test_app, serving
from tests.helpers import add_user, browser_log_in, curator, log_in
from tests.jobs.support import Project
from tests.learn.test_training import record
from tests.support.accessibility import assert_accessible


@pytest.fixture
def project(tmp_path):
    project = Project(tmp_path, "sqlite")
    yield project
    project.close()


def annotator(project, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "annotator.cli", *map(str, args)],
        env=project.env,
        cwd=project.folder,
        capture_output=True,
        text=True,
        timeout=60,
    )


def queue_training(project, *extra, layer: str = "gold") -> int:
    done = annotator(project, "jobs", "train", "--layer", layer, "--base", "blank", "--json", *extra)
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    # the command reads the job back after queueing it: a worker already running may have
    # taken it by then; nothing else may have happened to it yet
    fresh = ("queued", "running") if any(w.poll() is None for w in project.workers) else ("queued",)
    assert job["kind"] == "train" and job["state"] in fresh, job
    return job["id"]


def test_a_worker_trains_registers_and_a_cancel_writes_nothing(project):
    gold = "".join(orjson.dumps(record(i)).decode() + "\n" for i in range(10))
    project.start_worker()
    imported = project.queue_import({"gold.jsonl": gold}, prehighlight=False, layer="gold", done=True)
    assert project.wait(imported).state == "done"

    job = project.wait(queue_training(project, "--epochs", 2, "--max-minutes", 0.5), timeout=90)
    assert job.state == "done", job.message
    folder = Path(job.result["path"])
    assert folder.parent == project.folder / "instance" / "models"
    assert (folder / "metrics.json").is_file() and (folder / "meta.json").is_file()
    assert job.result["name"] == "gold-en" and 0.0 <= job.result["headline"]["span_f1_overlap"] <= 1.0
    assert (job.done, job.total) == (1000, 1000) and "span F1" in job.message
    with project.db.reading() as session:
        kept = session.exec(select(ModelVersion)).scalars().all()
    assert [(m.name, m.version, m.path, m.active) for m in kept] == [
        ("gold-en", job.result["version"], str(folder.resolve()), True)
    ]
    listed = annotator(project, "models")
    assert listed.returncode == 0 and f"gold-en@{job.result['version']}" in listed.stdout

    refused = project.wait(queue_training(project, layer="nobody"))
    assert refused.state == "failed" and "no documents marked done" in refused.message

    time.sleep(1.1)  # a new version name (versions are by the second)
    long = queue_training(project, "--epochs", 400, "--max-minutes", 5, "--out", "models/long")
    project.wait(long, states=("running",))
    deadline = time.monotonic() + 30
    while get_job(project.db, long).done == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # cancel once training reports progress, mid-epochs
    request_cancel(project.db, long)
    cancelled = project.wait(long, timeout=30)
    assert cancelled.state == "cancelled", cancelled.message
    assert sorted(p.name for p in (project.folder / "instance" / "models").iterdir()) == [folder.name]
    with project.db.reading() as session:
        assert len(session.exec(select(ModelVersion)).scalars().all()) == 1


def test_the_models_page_form_queues_training_for_curators(app):
    client = curator(app)
    page = client.get("/models/").get_data(as_text=True)
    assert '<label for="train-layer">' in page and '<label for="train-minutes">' in page
    assert 'name="csrf_token"' in page and '<option value="suggestions">' not in page
    refused = client.post("/models/train", data={"layer": "nobody", "max_minutes": "5"})
    assert refused.status_code == 422 and "Choose one of the layers" in refused.get_data(as_text=True)
    assert client.post("/models/train", data={"layer": "gold", "max_minutes": "nan"}).status_code == 422
    started = client.post("/models/train", data={"layer": "gold", "max_minutes": "2.5"})
    assert started.status_code == 303 and started.headers["Location"].endswith("/jobs/1")
    with get_db(app).reading() as session:
        jobs = session.exec(select(Job)).scalars().all()
    expected = [("train", {"layer": "gold", "max_minutes": 2.5}, "lead")]
    assert [(j.kind, j.params, j.started_by) for j in jobs] == expected
    assert "Training" in client.get("/jobs/1").get_data(as_text=True)
    annotator_client = log_in(app, app.test_client(), "ann", "annotator")
    assert annotator_client.post("/models/train", data={"layer": "gold", "max_minutes": "5"}).status_code == 403
    assert annotator_client.get("/models/").status_code == 403


@pytest.mark.browser
def test_the_train_form_in_chromium_is_accessible_and_opens_the_job(page: Page, tmp_path):
    app = make_test_app(tmp_path)
    add_user(app, "chief", "curator")
    with serving(app) as url:
        browser_log_in(page, url, "chief")
        page.goto(f"{url}/models/")
        form = page.get_by_role("group", name="Train a model")
        form.get_by_label("Layer").select_option("gold")
        form.get_by_label("Time budget (minutes)").fill("3")
        assert_accessible(page)
        form.get_by_role("button", name="Start training").click()
        page.wait_for_url(re.compile(r"/jobs/1$"))
        expect(page.locator("main")).to_contain_text("Training")
    get_db(app).dispose()
