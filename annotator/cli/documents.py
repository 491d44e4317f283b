"""`annotator documents` and `annotator layers`: what the project holds, by id, so that
`show` needs no guessing. Documents are read in chunks of CHUNK by id, so a project of
100,000 documents is printed as it is read, never held at once."""

from __future__ import annotations

from collections.abc import Iterator

import click
import orjson
from sqlalchemy import func, select

from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.models import LAYER_STATUSES, Document, Layer, Span, User

CHUNK = 1000


def _document_filter(lang: str | None, layer: str | None, status: str | None):
    """The WHERE clauses of the options: a status applies to the layer given, else to any."""
    clauses = []
    if lang:
        clauses.append(Document.lang == lang)
    if layer or status:
        having = select(Layer.id).where(Layer.document_id == Document.id)
        if layer:
            having = having.where(Layer.name == layer)
        if status:
            having = having.where(Layer.status == status)
        clauses.append(having.exists())
    return clauses


def iter_documents(db, clauses, chunk: int = CHUNK) -> Iterator[dict]:
    """Each matching document with its layers' statuses, a chunk of rows per query (keyset
    on the id, so a late chunk costs what an early one does)."""
    last = 0
    while True:
        with db.reading() as session:
            docs = session.execute(
                select(Document.id, Document.uid, Document.source_id, Document.title, Document.lang)
                .where(Document.id > last, *clauses)
                .order_by(Document.id)
                .limit(chunk)
            ).all()
            if not docs:
                return
            statuses: dict[int, dict[str, str]] = {}
            rows = session.execute(
                select(Layer.document_id, Layer.name, Layer.status)
                .where(Layer.document_id.in_([d.id for d in docs]))
                .order_by(Layer.name)
            )
            for doc_id, name, status in rows:
                statuses.setdefault(doc_id, {})[name] = status
        for d in docs:
            yield {
                "id": d.uid,
                "source_id": d.source_id,
                "title": d.title,
                "lang": d.lang,
                "layers": statuses.get(d.id, {}),
            }
        last = docs[-1].id


def _document_line(doc: dict) -> str:
    layers = ", ".join(f"{name}:{status}" for name, status in doc["layers"].items()) or "-"
    return f"{doc['id']}  {doc['source_id'] or '-'}  [{doc['lang']}]  {doc['title']}  {layers}"


@click.command("documents")
@DB_OPTION
@click.option("--lang", default=None, help="Only documents in this language.")
@click.option("--layer", default=None, metavar="NAME", help="Only documents that have this layer.")
@click.option("--status", type=click.Choice(LAYER_STATUSES), default=None, help="Only layers with this status.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (JSON Lines), as read.")
def documents_cmd(db_url, lang, layer, status, as_json):
    """List documents: ids, source ids, titles, languages, layers.

    Example:

    \b
      annotator documents --lang pt --layer gold --status done --json
    """
    project = open_project(db_url, labels=False)
    found = 0
    for doc in iter_documents(project.db, _document_filter(lang, layer, status)):
        found += 1
        # JSON Lines rather than one array: written as read, a script can stream it too
        click.echo(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode() if as_json else _document_line(doc))
    if not as_json:
        click.echo(f"{found} document(s).", err=True)


def layer_summary(session) -> list[dict]:
    """Each layer name: its kind, documents, done documents, spans and owners."""
    docs = session.execute(
        select(Layer.name, Layer.kind, func.count(), func.count().filter(Layer.status == "done")).group_by(
            Layer.name, Layer.kind
        )
    ).all()
    spans = dict(
        session.execute(
            select(Layer.name, func.count()).join(Span, Span.layer_id == Layer.id).group_by(Layer.name)
        ).all()
    )
    owners: dict[str, list[str]] = {}
    for name, user in session.execute(
        select(Layer.name, User.name).join(User, User.id == Layer.user_id).distinct().order_by(Layer.name, User.name)
    ):
        owners.setdefault(name, []).append(user)
    return [
        {
            "name": name,
            "kind": kind,
            "documents": n,
            "done": done,
            "spans": spans.get(name, 0),
            "owners": owners.get(name, []),
        }
        for name, kind, n, done in sorted(docs)
    ]


@click.command("layers")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def layers_cmd(db_url, as_json):
    """List layers: documents, spans and who owns them.

    Example:

    \b
      annotator layers --json
    """
    with open_project(db_url, labels=False).db.reading() as session:
        layers = layer_summary(session)
    if as_json:
        echo_json(layers)
        return
    for layer in layers:
        owners = ", ".join(layer["owners"]) or "-"
        click.echo(
            f"{layer['name']:<16} {layer['kind']:<9} {layer['documents']} documents ({layer['done']} done), "
            f"{layer['spans']} spans, owner: {owners}"
        )
    if not layers:
        click.echo("No layers yet: `annotator import --layer NAME` or the workspace makes one.")
