"""`annotator suggest`: pre-highlight stored documents again, with the rules and a trained model."""

from __future__ import annotations

import sys

import click

from annotator.cli.common import DB_OPTION, ProgressBar, interrupt_once, model_for, open_project
from annotator.cli.conventions import EXIT_INTERRUPTED, say
from annotator.cli.output import echo_json
from annotator.ingest.resuggest import BATCH, SCOPES, resuggest


@click.command("suggest")
@DB_OPTION
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="A trained model folder (default: the project's active model; none: the rules alone).",
)
@click.option("--rules-only", is_flag=True, help="Suggest with the rules alone, even if a model is active.")
@click.option(
    "--documents",
    "scope",
    type=click.Choice(SCOPES),
    default="not-done",
    show_default=True,
    help="not-done: documents no layer has marked done; all: every document.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def suggest_cmd(db_url, model_dir, rules_only, scope, as_json):
    """Suggest again; what people decided stays.

    Stored documents are pre-highlighted again. A suggestion someone accepted or rejected
    stays, with every part of an answered claim or relation; the rest are replaced by what
    the rules (and the model) suggest now.

    Example:

    \b
      annotator suggest --model models/gold-1
    """
    if rules_only and model_dir:
        raise click.UsageError("--rules-only and --model contradict each other")
    project = open_project(db_url)
    highlighter = project.prehighlighter(None if rules_only else model_for(project, model_dir))
    for warning in highlighter.warnings():
        say(f"warning: {warning}")
    bar = ProgressBar(not as_json, "Suggesting")
    with interrupt_once(), bar:
        try:
            report = resuggest(project.db, highlighter, scope, progress=bar.update, on_total=bar.start)
        except KeyboardInterrupt:
            bar.finish()
            click.echo(
                f"Interrupted: suggested again for {bar.done} of {bar.total} documents (each batch of "
                f"{BATCH} whole); the others keep the suggestions they had.",
                err=True,
            )
            sys.exit(EXIT_INTERRUPTED)
    if as_json:
        echo_json(report.as_json())
    else:
        click.echo(report.summary())
