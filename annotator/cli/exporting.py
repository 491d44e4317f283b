"""`annotator export`: versioned exports of one layer."""

from __future__ import annotations

import click

from annotator.cli.common import DB_OPTION, open_project
from annotator.cli.output import echo_json
from annotator.export.publish import FORMATS, ExportError, export


@click.command("export")
@DB_OPTION
@click.option("--layer", default="suggestions", show_default=True, help="suggestions, gold, or an annotator's name.")
@click.option("--name", default=None, help="Export name (folder); defaults to the layer.")
@click.option("--out", "out_dir", default=None, help="Exports folder (default: ./exports).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="jsonl",
    show_default=True,
    help="jsonl (records), spacy (DocBin), brat (.txt + .ann), measeval (TSV + texts), conll (IOB2).",
)
@click.option("--split", default=None, metavar="TRAIN/DEV/TEST", help="Stable split by id hash, e.g. 80/10/10.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def export_cmd(db_url, layer, name, out_dir, fmt, split, as_json):
    """Write a new validated, versioned export of one layer."""
    project = open_project(db_url)
    try:
        result = export(project.db, project.labels, layer, name, out_dir or project.config["EXPORTS_DIR"], fmt, split)
    except ExportError as exc:
        raise click.ClickException(f"{exc}. Nothing was published.") from exc
    if as_json:
        echo_json(
            {
                "path": str(result.path) if result.path else None,
                "version": result.version,
                "unchanged": result.unchanged,
                "manifest": result.manifest,
            }
        )
    elif result.unchanged:
        click.echo(f"Unchanged since {result.version}: no new version written.")
    else:
        m = result.manifest
        click.echo(
            f"Wrote {result.path} ({m['documents']} documents, "
            f"{sum(m['counts']['spans'].values())} spans; {m['changes']['added']} added, "
            f"{m['changes']['modified']} modified, {m['changes']['removed']} removed since "
            f"{m['changes']['previous'] or 'nothing'})."
        )
    left_out = result.left_out.get("not_gold_done")
    if left_out and not as_json:
        click.echo(f"{left_out} document(s) left out: their gold layer is not marked done.")
