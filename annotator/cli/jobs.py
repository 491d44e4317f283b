"""`annotator jobs`: list the project's jobs, follow one's progress, cancel one, and queue an
import, export, re-suggesting or training for `annotator worker` to run (the same jobs the browser
starts, with the same progress)."""

from __future__ import annotations

import sys
import time

import click
import orjson

from annotator.cli.common import DB_OPTION, LAYER_OPTION, ProgressBar, interrupt_once, open_project
from annotator.cli.conventions import EXIT_INTERRUPTED, say
from annotator.cli.output import echo_json
from annotator.export.publish import FORMATS
from annotator.ingest.pipeline import LAYER_FORMATS
from annotator.ingest.resuggest import SCOPES
from annotator.jobs.queue import Queue
from annotator.jobs.store import create_job, get_job, heartbeat_timeout, list_jobs, reap, request_cancel
from annotator.jobs.uploads import UploadError, pack_paths
from annotator.models import JOB_FINISHED

QUEUE_OPTION = click.option(
    "--queue", "queue_url", envvar="ANNOTATOR_QUEUE_URL", metavar="URL", help="The queue (as `annotator worker`)."
)
FOLLOW_OPTION = click.option("--follow", is_flag=True, help="Show the job's progress until it ends.")


def job_json(job) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "message": job.message,
        "problems": job.problems,
        "params": job.params,
        "started_by": job.started_by,
        "worker": job.worker,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def _timeout(project) -> float:
    return heartbeat_timeout(project.config)


@click.group("jobs", invoke_without_command=True)
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the jobs as JSON Lines.")
@click.pass_context
def jobs(ctx, db_url, as_json):
    """Jobs: list them, follow one, cancel one, or queue one for the workers.

    Example:

    \b
      annotator jobs import --follow more/
      annotator jobs --json
    """
    ctx.obj = {"db_url": db_url}
    if ctx.invoked_subcommand is not None:
        return
    project = open_project(db_url, labels=False)
    reap(project.db, _timeout(project))
    for job in list_jobs(project.db):
        if as_json:  # JSON Lines: one job a line, for `| jq -c` and line-by-line readers
            click.echo(orjson.dumps(job_json(job), option=orjson.OPT_SORT_KEYS).decode())
        else:
            share = f"{job.done}/{job.total}" if job.total else "-"
            click.echo(f"{job.id:>5}  {job.kind:<7} {job.state:<9} {share:>11}  {job.started_by:<12} {job.message}")


def follow(project, job_id: int, as_json: bool = False) -> int:
    """Show a job's progress until it ends; the exit code for its end."""
    bar = ProgressBar(not as_json, "Job")
    try:
        with interrupt_once(), bar:
            job = get_job(project.db, job_id)
            while job is not None and job.state not in JOB_FINISHED:
                if job.total is not None and bar.started is None:
                    bar.start(job.total)
                if bar.started is not None and job.done > bar.done:
                    bar.update(job.done - bar.done)
                time.sleep(0.3)
                reap(project.db, _timeout(project))
                job = get_job(project.db, job_id)
            if job is not None and bar.started is not None and job.done > bar.done:
                bar.update(job.done - bar.done)
    except KeyboardInterrupt:
        click.echo(f"Stopped following; job {job_id} goes on (`annotator jobs cancel {job_id}` stops it).", err=True)
        return EXIT_INTERRUPTED
    if job is None:
        raise click.ClickException(f"no job {job_id}")
    if as_json:
        echo_json(job_json(job))
    else:
        for problem in job.problems:
            where = f"{problem['file']}:{problem['line']}" if problem.get("line") else problem["file"]
            click.echo(f"error: {where}: {problem['message']}", err=True)
        click.echo(f"Job {job.id} {job.state}: {job.message}")
    return 0 if job.state == "done" else 1


@jobs.command("follow")
@click.argument("job_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the finished job as JSON.")
@click.pass_obj
def follow_cmd(obj, job_id, as_json):
    """Show one job's progress until it ends (exit 0 when done, 1 when failed or cancelled).

    Example:

    \b
      annotator jobs follow 12
    """
    sys.exit(follow(open_project(obj["db_url"], labels=False), job_id, as_json))


