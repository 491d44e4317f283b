"""`annotator validate`: exported records checked against the record schema. It opens no
database, so it loads neither the ORM nor the export machinery."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from annotator import config
from annotator.cli.output import echo_json
from annotator.export.validation import schema_for, validate_file
from annotator.labels import LabelConfigError, load_label_config


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
    try:
        labels = load_label_config(labels_config or config.load()["LABELS_FILE"])
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
