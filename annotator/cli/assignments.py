"""`annotator assign` and `annotator reassign`: who annotates which document."""

from __future__ import annotations

import sys
from datetime import UTC, timedelta

import click
from sqlalchemy import select

from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.models import Document, Layer, utcnow
from annotator.team.assignments import (
    ORDERS,
    STALE_DAYS,
    AssignmentError,
    annotator_accounts,
    assign,
    is_empty,
    reassign,
    stale,
)


@click.command("assign")
@DB_OPTION
@click.option("--annotators", required=True, metavar="NAME,NAME", help="Comma-separated annotator names.")
@click.option("--overlap", "-k", type=int, default=1, show_default=True, help="Annotators per document.")
@click.option("--documents", default=None, metavar="ID,ID", help="Comma-separated document ids (default: all).")
@click.option("--by", default="cli", show_default=True, help="Who is assigning (recorded in the audit trail).")
@click.option(
    "--order",
    type=click.Choice(ORDERS),
    default=None,
    help="arrival, or need: the documents the active model is least sure of first (default: ASSIGN_ORDER).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {documents, created, per_annotator} as JSON.")
def assign_cmd(db_url, annotators, overlap, documents, by, order, as_json):
    """Assign documents to annotators, k per document.

    The load is balanced: each document goes to the k annotators with the fewest so far.

    Example:

    \b
      annotator assign --annotators alice,bob,carol -k 2 --order need
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
@click.option(
    "--stale-days",
    type=click.FloatRange(min=0),
    metavar="DAYS",
    default=STALE_DAYS,
    show_default=True,
    help="Stale means untouched for this many days (0: every open assignment).",
)
@click.option(
    "--layer",
    default=None,
    metavar="NAME",
    help="Only the assignments in this annotator's layer; with --to, hand them over.",
)
@click.option("--to", default=None, metavar="NAME", help="The annotator who takes the assignments over.")
@click.option("--by", default="cli", show_default=True, help="Who is handing over (recorded in the audit trail).")
@click.option("--json", "as_json", is_flag=True, help="Print the assignments (or what was handed over) as JSON.")
def reassign_cmd(db_url, stale_days, layer, to, by, as_json):
    """List stale assignments, or hand one over.

    Lists the open assignments untouched for --stale-days (default 7), only --layer's if
    given; with --layer and --to, hands those it lists to another annotator. Work already
    done in one stays in its author's layer (marked skipped); the new annotator starts afresh.

    Example:

    \b
      annotator reassign --layer alice
      annotator reassign --layer alice --to bob
    """
    if to and not layer:
        raise click.UsageError("--to needs --layer NAME: whose assignments to hand over")
    database = open_project(db_url, labels=False).db
    with database.writing() if to else database.reading() as session:
        layers = _chosen(session, layer, stale_days, to, as_json)
        if not to:
            _list(_rows(session, layers), stale_days, layer, as_json)
            return
        try:
            annotator_accounts(session, [to])
        except AssignmentError as exc:
            raise click.ClickException(str(exc)) from exc
        results = [_hand_over(session, by, old, row, to) for old, row in zip(layers, _rows(session, layers))]
    _report(results, stale_days, layer, to, as_json)


def _chosen(session, layer: str | None, days: float, to: str | None, as_json: bool) -> list[Layer]:
    """The assignments --layer selects: that layer's stale ones, or every stale one without it."""
    if layer is None:
        return stale(session, timedelta(days=days))
    names = session.exec(select(Layer.name).where(Layer.assigned_at.is_not(None)).distinct()).scalars().all()
    if layer in names:
        return stale(session, timedelta(days=days), layer)
    if layer.isdigit() and to:  # the old form, a layer id: that one assignment, stale or not
        if not as_json:
            click.echo(f"note: --layer takes a layer name; {layer} was read as a layer id.", err=True)
        found = session.get(Layer, int(layer))
        if found is None or found.assigned_at is None:
            raise click.ClickException(f"no assignment {layer}")
        return [found]
    raise click.ClickException(
        f"no assignments in a layer {layer!r}; the layers with assignments are: {', '.join(sorted(names)) or 'none'}"
    )


def _rows(session, layers: list[Layer]) -> list[dict]:
    """What a person or a script needs to know each assignment by: its document too."""
    docs = {}
    if layers:
        query = select(Document.id, Document.uid, Document.source_id, Document.title)
        docs = {d.id: d for d in session.exec(query.where(Document.id.in_({la.document_id for la in layers})))}
    now = utcnow()
    rows = []
    for la in layers:
        doc, touched = docs[la.document_id], la.updated_at.replace(tzinfo=la.updated_at.tzinfo or UTC)
        rows.append(
            {
                "layer": la.name,
                "layer_id": la.id,
                "status": la.status,
                "updated_at": touched,
                "days_untouched": (now - touched).days,
                "document": doc.uid,
                "source_id": doc.source_id,
                "title": doc.title,
            }
        )
    return rows


def _untouched(days: float) -> str:
    return f"untouched for {days:g} day{'' if days == 1 else 's'} or more"


def _kind(days: float) -> str:
    return "stale" if days > 0 else "open"  # with 0 days every open one is listed: not all are stale


def _document(row: dict) -> str:
    return f"{row['document']}  {row['source_id'] or '-'}  {row['title'] or '-'}"


def _list(rows: list[dict], days: float, layer: str | None, as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    whose = f" of {layer}" if layer else ""
    if not rows:
        click.echo(f"No {_kind(days)} assignments{whose} ({_untouched(days)}).")
    else:
        click.echo(f"{_kind(days).capitalize()} assignments{whose}, {_untouched(days)}:")
        for row in rows:
            click.echo(
                f"  {row['layer']:<16} {row['status']:<12} last change {row['updated_at']:%Y-%m-%d %H:%M} "
                f"({row['days_untouched']} d)  {_document(row)}"
            )
        # the count on stderr, as `annotator documents` gives it
        click.echo(f"{len(rows)} {_kind(days)} assignment(s).", err=True)


def _hand_over(session, by: str, old: Layer, row: dict, to: str) -> dict:
    """One assignment to `to`; one that cannot go (`to` has the document) is reported, not fatal."""
    kept = not is_empty(session, old)
    try:
        new = reassign(session, by, old.id, to)
    except AssignmentError as exc:  # raised before anything changed
        return {**row, "to": to, "handed": False, "error": str(exc), "new_layer_id": None, "work_kept": False}
    return {**row, "to": to, "handed": True, "error": None, "new_layer_id": new.id, "work_kept": kept}


def _report(results: list[dict], days: float, layer: str, to: str, as_json: bool) -> None:
    failed = [r for r in results if not r["handed"]]
    if as_json:
        echo_json(results)
    elif not results:
        click.echo(f"Nothing to hand over: {layer} has no assignments {_untouched(days)}.")
    else:
        handed = [r for r in results if r["handed"]]
        click.echo(f"Handed {len(handed)} assignment(s) from {results[0]['layer']} to {to}:")
        for r in handed:
            kept = f"  ({r['layer']}'s work stays in {r['layer']}'s layer, marked skipped)" if r["work_kept"] else ""
            click.echo(f"  {_document(r)}{kept}")
        for r in failed:
            click.echo(f"not handed: {_document(r)}: {r['error']}", err=True)
    if failed:
        sys.exit(1)
