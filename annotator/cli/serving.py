"""`annotator serve`: the web app on gunicorn, an empty project seeded first."""

from __future__ import annotations

from pathlib import Path

import click

from annotator.cli.common import DB_OPTION
from annotator.cli.conventions import say
from annotator.db import get_db
from annotator.ingest.pipeline import import_paths
from annotator.labels import LabelConfigError
from annotator.project import labels_of, open_project, prehighlighter_for, project_stats
from annotator.web.app import create_app
from annotator.web.auth import issue_setup_token
from annotator.web.serving import run_gunicorn


@click.command("serve")
@DB_OPTION
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Interface to bind (keep 127.0.0.1 unless you mean it)."
)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=int,
    help="Requests each worker runs at once. A process runs Python in one thread at a time, so more "
    "threads mostly interleave requests: each takes longer and none is answered sooner.",
)
@click.option("--dev", is_flag=True, help="Flask's development server with the debugger off.")
@click.option("--no-seed", is_flag=True, help="Do not import the seed articles into an empty database.")
def serve_cmd(db_url, host, port, workers, threads, dev, no_seed):
    """Serve the web app; an empty project gets the seeds first.

    gunicorn on 127.0.0.1:5000 by default; an empty project imports the seed articles.

    Example:

    \b
      annotator serve --port 8000
    """
    try:
        app = create_app({"DATABASE_URL": db_url} if db_url else None)
    except LabelConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    database = open_project(app)
    with database.reading() as session:
        empty = project_stats(session)["documents"] == 0
    seeds = app.config["SEEDS_DIR"]
    if empty and not no_seed and Path(seeds).is_dir():
        highlighter = prehighlighter_for(app)
        for warning in highlighter.warnings():
            say(f"warning: {warning}")
        report = import_paths(database, [seeds], labels_of(app), highlighter)
        click.echo(f"Empty project: imported the seeds. {report.summary()}")
    _announce_setup(app, host, port)
    get_db(app).dispose()  # no connection crosses the fork into the workers
    click.echo(f"Serving on http://{host}:{port}/")
    if dev:
        app.run(host=host, port=port, debug=False)
        return
    run_gunicorn(app, host, port, workers, threads)


def _announce_setup(app, host: str, port: int) -> None:
    """Without an admin nobody can log in: print a one-time link that creates the first one."""
    token = issue_setup_token(app)
    if token:
        app.extensions["annotator.setup_token"] = True
        click.echo(
            "No admin account yet. Create the first admin at this one-time link:\n"
            f"  http://{host}:{port}/setup/{token}\n"
            "(or stop the server and run `annotator users add NAME --role admin`)."
        )
