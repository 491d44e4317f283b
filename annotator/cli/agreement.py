"""`annotator iaa`: inter-annotator agreement as a table, JSON, CSV or HTML."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from annotator.cli.common import DB_OPTION, open_project
from annotator.review.agreement import agreement_report
from annotator.review.agreement_formats import as_csv, as_html, as_table


@click.command("iaa")
@DB_OPTION
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "csv", "html"]), default="table", show_default=True
)
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write the report to a file instead of printing it."
)
@click.option("--labels", default=None, help="Comma-separated labels to compare (default: all).")
@click.option("--annotators", default=None, help="Comma-separated annotators (default: every annotator layer).")
def iaa_cmd(db_url, fmt, out_file, labels, annotators):
    """Inter-annotator agreement between annotator layers.

    Span F1 (exact and overlapping), Cohen's and Fleiss' kappa, Krippendorff's alpha on
    token labels, relation and claim agreement, and the documents they disagree on most.
    """
    project = open_project(db_url, labels=False)
    split = lambda v: [x.strip() for x in v.split(",") if x.strip()] if v else None  # noqa: E731
    with project.db.reading() as session:
        try:
            report = agreement_report(session, split(annotators), split(labels))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    if fmt == "json":
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    elif fmt == "csv":
        text = as_csv(report)
    elif fmt == "html":
        text = as_html(report)
    else:
        text = as_table(report)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out_file} ({report['documents']} documents, {len(report['pairs'])} pairs).")
    else:
        click.echo(text)
