"""`annotator export` and `annotator validate`: versioned exports, and checking records."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from annotator.cli.common import DB_OPTION, echo_json, open_project
from annotator.export.publish import FORMATS, ExportError, export
from annotator.export.validation import schema_for, validate_file
from annotator.labels import LabelConfigError
from annotator.project import Project


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


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--labels-config",
    type=click.Path(dir_okay=False),
    default=None,
    help="The label configuration the records follow (default: the project's). A schema.json beside "
    "a file (an export's) is used for that file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate_cmd(files, labels_config, as_json):
    """Check JSONL files against the record schema.

    Every problem names file:line and the failing field.
    """
    overrides = {"LABELS_FILE": labels_config} if labels_config else None
    try:
        labels = Project(overrides).labels
    except LabelConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    problems, records = [], 0
    for path in files:
        found, count = validate_file(Path(path), schema_for(Path(path), labels))
        problems.extend(found)
        records += count
    if as_json:
        echo_json({"records": records, "valid": not problems, "problems": problems})
    else:
        for p in problems:
            click.echo(f"{p['file']}:{p['line']}: {p['message']}", err=True)
        click.echo(f"{records} record(s) checked, {len({(p['file'], p['line']) for p in problems})} invalid.")
    if problems:
        sys.exit(1)
