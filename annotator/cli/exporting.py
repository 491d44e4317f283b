"""`annotator export`: versioned exports of one layer."""

from __future__ import annotations

import re
import sys

import click

from annotator.cli.common import DB_OPTION, LAYER_OPTION, ProgressBar, interrupt_once, open_project
from annotator.cli.conventions import EXIT_INTERRUPTED, detail, say
from annotator.cli.output import echo_json
from annotator.export.publish import FORMATS, ExportError, export


def check_split(ctx, param, spec: str | None) -> str | None:
    """Shares that do not add up to 100 were once rescaled without a word: say so instead.
    (A spec that is not three shares is the export's own error, as before.)"""
    if not spec:
        return spec
    try:
        shares = [float(p) for p in re.split(r"[/,:]", spec)]
    except ValueError:
        return spec
    if len(shares) == 3 and abs(sum(shares) - 100) > 1e-9:
        raise click.BadParameter(f"{spec!r}: the shares add up to {sum(shares):g}; they must add up to 100")
    return spec


@click.command("export")
@DB_OPTION
@LAYER_OPTION
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
@click.option(
    "--split",
    default=None,
    metavar="TRAIN/DEV/TEST",
    callback=check_split,
    help="Stable split by id hash, shares adding up to 100, e.g. 80/10/10.",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build and compare every record even when the project has not changed since the latest version.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def export_cmd(db_url, layer, name, out_dir, fmt, split, rebuild, as_json):
    """Write a new validated, versioned export of one layer.

    Example:

    \b
      annotator export --layer gold --format spacy --split 80/10/10
      annotator validate exports/gold/latest/data.jsonl
    """
    project = open_project(db_url)
    out_dir = out_dir or project.config["EXPORTS_DIR"]
    detail(f"database: {project.db.engine.url.render_as_string(hide_password=True)}; writing under {out_dir}")
    try:
        with interrupt_once(), ProgressBar(not as_json, "Exporting") as bar:
            result = export(
                project.db,
                project.labels,
                layer,
                name,
                out_dir,
                fmt,
                split,
                progress=bar.update,
                on_total=bar.start,
                rebuild=rebuild,
            )
    except KeyboardInterrupt:  # the version was being assembled in a hidden folder: it is gone
        click.echo("Interrupted: nothing was published.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except ExportError as exc:
        raise click.ClickException(f"{exc}. Nothing was published.") from exc
    if as_json:
        echo_json(
            {
                "path": str(result.path) if result.path else None,
                "version": result.version,
                "unchanged": result.unchanged,
                "format": fmt,
                "added_format": result.added_format,
                "built_records": result.built,
                "manifest": result.manifest,
            }
        )
        return
    click.echo(summary(result, fmt))
    if not result.built:
        say("No record was built; --rebuild builds and compares every record.")
    left_out = result.left_out.get("not_gold_done")
    if left_out:
        click.echo(f"{left_out} document(s) left out: their gold layer is not marked done.")
    if fmt == "spacy" and result.path:
        for line in spacy_next_step(result):
            click.echo(line)


def summary(result, fmt: str) -> str:
    m = result.manifest
    if result.unchanged and not result.built:
        return (
            f"Unchanged since {result.version} ({fmt} is there already): no new version written. Nothing in the "
            "project changed since that version was checked."
        )
    if result.unchanged:
        return f"Unchanged since {result.version} ({fmt} is there already): no new version written."
    if result.added_format:
        return f"Added {fmt} to {result.path}: the data is unchanged since {result.version}, so no new version."
    return (
        f"Wrote {result.path} as {fmt} ({m['documents']} documents, "
        f"{sum(m['counts']['spans'].values())} spans; {m['changes']['added']} added, "
        f"{m['changes']['modified']} modified, {m['changes']['removed']} removed since "
        f"{m['changes']['previous'] or 'nothing'})."
    )


def spacy_next_step(result) -> list[str]:
    """The `spacy train` command for the config the export wrote, or how to get one."""
    config = result.manifest["spacy"].get("config")
    if config is None:
        return ["To train a spaCy model, export with --split (e.g. 80/10/10): that also writes a config.cfg."]
    where = result.path
    lines = [
        f"Train a spaCy model ({', '.join(config['pipeline'])}, language {config['lang']!r}):",
        f"  python -m spacy train {where / config['file']} --paths.train {where / 'train.spacy'} "
        f"--paths.dev {where / 'dev.spacy'} --output models/{where.parent.name}-spacy",
    ]
    if not config["documents"]["dev"] or not config["documents"]["train"]:
        lines.append("warning: train or dev holds no documents; spacy train needs both (change the split).")
    if len(config["languages"]) > 1:
        lines.append(
            f"note: {len(config['languages'])} languages in one DocBin ({', '.join(config['languages'])}): "
            "the config is spaCy's multi-language 'xx' (docs/spacy.md: one model per language)."
        )
    return lines
