"""`annotator assign` and `annotator reassign`: who annotates which document."""

from __future__ import annotations

from datetime import timedelta

import click

from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.team.assignments import ORDERS, AssignmentError, assign, reassign, stale


@click.command("assign")
@DB_OPTION
@click.option("--annotators", required=True, help="Comma-separated annotator names.")
@click.option("--overlap", "-k", type=int, default=1, show_default=True, help="Annotators per document.")
@click.option("--documents", default=None, help="Comma-separated document ids (default: every document).")
@click.option("--by", default="cli", show_default=True, help="Who is assigning (recorded in the audit trail).")
@click.option(
    "--order",
    type=click.Choice(ORDERS),
    default=None,
    help="arrival, or need: the documents the active model is least sure of first (default: ASSIGN_ORDER).",
)
@click.option("--json", "as_json", is_flag=True)
def assign_cmd(db_url, annotators, overlap, documents, by, order, as_json):
    """Assign documents to annotators, k per document.

    The load is balanced: each document goes to the k annotators with the fewest so far.
    """
    names = [n.strip() for n in annotators.split(",") if n.strip()]
    uids = [u.strip() for u in documents.split(",") if u.strip()] if documents else None
    try:
        project = open_project(db_url, labels=False)
        with project.db.writing() as session:
            report = assign(session, by, names, overlap, uids, order or project.config["ASSIGN_ORDER"])
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json({"documents": report.documents, "created": report.created, "per_annotator": report.per_annotator})
        return
    click.echo(
        f"{report.created} assignment(s) over {report.documents} document(s): "
        + ", ".join(f"{n} {c}" for n, c in report.per_annotator.items())
    )


@click.command("reassign")
@DB_OPTION
@click.option("--stale-days", type=float, default=None, help="List assignments untouched for this many days.")
@click.option("--layer", "layer_id", type=int, default=None, help="The assignment (layer id) to hand over.")
@click.option("--to", "to", default=None, help="The annotator who takes it.")
@click.option("--by", default="cli", show_default=True)
def reassign_cmd(db_url, stale_days, layer_id, to, by):
    """List stale assignments, or hand one over.

    Without --layer, lists the assignments untouched for --stale-days; with --layer and
    --to, hands that assignment to another annotator.
    """
    database = open_project(db_url, labels=False).db
    if layer_id is None:
        with database.reading() as session:
            rows = stale(session, timedelta(days=stale_days or 0))
            for layer in rows:
                click.echo(
                    f"{layer.id:>8}  {layer.name:<16} {layer.status:<12} last change {layer.updated_at:%Y-%m-%d %H:%M}"
                )
            click.echo(f"{len(rows)} stale assignment(s).")
        return
    if not to:
        raise click.ClickException("--to NAME is needed with --layer")
    try:
        with database.writing() as session:
            reassign(session, by, layer_id, to)
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Assignment {layer_id} handed to {to}.")
