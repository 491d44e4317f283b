"""Starting an export as a job from the browser's form: the form and its refusals, the job
run by the worker's own code (in this process), its progress partial, and cancel."""

from __future__ import annotations

from pathlib import Path

from flask import render_template

from annotator.cli.worker import HANDLERS
from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.jobs import runner
from annotator.jobs.store import get_job
from annotator.jobs.uploads import pack_paths
from annotator.models import Job
from annotator.project import Project, labels_of
from tests.helpers import curator, log_in

HX = {"HX-Request": "true"}


def worker_project(app) -> Project:
    keys = ("DATABASE_URL", "INSTANCE_PATH", "EXPORTS_DIR", "LABELS_FILE")
    return Project({key: app.config[key] for key in keys})


def test_the_export_page_partial_loads_the_form_from_its_route(app):
    with app.test_request_context():
        html = render_template("exports/_start.html", layers=["gold"], formats=["jsonl"])
    assert 'hx-get="/jobs/export"' in html and 'hx-trigger="load"' in html
    form = curator(app).get("/jobs/export", headers=HX).get_data(as_text=True)
    assert '<option value="suggestions">' in form and '<option value="spacy">' in form
    assert log_in(app, app.test_client(), "ann", "annotator").get("/jobs/export", headers=HX).status_code == 403


def test_an_export_job_runs_and_shows_where_it_wrote(app, tmp_path):
    (tmp_path / "a.txt").write_text("Huawei\n\nHuawei makes the Ascend 910C.")
    assert import_paths(get_db(app), [str(tmp_path / "a.txt")], labels_of(app), None).new == 1
    client = curator(app)
    refused = client.post("/jobs/export", data={"layer": "nobody", "fmt": "jsonl"}, headers=HX)
    assert refused.status_code == 422 and "Choose one of the layers" in refused.get_data(as_text=True)
    refused = client.post("/jobs/export", data={"layer": "suggestions", "fmt": "jsonl", "name": "../x"}, headers=HX)
    assert refused.status_code == 422
    with get_db(app).reading() as s:
        assert s.get(Job, 1) is None

    started = client.post("/jobs/export", data={"layer": "suggestions", "fmt": "jsonl", "name": "web"}, headers=HX)
    assert started.status_code == 202 and 'role="status"' in started.get_data(as_text=True)
    runner.install(worker_project(app), HANDLERS)
    assert runner.execute(1) == "done"
    job = get_job(get_db(app), 1)
    assert (job.done, job.total, job.result["version"]) == (1, 1, "v1.0.0")
    assert (Path(app.config["EXPORTS_DIR"]) / "web" / "v1.0.0" / "data.jsonl").is_file()
    shown = client.get("/jobs/1", headers=HX).get_data(as_text=True)
    assert "Done" in shown and "every 1s" not in shown and "Wrote " in shown


def test_a_queued_job_cancelled_never_runs(app):
    client = curator(app)
    client.post("/jobs/export", data={"layer": "gold", "fmt": "jsonl"}, headers=HX)
    answer = client.post("/jobs/1/cancel", headers=HX).get_data(as_text=True)
    assert "Cancelled" in answer
    runner.install(worker_project(app), HANDLERS)
    assert runner.execute(1) is None
    assert not (Path(app.config["EXPORTS_DIR"]) / "gold").exists()
    assert client.get("/jobs/99", headers=HX).status_code == 404


def zipped(folder: Path) -> bytes:
    return pack_paths([str(folder)])


def test_brat_and_measeval_folders_as_zips_go_into_a_layer(sqlite_xapp):
    """The upload's zips, as the worker unpacks them, read by the layer import."""
    app = sqlite_xapp
    from annotator.jobs.store import create_job

    data = Path(__file__).resolve().parents[1] / "data"
    brat = create_job(
        get_db(app),
        "import",
        {"layer": "alice", "fmt": "brat", "prehighlight": False},
        "lead",
        zipped(data / "brat" / "basic"),
    )
    runner.install(worker_project(app), HANDLERS)
    assert runner.execute(brat) == "done", get_job(get_db(app), brat).message
    job = get_job(get_db(app), brat)
    assert job.result["layers"] == 1 and job.result["spans"] > 0, job.result
    bad = create_job(
        get_db(app),
        "import",
        {"layer": "bob", "fmt": "brat", "prehighlight": False},
        "lead",
        zipped(data / "brat" / "malformed"),
    )
    assert runner.execute(bad) == "failed"
    job = get_job(get_db(app), bad)
    assert job.problems and all(p["file"].startswith("malformed/bad.") for p in job.problems), job.problems
    assert job.result["layers"] == 0
    measeval = data / "measeval"
    upload = pack_paths([str(measeval / "tsv"), str(measeval / "text")])
    job_id = create_job(
        get_db(app), "import", {"layer": "carol", "fmt": "measeval", "prehighlight": False}, "lead", upload
    )
    assert runner.execute(job_id) == "done", get_job(get_db(app), job_id).problems
    assert get_job(get_db(app), job_id).result["claims"] > 0
