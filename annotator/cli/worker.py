"""`annotator worker`: run the project's jobs (imports, exports, re-suggesting, training) from its queue.

Each kind of job goes through the same functions as its command (ingest/, export/), so a
job stores exactly what the command would: an import in committed groups of whole files, an
export assembled aside and published whole, re-suggesting a batch at a time, a model written
aside and renamed into place.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import sys
import tempfile
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson

from annotator.cli.common import DB_OPTION, model_for, open_project
from annotator.cli.conventions import EXIT_INTERRUPTED, detail, say
from annotator.cli.exporting import summary as export_summary
from annotator.cli.training import TrainError, train_model
from annotator.export.publish import ExportError, export
from annotator.ingest.pipeline import ImportRequestError, import_layer, import_paths
from annotator.ingest.resuggest import resuggest
from annotator.jobs import runner
from annotator.jobs.queue import Queue
from annotator.jobs.runner import Cancelled, Outcome
from annotator.jobs.store import fail_jobs_of, heartbeat_timeout, reap
from annotator.project import gazetteer_names

_highlighters: dict = {}


def highlighter_for(project, prehighlight: bool = True):
    """One pre-highlighter per worker process (spaCy loads once), rebuilt when people added
    gazetteer names since."""
    if not prehighlight:
        return None
    model = model_for(project, None)
    key = (getattr(model, "path", None), orjson.dumps(gazetteer_names(project.db)))
    if key not in _highlighters:
        _highlighters.clear()
        _highlighters[key] = project.prehighlighter(model)
    return _highlighters[key]


def _relative(problems, folder: str) -> list[dict]:
    """Problems name the upload's own paths, not the worker's temporary folder."""
    prefix = folder.rstrip("/") + "/"
    return [{**p.as_json(), "file": p.path.removeprefix(prefix).removeprefix(folder)} for p in problems]


@contextmanager
def _inside(folder: str):
    """In the upload's folder for the import (a worker process runs one job at a time)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_import(project, job, reporter) -> Outcome:
    params = job.params
    if job.upload is None:
        return Outcome("failed", "This import job holds no files (an upload or `annotator jobs import` brings them).")
    with tempfile.TemporaryDirectory(prefix="annotator-upload-") as folder, _inside(folder):
        zipfile.ZipFile(io.BytesIO(job.upload)).extractall(folder)  # members were checked as they came in
        # relative to the upload, so documents name their files as the uploader did
        paths = sorted(p.name for p in Path(folder).iterdir())
        if params.get("fmt") == "measeval":  # the folders of .tsv files; texts are found beside them or in ../text/
            paths = sorted({p.parent.relative_to(folder).as_posix() for p in Path(folder).rglob("*.tsv")}) or paths
        progress = {"on_total": reporter.start, "progress": reporter.update}
        highlighter = highlighter_for(project, params.get("prehighlight", True))
        try:
            if params.get("layer"):
                report = import_layer(
                    project.db,
                    paths,
                    project.labels,
                    params["layer"],
                    params.get("fmt") or "jsonl",
                    replace=bool(params.get("replace")),
                    prehighlighter=highlighter,
                    user=job.started_by,
                    status="done" if params.get("done") else None,
                    **progress,
                )
            else:
                report = import_paths(
                    project.db,
                    paths,
                    project.labels,
                    highlighter,
                    skip_invalid=bool(params.get("skip_invalid")),
                    **progress,
                )
        except ImportRequestError as exc:
            return Outcome("failed", f"{exc}. Nothing was stored.")
        problems = _relative(report.problems, folder)
    summary = report.summary().replace("run the same command again", "start the import again")
    if report.interrupted and not reporter.cancelled:  # the worker itself was stopped (Ctrl+C)
        state, summary = "failed", f"The worker was stopped during this job. {summary}"
    else:
        state = "cancelled" if report.interrupted else "failed" if report.failed else "done"
    return Outcome(state, summary, problems, report.as_json() | {"problems": problems})


def run_export(project, job, reporter) -> Outcome:
    params = job.params
    out_dir = project.config["EXPORTS_DIR"]
    try:
        result = export(
            project.db,
            project.labels,
            params.get("layer") or "suggestions",
            params.get("name") or None,
            out_dir,
            params.get("fmt") or "jsonl",
            params.get("split") or None,
            progress=reporter.update,
            on_total=reporter.start,
            workers=1,
        )
    except Cancelled:
        return Outcome("cancelled", "Cancelled: nothing was published.")
    except ExportError as exc:
        return Outcome("failed", f"{exc}. Nothing was published.")
    return Outcome(
        "done",
        export_summary(result, params.get("fmt") or "jsonl"),
        result={"path": str(result.path) if result.path else None, "version": result.version},
    )


def run_suggest(project, job, reporter) -> Outcome:
    try:
        report = resuggest(
            project.db,
            highlighter_for(project),
            job.params.get("scope") or "not-done",
            progress=reporter.update,
            on_total=reporter.start,
        )
    except Cancelled:
        return Outcome(
            "cancelled",
            f"Cancelled after {reporter.done} of {reporter.total} documents (each batch whole); "
            "the others keep the suggestions they had.",
        )
    return Outcome("done", report.summary(), result=report.as_json())


