"""`annotator iaa`: inter-annotator agreement as a table, JSON, CSV or HTML."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from annotator.cli.common import DB_OPTION, open_project
from annotator.review.agreement import agreement_report
from annotator.review.agreement_formats import as_csv, as_html, as_table
from annotator.review.charts import agreement_by_day


def _names(values) -> list[str] | None:
    """Repeated values, each of which may be a comma list; None (every one) if there are none."""
    names = [n.strip() for value in values for n in value.split(",") if n.strip()]
    return names or None


@click.command("iaa")
@DB_OPTION
@click.option(
    "--format",
    "fmt",
    # json stays accepted for scripts written before --json; the help names only the others
    type=click.Choice(["table", "json", "csv", "html"]),
    default="table",
    show_default=True,
    metavar="[table|csv|html]",
    help="How to print the report (for JSON, --json).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write the report to a file instead of printing it."
)
@click.option(
    "--label",
    "label_values",
    multiple=True,
    metavar="LABEL",
    help="A label to compare; repeat it, or give a comma list (default: every label).",
)
# the old name, kept hidden: import's --labels was a label map file, so it meant two things
@click.option("--labels", "old_labels", default=None, hidden=True)
@click.option("--annotators", default=None, metavar="NAME,NAME", help="Comma-separated annotators (default: all).")
def iaa_cmd(db_url, fmt, as_json, out_file, label_values, old_labels, annotators):
    """Inter-annotator agreement between annotator layers.

    Span F1 (exact and overlapping), Cohen's and Fleiss' kappa, Krippendorff's alpha on
    token labels, relation and claim agreement, and the documents they disagree on most.

    Example:

    \b
      annotator iaa --label ORG --label PRODUCT --json
      annotator iaa --format html --out agreement.html
    """
    if as_json and fmt not in ("table", "json"):
        raise click.UsageError(f"--json and --format {fmt} cannot go together")
    fmt = "json" if as_json else fmt
    if old_labels is not None:
        # not with JSON on stdout: tools that merge the two streams would read the note as JSON
        if fmt != "json" or out_file:
            click.echo("note: --labels is now --label (repeatable, or a comma list); --labels will go.", err=True)
        label_values = (*label_values, old_labels)
    project = open_project(db_url, labels=False)
    with project.db.reading() as session:
        try:
            chosen, labels = _names([annotators] if annotators else []), _names(label_values)
            # html draws every document in its histogram and agreement per day
            report = agreement_report(session, chosen, labels, top=None if fmt == "html" else 10)
            days = agreement_by_day(session, chosen, labels) if fmt == "html" else None
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    if fmt == "json":
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    elif fmt == "csv":
        text = as_csv(report)
    elif fmt == "html":
        text = as_html(report, days)
    else:
        text = as_table(report)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out_file} ({report['documents']} documents, {len(report['pairs'])} pairs).")
    else:
        click.echo(text)
