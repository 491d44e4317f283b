"""`annotator validate`: exported records checked against the record schema and the label
configuration. It opens no database, so it loads neither the ORM nor the export machinery."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from annotator import config
from annotator.cli.output import echo_json
from annotator.export.validation import capped, schema_for, summary, validate_file
from annotator.labels import LabelConfigError, load_label_config

SHOWN = 5  # lines printed per problem and file: a problem on every line is told once, counted


@click.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--labels-config",
    type=click.Path(dir_okay=False),
    default=None,
    help="The label configuration the records follow (default: the project's). A schema.json beside "
    "a file (an export's) is used for that file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print every problem, and a count per problem, as JSON.")
def validate_cmd(files, labels_config, as_json):
    """Check JSONL files against the record schema.

    Every problem names file:line and the failing field; span and relation labels must be
    the label configuration's. A problem on many lines of a file is shown for the first
    few and then counted. An empty file, or one JSON document instead of one record per
    line, is a problem too.

    Example:

    \b
      annotator validate exports/gold/latest/data.jsonl
    """
    try:
        labels = load_label_config(labels_config or config.load()["LABELS_FILE"])
    except LabelConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    problems, records, invalid, without = [], 0, 0, 0
    for path in files:
        found, count = validate_file(Path(path), schema_for(Path(path), labels), labels)
        problems += found
        records += count
        invalid += len({p["line"] for p in found if p["line"]}) if count else 0
        without += count == 0
        if not as_json:
            _echo(found)
    if as_json:
        echo_json({"records": records, "valid": not problems, "problems": problems, "summary": summary(problems)})
    else:
        text = f"{records} record(s) checked, {invalid} invalid"
        if without:  # else an empty file would read as a clean "0 record(s) checked, 0 invalid"
            text += f"; {without} file(s) gave no records to check"
        click.echo(text + ".")
    if problems:
        sys.exit(1)


def _echo(problems: list[dict]) -> None:
    """One file's problems, each on at most SHOWN lines, then how many more lines have it."""
    shown, more = capped(problems, SHOWN)
    for p in shown:
        where = f"{p['file']}:{p['line']}" if p["line"] else p["file"]
        click.echo(f"{where}: {p['message']}", err=True)
    for m in more:
        click.echo(f"{m['file']}: ... and {m['lines']} more lines with the same problem: {m['problem']}", err=True)
