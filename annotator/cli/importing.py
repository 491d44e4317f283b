"""`annotator import`: documents, or annotations made elsewhere into a layer."""

from __future__ import annotations

import sys

import click

from annotator.cli.common import DB_OPTION, ProgressBar, interrupt_once, model_for, open_project
from annotator.cli.conventions import EXIT_INTERRUPTED, detail, say
from annotator.cli.output import echo_json
from annotator.ingest.pipeline import LAYER_FORMATS, ImportRequestError, import_layer, import_paths, settling_ahead


@click.command("import")
@click.argument("paths", nargs=-1, required=True)
@DB_OPTION
@click.option(
    "--layer",
    default=None,
    metavar="NAME",
    help="Store the files' annotations in this person's layer (or 'gold'); documents are matched by text or created.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(LAYER_FORMATS),
    default=None,
    help="With --layer: jsonl (our export records or Prodigy; the default), brat (.txt + .ann) or measeval (TSV).",
)
@click.option(
    "--text-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="measeval: folder of the docId.txt texts (default: beside the TSV, then ../text/).",
)
@click.option(
    "--split-discontinuous",
    is_flag=True,
    help="brat: store each piece of a discontinuous annotation as a span, joined by FRAGMENT relations.",
)
@click.option(
    "--label-map",
    "label_map",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON map of foreign entity, relation and attribute names to the project's.",
)
# its old name, kept hidden: beside iaa's labels to compare, "--labels" meant two things
@click.option("--labels", "old_label_map", type=click.Path(dir_okay=False), default=None, hidden=True)
@click.option("--replace", is_flag=True, help="With --layer: replace a document's annotations in the layer wholly.")
@click.option(
    "--done",
    is_flag=True,
    help="With --layer: mark the layers written (or found identical) done; `annotator iaa` counts done documents only.",
)
@click.option("--skip-invalid", is_flag=True, help="Store the valid records of a file and list the rejects.")
@click.option("--no-prehighlight", is_flag=True, help="Store texts and their own pre-annotations only; skip spaCy.")
@click.option(
    "--tokenize-later",
    is_flag=True,
    help="With --no-prehighlight: leave each new document's tokens for first use "
    "(the quickest import; the first export or workspace then works them out). "
    "Languages are still detected at import.",
)
@click.option(
    "--model",
    "model_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Pre-highlight with this trained model (an `annotator train --out` folder) plus the rules "
    "(default: the project's active model, if any).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_cmd(
    paths,
    db_url,
    layer,
    fmt,
    text_dir,
    split_discontinuous,
    label_map,
    old_label_map,
    replace,
    done,
    skip_invalid,
    no_prehighlight,
    tokenize_later,
    model_dir,
    as_json,
):
    """Import documents, or annotations into a layer.

    .txt, .md and .jsonl files or directories (recursively) are imported as documents; with
    --layer, annotations (our records, Prodigy, brat, MeasEval) go into that layer.

    Example:

    \b
      annotator import seeds/
      annotator import --layer alice --format brat --label-map map.json corpus/
    """
    if old_label_map:
        say("note: --labels is now --label-map (a label map file); --labels will go in a later version.")
        label_map = label_map or old_label_map
    if layer is None and (fmt or text_dir or split_discontinuous or replace or done):
        raise click.UsageError("--format, --text-dir, --split-discontinuous, --replace and --done need --layer NAME")
    if layer is not None and skip_invalid:
        raise click.UsageError("--skip-invalid does not apply to --layer: a file with a bad record is refused whole")
    if no_prehighlight and model_dir:
        raise click.UsageError("--model pre-highlights: it cannot go with --no-prehighlight")
    if tokenize_later and not no_prehighlight:
        raise click.UsageError("--tokenize-later goes with --no-prehighlight (pre-highlighting tokenizes)")
    options = {
        "layer": layer,
        "fmt": fmt,
        "text_dir": text_dir,
        "split_discontinuous": split_discontinuous,
        "label_map": label_map,
        "replace": replace,
        "status": "done" if done else None,
        "skip_invalid": skip_invalid,
        "settle": not tokenize_later,
    }
    with interrupt_once():
        try:
            report = _import(paths, db_url, no_prehighlight, model_dir, as_json, options)
        except KeyboardInterrupt:  # before anything was stored (reading files, loading the model)
            click.echo("Interrupted: nothing stored.", err=True)
            sys.exit(EXIT_INTERRUPTED)
    if as_json:
        echo_json(report.as_json())
    else:
        echo_report(report)
    if report.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    # --skip-invalid leaves bad records out; a path that cannot be read, or an import that
    # read nothing at all, still fails
    if report.failed:
        sys.exit(1)


def _import(paths, db_url, no_prehighlight: bool, model_dir, as_json: bool, options: dict):
    project = open_project(db_url)
    # the settling workers fork before the database is opened (or created) and load the
    # tokenizer meanwhile
    ahead = settling_ahead(project.config["DATABASE_URL"], paths, options["settle"], not no_prehighlight)
    with ahead as pool:
        return _open_and_run(project, paths, no_prehighlight, model_dir, as_json, options, pool)


def _open_and_run(project, paths, no_prehighlight: bool, model_dir, as_json: bool, options: dict, pool):
    detail(f"database: {project.db.engine.url.render_as_string(hide_password=True)}")
    highlighter = None if no_prehighlight else project.prehighlighter(model_for(project, model_dir))
    if highlighter:
        model = highlighter.model
        detail(
            f"pre-highlighting: spaCy {highlighter.model_en} for English, rules {highlighter.rules_version}, "
            f"{'model ' + model.name + ' ' + str(model.version) if model else 'no trained model'}, "
            f"{highlighter.processes} process(es) from {highlighter.multiprocess_min_docs} documents"
        )
    for warning in highlighter.warnings() if highlighter else ():
        say(f"warning: {warning}")
    bar = ProgressBar(not as_json, "Pre-highlighting" if highlighter else "Importing")
    try:
        with bar:
            return _run(project, list(paths), highlighter, bar, pool=pool, **options)
    except ImportRequestError as exc:
        raise click.ClickException(str(exc)) from exc


def _run(project, paths, highlighter, bar, *, pool, layer, fmt, skip_invalid, label_map, settle, **layer_options):
    common = {"on_total": bar.start, "progress": bar.update, "settle": settle, "pool": pool}
    if layer is None:
        return import_paths(
            project.db, paths, project.labels, highlighter, skip_invalid=skip_invalid, label_map=label_map, **common
        )
    return import_layer(
        project.db,
        paths,
        project.labels,
        layer,
        fmt or "jsonl",
        label_map=label_map,
        prehighlighter=highlighter,
        **layer_options,
        **common,
    )


def echo_report(report) -> None:
    set_aside = {id(p) for p in report.rejected}
    for problem in report.problems:
        click.echo(f"{'rejected' if id(problem) in set_aside else 'error'}: {problem}", err=True)
    for path, reason in report.skipped_files:
        say(f"skipped: {path}: {reason}")
    click.echo(report.summary())