def model_folder(project, params: dict) -> Path:
    """Where a training job writes: its `out` (relative to the instance folder), else a new
    folder under the instance's models/ named after the layer and the time."""
    models = Path(project.config["INSTANCE_PATH"]) / "models"
    if params.get("out"):
        return models.parent / params["out"]
    return models / f"{params['layer']}-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}"


class TrainProgress:
    """Training's (fraction, stage) as a job's 1000 steps; a cancel raises from update()."""

    def __init__(self, reporter):
        self.reporter, self.at = reporter, 0
        reporter.start(1000)

    def __call__(self, fraction: float, message: str) -> None:
        target = int(1000 * min(1.0, max(0.0, fraction)))
        step, self.at = max(0, target - self.at), max(self.at, target)
        self.reporter.update(step)


def run_train(project, job, reporter) -> Outcome:
    params = job.params
    out = model_folder(project, params)
    out.parent.mkdir(parents=True, exist_ok=True)
    options = {key: params[key] for key in ("base", "eval_split", "epochs", "seed", "name") if params.get(key)}
    try:
        trained = train_model(
            project,
            params["layer"],
            out,
            max_minutes=float(params.get("max_minutes") or 10.0),
            activate=params.get("activate", True),
            progress=TrainProgress(reporter),
            **options,
        )
    except Cancelled:
        return Outcome("cancelled", "Cancelled: no model was written; the active model is unchanged.")
    except (TrainError, click.BadParameter) as exc:
        return Outcome("failed", f"{exc.format_message() if isinstance(exc, click.BadParameter) else exc}.")
    meta = trained.meta
    result = {
        "path": str(trained.path),
        "name": meta["name"],
        "version": meta["version"],
        "active": trained.active,
        "headline": trained.headline,
    }
    return Outcome("done", trained.summary(), result=result)


HANDLERS = {"import": run_import, "export": run_export, "suggest": run_suggest, "train": run_train}


def start_worker(project, queue: Queue, workers: int, heartbeat_every: float = 5.0):
    """The consumer for `queue`, its processes ready to run this project's jobs; each loads
    the English pipeline as it starts, so no job waits for spaCy."""
    project.db.dispose()  # each forked process opens its own connections
    project.config["NLP_PROCESSES"] = nlp_processes_each(project.config, workers)
    runner.install(project, HANDLERS, heartbeat_every)
    queue.huey.on_startup()(lambda: _warm(project))
    return queue.consumer(workers)


def nlp_processes_each(config, workers: int) -> int:
    """NLP_PROCESSES is what one worker command may use for pre-highlighting, shared by its
    processes: each of `workers` jobs running at once gets its part (at least one), so
    `--workers 2` on two cores runs two jobs of one process each, not four processes."""
    return max(1, int(config["NLP_PROCESSES"]) // workers)


READY = "ready for jobs"  # said by each process once warm (scripts and tests wait for it)


def _warm(project) -> None:
    try:
        highlighter_for(project).pipeline_for("en")
    except Exception as exc:  # the first import job will say what is wrong, with its message
        say(f"warning: could not load the pre-highlighting pipeline yet: {exc}")
    say(f"Worker process {os.getpid()}: {READY}.")


@click.command("worker")
@DB_OPTION
@click.option(
    "--queue",
    "queue_url",
    envvar="ANNOTATOR_QUEUE_URL",
    metavar="URL",
    help="redis://host:6379/N for workers on several hosts (default: a SQLite queue beside the database). "
    "Also ANNOTATOR_QUEUE_URL.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Jobs run at once.")
def worker_cmd(db_url, queue_url, workers):
    """Run jobs from the project's queue until stopped.

    Uploads and exports started in the browser, and `annotator import --queue`, wait in
    the queue until a worker runs them. Run one per core on as many hosts as you like, all
    with the same --db and --queue.

    Example:

    \b
      annotator worker --workers 2
      annotator worker --queue redis://127.0.0.1:6379/0 --db postgresql://me@db/project
    """
    project = open_project(db_url)
    config = dict(project.config)
    if queue_url:
        config["QUEUE_URL"] = queue_url
    queue = Queue.for_config(config)
    timeout = heartbeat_timeout(config)
    failed = reap(project.db, timeout)
    if failed:
        say(f"{failed} job(s) whose worker had stopped answering are marked failed.")
    group = f"{socket.gethostname()}:{os.getpid()}"
    os.environ[runner.GROUP_ENV] = group
    detail(f"database: {project.db.engine.url.render_as_string(hide_password=True)}")
    say(
        f"Worker {group}: {workers} process(es) on queue {queue.describe()}, "
        f"{nlp_processes_each(config, workers)} pre-highlighting process(es) per job. Ctrl+C stops it."
    )
    consumer = start_worker(project, queue, workers, max(timeout / 6, 0.5))
    consumer.run()
    if getattr(consumer, "_signum", None) == signal.SIGTERM:  # asked to finish the running jobs first
        click.echo("Stopped after the running jobs finished.", err=True)
        return
    stopped = fail_jobs_of(
        project.db,
        group + ":",
        "The worker was stopped (Ctrl+C) during this job; what it had committed is kept whole. Start it again.",
    )
    click.echo(f"Stopped: {stopped} running job(s) marked failed, the rest stay queued.", err=True)
    sys.exit(EXIT_INTERRUPTED)


def queue_of(project, queue_url: str | None = None) -> Queue:
    config = dict(project.config)
    if queue_url:
        config["QUEUE_URL"] = queue_url
    return Queue.for_config(config)