@jobs.command("cancel")
@click.argument("job_id", type=int)
@click.pass_obj
def cancel_cmd(obj, job_id):
    """Cancel a job: a queued one at once, a running one where Ctrl+C would stop it.

    Example:

    \b
      annotator jobs cancel 12
    """
    state = request_cancel(open_project(obj["db_url"], labels=False).db, job_id)
    if state is None:
        raise click.ClickException(f"no job {job_id}")
    click.echo(f"Job {job_id}: {'cancel requested' if state == 'running' else state}.")


def _queue(project, kind: str, params: dict, queue_url, as_json: bool, wait: bool, upload: bytes | None = None):
    config = dict(project.config)
    if queue_url:
        config["QUEUE_URL"] = queue_url
    job_id = create_job(project.db, kind, params, "cli", upload)
    Queue.for_config(config).enqueue(job_id)
    if not wait:
        if as_json:
            echo_json(job_json(get_job(project.db, job_id)))
        else:
            click.echo(f"Queued job {job_id}; `annotator jobs follow {job_id}` shows its progress.")
        return
    say(f"Queued job {job_id}; waiting for a worker (`annotator worker`).")
    sys.exit(follow(project, job_id, as_json))


@jobs.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--layer", default=None, metavar="NAME", help="Into this person's layer (or 'gold').")
@click.option("--format", "fmt", type=click.Choice(LAYER_FORMATS), default=None, help="With --layer.")
@click.option("--no-prehighlight", is_flag=True, help="Store texts and their own pre-annotations only.")
@QUEUE_OPTION
@FOLLOW_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_obj
def import_cmd(obj, paths, layer, fmt, no_prehighlight, queue_url, follow, as_json):
    """Queue an import (the files travel with the job, so any worker can run it).

    Example:

    \b
      annotator jobs import --follow seeds/
    """
    project = open_project(obj["db_url"])
    try:
        upload = pack_paths(list(paths))
    except UploadError as exc:
        raise click.ClickException(f"{exc}. Nothing was queued.") from exc
    params = {"layer": layer, "fmt": fmt, "prehighlight": not no_prehighlight, "names": list(paths)}
    _queue(project, "import", params, queue_url, as_json, follow, upload)


@jobs.command("export")
@LAYER_OPTION
@click.option("--name", default=None, help="Export name (folder); defaults to the layer.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="jsonl", show_default=True)
@QUEUE_OPTION
@FOLLOW_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_obj
def export_cmd(obj, layer, name, fmt, queue_url, follow, as_json):
    """Queue an export of one layer.

    Example:

    \b
      annotator jobs export --layer gold --format spacy --follow
    """
    project = open_project(obj["db_url"])
    _queue(project, "export", {"layer": layer, "name": name, "fmt": fmt}, queue_url, as_json, follow)


@jobs.command("suggest")
@click.option("--documents", "scope", type=click.Choice(SCOPES), default="not-done", show_default=True)
@QUEUE_OPTION
@FOLLOW_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_obj
def suggest_cmd(obj, scope, queue_url, follow, as_json):
    """Queue re-suggesting; what people decided stays.

    Example:

    \b
      annotator jobs suggest --documents all --follow
    """
    project = open_project(obj["db_url"])
    _queue(project, "suggest", {"scope": scope}, queue_url, as_json, follow)


@jobs.command("train")
@click.option("--layer", required=True, metavar="NAME", help="The layer to learn from (its documents marked done).")
@click.option(
    "--out", default=None, metavar="DIR", help="Folder, relative to the instance folder [default: models/LAYER-TIME]."
)
@click.option("--max-minutes", default=10.0, show_default=True, type=float, help="Time budget of the training.")
@click.option("--base", default=None, help="spaCy pipeline to start from, or 'blank' (as `annotator train`).")
@click.option("--epochs", default=None, type=click.IntRange(1), help="Most epochs of the full model [default: 30].")
@QUEUE_OPTION
@FOLLOW_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the job as JSON.")
@click.pass_obj
def train_cmd(obj, layer, out, max_minutes, base, epochs, queue_url, follow, as_json):
    """Queue training a model (as `annotator train`; the worker registers and activates it).

    Example:

    \b
      annotator jobs train --layer gold --max-minutes 5 --follow
    """
    if max_minutes <= 0:
        raise click.BadParameter("must be more than 0", param_hint="--max-minutes")
    project = open_project(obj["db_url"])
    params = {"layer": layer, "out": out, "max_minutes": max_minutes, "base": base, "epochs": epochs}
    _queue(project, "train", params, queue_url, as_json, follow)
