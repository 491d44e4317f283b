"""`annotator show`: one document record of one layer, as exported."""

from __future__ import annotations

import click
import orjson

from annotator.cli.common import DB_OPTION, open_project
from annotator.export.records import get_record
from annotator.ingest.first_use import settle_all
from annotator.models import uid_for_key


@click.command("show")
@click.argument("doc_id")
@DB_OPTION
@click.option("--layer", default="suggestions", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the record exactly as exported.")
def show_cmd(doc_id, db_url, layer, as_json):
    """Print one document record of one layer."""
    project = open_project(db_url)
    quantity_label = project.labels.quantity_label
    with project.db.reading() as session:
        uid = session.connection().execute(uid_for_key(doc_id)).scalar()
    # first use: tokens and language of a document imported without the pipeline (its own only)
    settle_all(project.db, quantity_label, uids=[uid or doc_id])
    try:
        with project.db.reading() as session:
            record = get_record(session, doc_id, layer, quantity_label)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    if as_json:
        click.echo(orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode())
        return
    click.echo(f"{record['id']}  [{record['lang']}]  {record['meta'].get('title', '')}")
    for span in record["spans"]:
        extra = (
            f"  = {span['value']:g} {span['unit'] or ''} {span['qualifier'] or ''}".rstrip()
            if span.get("value") is not None
            else ""
        )
        click.echo(
            f"  {span['start']:>6}-{span['end']:<6} {span['label']:<10} {span['origin']:<9} {span['text']!r}{extra}"
        )
