"""The `annotator` command: parses, calls one plain function, prints (or --json)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

DB_OPTION = click.option("--db", "db_url", envvar="DATABASE_URL", metavar="URL",
                         help="Database URL (default: SQLite in the instance folder). Also DATABASE_URL.")


def make_app(db_url: str | None):
    from annotator import create_app
    from annotator.labels import LabelConfigError

    try:
        return create_app({"DATABASE_URL": db_url} if db_url else None)
    except LabelConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def echo_json(data) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="claim-annotator")
def main() -> None:
    """claim annotator: documents in, gold entities, relations and numeric claims out."""


# --- db -------------------------------------------------------------------------------------

@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@DB_OPTION
def db_upgrade(db_url):
    """Create or upgrade the database schema to the current version."""
    from annotator.db import current_revision, get_db, head_revision, upgrade

    app = make_app(db_url)
    database = get_db(app)
    url = database.engine.url.render_as_string(hide_password=False)
    before = current_revision(database.engine)
    upgrade(url)
    after = head_revision(url)
    click.echo(f"Database at revision {after}" + (" (already current)." if before == after else f" (was {before or 'empty'})."))


# --- import ---------------------------------------------------------------------------------

@main.command("import")
@click.argument("paths", nargs=-1, required=True)
@DB_OPTION
@click.option("--layer", default=None, metavar="NAME",
              help="Store the files' annotations in this person's layer (or 'gold'); documents are matched by text "
                   "or created.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "brat", "measeval"]), default=None,
              help="With --layer: jsonl (our export records or Prodigy; the default), brat (.txt + .ann) or measeval (TSV).")
@click.option("--text-dir", type=click.Path(file_okay=False), default=None,
              help="measeval: folder of the docId.txt texts (default: beside the TSV, then ../text/).")
@click.option("--split-discontinuous", is_flag=True,
              help="brat: store each piece of a discontinuous annotation as a span, joined by FRAGMENT relations.")
@click.option("--labels", "label_map", type=click.Path(dir_okay=False), default=None,
              help="With --layer: JSON map of foreign entity, relation and attribute names to the project's.")
@click.option("--replace", is_flag=True, help="With --layer: replace a document's annotations in the layer wholly.")
@click.option("--done", is_flag=True,
              help="With --layer: mark the layers written (or found identical) done; `annotator iaa` counts done "
                   "documents only.")
@click.option("--skip-invalid", is_flag=True, help="Store the valid records of a file and list the rejects.")
@click.option("--no-prehighlight", is_flag=True, help="Store texts and their own pre-annotations only; skip spaCy.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def import_cmd(paths, db_url, layer, fmt, text_dir, split_discontinuous, label_map, replace, done, skip_invalid,
               no_prehighlight, as_json):
    """Import .txt, .md and .jsonl files or directories (recursively); with --layer, import annotations
    (our records, Prodigy, brat, MeasEval) into a layer."""
    from annotator.ingest.pipeline import import_paths
    from annotator.project import labels_of, open_project, prehighlighter_for

    if layer is None and (fmt or text_dir or split_discontinuous or label_map or replace or done):
        raise click.UsageError("--format, --text-dir, --split-discontinuous, --labels, --replace and --done "
                               "need --layer NAME")
    if layer is not None and skip_invalid:
        raise click.UsageError("--skip-invalid does not apply to --layer: a file with a bad record is refused whole")
    app = make_app(db_url)
    database = open_project(app)
    highlighter = None if no_prehighlight else prehighlighter_for(app)
    bar = _ProgressBar(not as_json, "Pre-highlighting" if highlighter else "Importing")
    with bar:
        if layer is not None:
            return _import_layer(database, labels_of(app), highlighter, paths, layer, fmt or "jsonl", text_dir,
                                 split_discontinuous, label_map, replace, done, as_json, bar)
        report = import_paths(database, list(paths), labels_of(app), highlighter, skip_invalid=skip_invalid,
                              on_total=bar.start, progress=bar.update)
    if as_json:
        echo_json({"files": report.files, "new": report.new, "present": report.present,
                   "suggestions": report.suggestions, "refused_files": report.refused_files,
                   "skipped_records": report.skipped_records, "problems": [str(p) for p in report.problems]})
    else:
        for problem in report.problems:
            click.echo(f"error: {problem}" if not skip_invalid else f"rejected: {problem}", err=True)
        click.echo(report.summary())
    if report.refused_files or (report.problems and not skip_invalid):
        sys.exit(1)


def _import_layer(database, labels, highlighter, paths, layer, fmt, text_dir, split_discontinuous, label_map,
                  replace, done, as_json, bar):
    from annotator.ingest.pipeline import ImportRequestError, import_layer

    try:
        report = import_layer(database, list(paths), labels, layer, fmt, replace=replace, label_map=label_map,
                              text_dir=text_dir, split_discontinuous=split_discontinuous, prehighlighter=highlighter,
                              status="done" if done else None, on_total=bar.start, progress=bar.update)
    except ImportRequestError as exc:
        raise click.ClickException(str(exc)) from exc
    bar.finish()
    if as_json:
        echo_json(report.as_json())
    else:
        for problem in report.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(report.summary())
    if report.problems:
        sys.exit(1)


class _ProgressBar:
    """A progress bar on stderr for long imports (20 documents or more), none for --json."""

    def __init__(self, show: bool, label: str):
        self.show, self.label, self.bar = show, label, None

    def __enter__(self):
        return self

    def start(self, total: int) -> None:
        if self.show and total >= 20:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __exit__(self, *exc) -> None:
        self.finish()


# --- export ---------------------------------------------------------------------------------

from annotator.export.publish import FORMATS as EXPORT_FORMATS  # noqa: E402 - the export command's choices


@main.command("export")
@DB_OPTION
@click.option("--layer", default="suggestions", show_default=True, help="suggestions, gold, or an annotator's name.")
@click.option("--name", default=None, help="Export name (folder); defaults to the layer.")
@click.option("--out", "out_dir", default=None, help="Exports folder (default: ./exports).")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True,
              help="jsonl (records), spacy (DocBin), brat (.txt + .ann), measeval (TSV + texts), conll (IOB2).")
@click.option("--split", default=None, metavar="TRAIN/DEV/TEST", help="Stable split by id hash, e.g. 80/10/10.")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def export_cmd(db_url, layer, name, out_dir, fmt, split, as_json):
    """Write a new validated, versioned export of one layer."""
    from annotator.export.publish import ExportError, export
    from annotator.project import labels_of, open_project

    app = make_app(db_url)
    database = open_project(app)
    try:
        result = export(database, labels_of(app), layer, name, out_dir or app.config["EXPORTS_DIR"], fmt, split)
    except ExportError as exc:
        raise click.ClickException(f"{exc}. Nothing was published.") from exc
    if as_json:
        echo_json({"path": str(result.path) if result.path else None, "version": result.version,
                   "unchanged": result.unchanged, "manifest": result.manifest})
    elif result.unchanged:
        click.echo(f"Unchanged since {result.version}: no new version written.")
    else:
        m = result.manifest
        click.echo(f"Wrote {result.path} ({m['documents']} documents, "
                   f"{sum(m['counts']['spans'].values())} spans; {m['changes']['added']} added, "
                   f"{m['changes']['modified']} modified, {m['changes']['removed']} removed since "
                   f"{m['changes']['previous'] or 'nothing'}).")
    left_out = result.left_out.get("not_gold_done")
    if left_out and not as_json:
        click.echo(f"{left_out} document(s) left out: their gold layer is not marked done.")


# --- validate -------------------------------------------------------------------------------

@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate_cmd(files, as_json):
    """Check JSONL files against the record schema; names file:line and the failing field."""
    from annotator.export.validation import validate_file

    problems, records = [], 0
    for path in files:
        found, count = validate_file(Path(path))
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


# --- show / stats ---------------------------------------------------------------------------

@main.command("show")
@click.argument("doc_id")
@DB_OPTION
@click.option("--layer", default="suggestions", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the record exactly as exported.")
def show_cmd(doc_id, db_url, layer, as_json):
    """Print one document record of one layer."""
    from annotator.export.records import get_record
    from annotator.ingest.first_use import settle_all
    from annotator.project import labels_of, open_project

    app = make_app(db_url)
    database = open_project(app)
    # first use: tokens and language of documents imported without the pipeline
    settle_all(database, labels_of(app).quantity_label)
    try:
        with database.reading() as session:
            record = get_record(session, doc_id, layer, labels_of(app).quantity_label)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    if as_json:
        click.echo(orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode())
        return
    click.echo(f"{record['id']}  [{record['lang']}]  {record['meta'].get('title', '')}")
    for span in record["spans"]:
        extra = f"  = {span['value']:g} {span['unit'] or ''} {span['qualifier'] or ''}".rstrip() \
            if span.get("value") is not None else ""
        click.echo(f"  {span['start']:>6}-{span['end']:<6} {span['label']:<10} {span['origin']:<9} {span['text']!r}{extra}")


@main.command("stats")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def stats_cmd(db_url, as_json):
    """Documents, languages, and counts per layer and label."""
    from annotator.project import open_project
    from annotator.stats import project_stats

    app = make_app(db_url)
    with open_project(app).reading() as session:
        stats = project_stats(session)
    if as_json:
        echo_json(stats)
        return
    click.echo(f"Documents: {stats['documents']}")
    click.echo("Languages: " + (", ".join(f"{k} {v}" for k, v in stats["languages"].items()) or "-"))
    for layer, info in stats["layers"].items():
        click.echo(f"Layer {layer}: {info['documents']} documents")
        for label, n in info["labels"].items():
            click.echo(f"  {label:<12} {n}")


# --- users --------------------------------------------------------------------------------

@main.group()
def users() -> None:
    """Accounts: annotators, curators and admins."""


def _read_password(password_file: str | None) -> str:
    """From a file (first line) or a hidden prompt: never from the command line itself."""
    if password_file:
        try:
            return Path(password_file).read_text(encoding="utf-8").splitlines()[0]
        except (OSError, IndexError) as exc:
            raise click.ClickException(f"{password_file}: cannot read a password from it") from exc
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users.command("add")
@click.argument("name")
@DB_OPTION
@click.option("--role", type=click.Choice(["annotator", "curator", "admin"]), default="annotator", show_default=True)
@click.option("--password-file", type=click.Path(dir_okay=False), help="Read the password from this file's first line.")
def users_add(name, db_url, role, password_file):
    """Create an account (the password is prompted for, or read from --password-file)."""
    from annotator.team.accounts import AccountError, create_user
    from annotator.project import open_project

    database = open_project(make_app(db_url))
    password = _read_password(password_file)
    try:
        with database.writing() as session:
            create_user(session, name, role, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {role} {name}.")


@users.command("list")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def users_list(db_url, as_json):
    """List accounts with their role and state."""
    from annotator.team.accounts import list_users
    from annotator.project import open_project

    with open_project(make_app(db_url)).reading() as session:
        rows = [{"name": u.name, "role": u.role, "active": u.active,
                 "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None} for u in list_users(session)]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {row['role']:<10} {'active' if row['active'] else 'deactivated'}")


def _set_active(name, db_url, active):
    from annotator.team.accounts import AccountError, set_active
    from annotator.project import open_project

    try:
        with open_project(make_app(db_url)).writing() as session:
            set_active(session, name, active)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{name} {'reactivated' if active else 'deactivated'}.")


@users.command("deactivate")
@click.argument("name")
@DB_OPTION
def users_deactivate(name, db_url):
    """Stop an account from logging in (its work is kept)."""
    _set_active(name, db_url, False)


@users.command("activate")
@click.argument("name")
@DB_OPTION
def users_activate(name, db_url):
    """Let a deactivated account log in again."""
    _set_active(name, db_url, True)


@users.command("password")
@click.argument("name")
@DB_OPTION
@click.option("--password-file", type=click.Path(dir_okay=False))
def users_password(name, db_url, password_file):
    """Set a new password."""
    from annotator.team.accounts import AccountError, set_password
    from annotator.project import open_project

    database = open_project(make_app(db_url))
    password = _read_password(password_file)
    try:
        with database.writing() as session:
            set_password(session, name, password)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Password of {name} changed.")


# --- assignments ----------------------------------------------------------------------------

@main.command("assign")
@DB_OPTION
@click.option("--annotators", required=True, help="Comma-separated annotator names.")
@click.option("--overlap", "-k", type=int, default=1, show_default=True, help="Annotators per document.")
@click.option("--documents", default=None, help="Comma-separated document ids (default: every document).")
@click.option("--by", default="cli", show_default=True, help="Who is assigning (recorded in the audit trail).")
@click.option("--json", "as_json", is_flag=True)
def assign_cmd(db_url, annotators, overlap, documents, by, as_json):
    """Assign documents to annotators, k per document, balancing the load."""
    from annotator.team.assignments import AssignmentError, assign
    from annotator.project import open_project

    names = [n.strip() for n in annotators.split(",") if n.strip()]
    uids = [u.strip() for u in documents.split(",") if u.strip()] if documents else None
    try:
        with open_project(make_app(db_url)).writing() as session:
            report = assign(session, by, names, overlap, uids)
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json({"documents": report.documents, "created": report.created, "per_annotator": report.per_annotator})
        return
    click.echo(f"{report.created} assignment(s) over {report.documents} document(s): "
               + ", ".join(f"{n} {c}" for n, c in report.per_annotator.items()))


@main.command("reassign")
@DB_OPTION
@click.option("--stale-days", type=float, default=None, help="List assignments untouched for this many days.")
@click.option("--layer", "layer_id", type=int, default=None, help="The assignment (layer id) to hand over.")
@click.option("--to", "to", default=None, help="The annotator who takes it.")
@click.option("--by", default="cli", show_default=True)
def reassign_cmd(db_url, stale_days, layer_id, to, by):
    """List stale assignments, or hand one to another annotator."""
    from datetime import timedelta

    from annotator.team.assignments import AssignmentError, reassign, stale
    from annotator.project import open_project

    database = open_project(make_app(db_url))
    if layer_id is None:
        with database.reading() as session:
            rows = stale(session, timedelta(days=stale_days or 0))
            for layer in rows:
                click.echo(f"{layer.id:>8}  {layer.name:<16} {layer.status:<12} last change {layer.updated_at:%Y-%m-%d %H:%M}")
            click.echo(f"{len(rows)} stale assignment(s).")
        return
    if not to:
        raise click.ClickException("--to NAME is needed with --layer")
    try:
        with database.writing() as session:
            reassign(session, by, layer_id, to)
    except AssignmentError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Assignment {layer_id} handed to {to}.")


# --- agreement --------------------------------------------------------------------------

@main.command("iaa")
@DB_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "html"]), default="table", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False), help="Write the report to a file instead of printing it.")
@click.option("--labels", default=None, help="Comma-separated labels to compare (default: all).")
@click.option("--annotators", default=None, help="Comma-separated annotators (default: every annotator layer).")
def iaa_cmd(db_url, fmt, out_file, labels, annotators):
    """Inter-annotator agreement: span F1, Cohen's/Fleiss' kappa, Krippendorff's alpha, relations, claims."""
    from annotator.review.agreement import agreement_report
    from annotator.review.agreement_formats import as_csv, as_html, as_table
    from annotator.project import open_project

    app = make_app(db_url)
    split = lambda v: [x.strip() for x in v.split(",") if x.strip()] if v else None  # noqa: E731
    with open_project(app).reading() as session:
        try:
            report = agreement_report(session, split(annotators), split(labels))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    if fmt == "json":
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    elif fmt == "csv":
        text = as_csv(report)
    elif fmt == "html":
        text = as_html(report, app.jinja_env)
    else:
        text = as_table(report)
    if out_file:
        Path(out_file).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out_file} ({report['documents']} documents, {len(report['pairs'])} pairs).")
    else:
        click.echo(text)


