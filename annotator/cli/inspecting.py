"""`annotator show`: one document record of one layer, as exported."""

from __future__ import annotations

import click
import orjson
from sqlalchemy import select

from annotator.cli.common import DB_OPTION, LAYER_OPTION, open_project
from annotator.export.records import get_record
from annotator.ingest.first_use import settle_all
from annotator.models import Document, uid_for_key

# how many candidates an ambiguous prefix lists
CANDIDATES = 10


def resolve_key(session, key: str) -> str | None:
    """The uid `key` names: a uid or source id, else the one uid it begins; None if none
    does. An ambiguous prefix is an error that lists the candidates."""
    uid = session.connection().execute(uid_for_key(key)).scalar()
    if uid is not None:
        return uid
    matches = (
        session.connection()
        .execute(
            select(Document.uid, Document.source_id)
            .where(Document.uid.startswith(key, autoescape=True))
            .order_by(Document.uid)
            .limit(CANDIDATES + 1)
        )
        .all()
    )
    if len(matches) > 1:
        listed = "\n".join(f"  {uid}  {source or ''}".rstrip() for uid, source in matches[:CANDIDATES])
        more = "\n  ..." if len(matches) > CANDIDATES else ""
        raise click.ClickException(f"{key!r} begins more than one document id:\n{listed}{more}")
    return matches[0].uid if matches else None


@click.command("show")
@click.argument("doc_id")
@DB_OPTION
@LAYER_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the record exactly as exported.")
def show_cmd(doc_id, db_url, layer, as_json):
    """Print one document record of one layer.

    DOC_ID: the id, a unique beginning of it, or the id the source record gave it.

    Example:

    \b
      annotator show 3f9c --layer gold --json
    """
    project = open_project(db_url)
    quantity_label = project.labels.quantity_label
    with project.db.reading() as session:
        uid = resolve_key(session, doc_id)
    doc_id = uid or doc_id
    # first use: tokens and language of a document imported without the pipeline (its own only)
    settle_all(project.db, quantity_label, uids=[doc_id])
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
