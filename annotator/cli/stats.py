"""`annotator stats`: what the project holds, from indexed counts. It reads no record, so it
loads none of the export or language machinery."""

from __future__ import annotations

import click

from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.project import project_stats


@click.command("stats")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def stats_cmd(db_url, as_json):
    """Documents, languages, and counts per layer and label.

    Example:

    \b
      annotator stats --json
    """
    with open_project(db_url, labels=False).db.reading() as session:
        stats = project_stats(session)
    if as_json:
        echo_json(stats)
        return
    click.echo(f"Documents: {stats['documents']}")
    click.echo("Languages: " + (", ".join(f"{k} {v}" for k, v in stats["languages"].items()) or "-"))
    for layer, info in stats["layers"].items():
        click.echo(f"Layer {layer}: {info['documents']} documents")
        for label, n in info["labels"].items():
            click.echo(f"  {label:<12} {n}")
