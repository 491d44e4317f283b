"""Jobs in the browser: one job's progress as a partial that polls itself while the job is
queued or running (and stops once it ends), its cancel button, and the form that starts an
export job (included by the export page through templates/exports/_start.html)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from annotator.db import get_db
from annotator.export.publish import FORMATS, NAME_RE
from annotator.export.rows import layer_names
from annotator.jobs.queue import Queue
from annotator.jobs.store import create_job, get_job, heartbeat_timeout, list_jobs, reap, request_cancel
from annotator.models import JOB_FINISHED
from annotator.web.auth import curator_required
from annotator.web.extensions import htmx

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
KIND_NAMES = {"import": "Import", "export": "Export", "suggest": "Re-suggesting", "train": "Training"}


def queue() -> Queue:
    """The app's queue (one per app: Huey keeps a connection pool)."""
    if "annotator.queue" not in current_app.extensions:
        current_app.extensions["annotator.queue"] = Queue.for_config(current_app.config)
    return current_app.extensions["annotator.queue"]


def start_job(kind: str, params: dict, upload: bytes | None = None) -> int:
    job_id = create_job(get_db(), kind, params, current_user.name, upload)
    queue().enqueue(job_id)
    return job_id


def _job_or_404(job_id: int):
    reap(get_db(), heartbeat_timeout(current_app.config))  # a dead worker's job shows failed
    job = get_job(get_db(), job_id)
    if job is None:
        abort(404, description="There is no such job.")
    return job


def job_context(job) -> dict:
    return {"job": job, "finished": job.state in JOB_FINISHED, "kind_names": KIND_NAMES}


def render_job(job, status: int = 200, region: bool = False):
    """The job's partial for htmx (with its announcing region when first shown), else its page."""
    context = job_context(job)
    if htmx:
        return render_template("jobs/_region.html" if region else "jobs/_job.html", **context), status
    return render_template("jobs/page.html", **context), status


@bp.get("/")
@curator_required
def index():
    reap(get_db(), heartbeat_timeout(current_app.config))
    return render_template("jobs/index.html", jobs=list_jobs(get_db()), kind_names=KIND_NAMES)


@bp.get("/<id:job_id>")
@curator_required
def show(job_id: int):
    return render_job(_job_or_404(job_id))


@bp.post("/<id:job_id>/cancel")
@curator_required
def cancel(job_id: int):
    _job_or_404(job_id)
    request_cancel(get_db(), job_id)
    return render_job(get_job(get_db(), job_id))


def _export_choices() -> dict:
    with get_db().reading() as session:
        return {"layers": layer_names(session), "formats": FORMATS}


@bp.get("/export")
@curator_required
def export_form():
    """The start-an-export form (the export page loads it into its own page)."""
    return render_template("jobs/_export_form.html", **_export_choices(), error=None, values={})


@bp.post("/export")
@curator_required
def start_export():
    choices = _export_choices()
    values = {key: request.form.get(key, "").strip() for key in ("layer", "fmt", "name")}
    error = None
    if values["layer"] not in choices["layers"]:
        error = f"Choose one of the layers: {', '.join(choices['layers'])}."
    elif values["fmt"] not in FORMATS:
        error = f"Choose one of the formats: {', '.join(FORMATS)}."
    elif values["name"] and not NAME_RE.match(values["name"]):
        error = "An export name is letters, digits, '.', '_' and '-' (at most 100), starting with a letter or digit."
    if error:
        return render_template("jobs/_export_form.html", **choices, error=error, values=values), 422
    job_id = start_job("export", {"layer": values["layer"], "fmt": values["fmt"], "name": values["name"] or None})
    return render_job(get_job(get_db(), job_id), 202, region=True)
