"""`annotator labels`: label configurations, checked before a project uses them."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from annotator.cli.output import echo_json
from annotator.labels import config_problems, parse_label_config


@click.group()
def labels() -> None:
    """Label configurations: check one before a project uses it.

    Example:

    \b
      annotator labels check docs/examples/measeval-labels.json
    """


@labels.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the problems (and a summary) as JSON.")
def labels_check(path, as_json):
    """Check a label configuration file; every problem names its field.

    Example: annotator labels check docs/examples/measeval-labels.json
    """
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    except orjson.JSONDecodeError as exc:
        problems, summary = [f"not valid JSON: {exc}"], None
    else:
        problems = config_problems(raw)
        summary = None if problems else _summary(parse_label_config(raw, path))
    if as_json:
        echo_json({"file": path, "valid": not problems, "problems": problems, "summary": summary})
    else:
        for problem in problems:
            click.echo(f"{path}: {problem}", err=True)
        if summary:
            click.echo(f"{path}: valid. {summary['text']}")
        else:
            click.echo(f"{len(problems)} problem(s); the configuration cannot be used as it is.")
    if problems:
        sys.exit(1)


def _summary(config) -> dict:
    scheme = config.claims
    parts = {
        role: getattr(scheme, role)
        for role in ("entity", "property", "condition", "time", "source")
        if getattr(scheme, role)
    }
    text = (
        f"{len(config.entities)} entity labels, {len(config.relations)} relations, {len(config.modifiers)} modifiers. "
    )
    if scheme.quantity:
        text += (
            f"Claims are built on {scheme.quantity} spans"
            + (" with " + ", ".join(f"{role} {label}" for role, label in parts.items()) if parts else "")
            + "."
        )
    else:
        text += "No quantity label: no numeric claims and no quantity pre-highlights."
    return {
        "text": text,
        "entities": list(config.entities),
        "relations": list(config.relations),
        "quantity": scheme.quantity,
        "parts": parts,
    }