# --- serve ----------------------------------------------------------------------------------

@main.command("serve")
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (keep 127.0.0.1 unless you mean it).")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--threads", default=2, show_default=True, type=int,
              help="Requests each worker runs at once. A process runs Python in one thread at a time, so more "
                   "threads mostly interleave requests: each takes longer and none is answered sooner.")
@click.option("--dev", is_flag=True, help="Flask's development server with the debugger off.")
@click.option("--no-seed", is_flag=True, help="Do not import the seed articles into an empty database.")
def serve_cmd(db_url, host, port, workers, threads, dev, no_seed):
    """Serve the web app (gunicorn); an empty project gets the seed articles first."""
    from annotator.db import get_db
    from annotator.ingest.pipeline import import_paths
    from annotator.project import labels_of, open_project, prehighlighter_for
    from annotator.stats import project_stats

    app = make_app(db_url)
    database = open_project(app)
    with database.reading() as session:
        empty = project_stats(session)["documents"] == 0
    seeds = app.config["SEEDS_DIR"]
    if empty and not no_seed and Path(seeds).is_dir():
        report = import_paths(database, [seeds], labels_of(app), prehighlighter_for(app))
        click.echo(f"Empty project: imported the seeds. {report.summary()}")
    _announce_setup(app, host, port)
    get_db(app).dispose()  # no connection crosses the fork into the workers
    click.echo(f"Serving on http://{host}:{port}/")
    if dev:
        app.run(host=host, port=port, debug=False)
        return
    from annotator.web.serving import run_gunicorn

    run_gunicorn(app, host, port, workers, threads)


def _announce_setup(app, host: str, port: int) -> None:
    """Without an admin nobody can log in: print a one-time link that creates the first one."""
    from annotator.web.auth import issue_setup_token

    token = issue_setup_token(app)
    if token:
        app.extensions["annotator.setup_token"] = True
        click.echo("No admin account yet. Create the first admin at this one-time link:\n"
                   f"  http://{host}:{port}/setup/{token}\n"
                   "(or stop the server and run `annotator users add NAME --role admin`).")


if __name__ == "__main__":  # pragma: no cover
    main()
